/**
 * What the page shows of training, kept out of React state: the loss curve (./loss-history.ts), the
 * denoiser's loss by band of timesteps (./loss-bands.ts), and the run's progress figures, written to
 * the store at most once per PROGRESS_FLUSH_MS however often the worker reports.
 */
import type { TrainingStage } from '../engine/run-config';
import type { FrameStore } from './frames';
import { LossBands } from './loss-bands';
import { LossHistory } from './loss-history';
import { IDLE_TRAIN, type AppStore, type TrainRun } from './store';

/** Store updates from training progress are coalesced to at most one per this many ms. */
export const PROGRESS_FLUSH_MS = 200;

/** The figures of one progress message (its last loss is read from the history). */
export type Progress = Pick<TrainRun, 'step' | 'totalSteps' | 'stepsPerSec' | 'etaSec'>;

/** A denoiser step's per-item timesteps and losses, for the bands (`T`: the schedule's length). */
export interface BandLosses {
  timesteps: Int32Array;
  losses: Float32Array;
  T: number;
}

export class TrainingView {
  readonly loss = new LossHistory();
  readonly lossBands = new LossBands();
  /** The latest progress not yet in the store, and whether a flush has something to write. */
  private pending: (Progress & { lastLoss: number | null }) | null = null;
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly store: AppStore,
    private readonly frames: FrameStore,
  ) {}

  clearLoss(): void {
    this.loss.clear();
    this.lossBands.clear();
  }

  /** Starts the view over: no loss curve, idle run counters, no training previews or reconstructions. */
  clear(): void {
    this.clearLoss();
    this.store.setState((s) => ({ train: { ...IDLE_TRAIN, lossVersion: s.train.lossVersion + 1 } }));
    this.frames.setState((f) => ({
      ...(f.mode === 'preview' ? { mode: 'empty' as const, main: null, x0: null } : {}),
      reconOriginals: null,
      reconImages: null,
      reconStep: null,
      seq: f.seq + 1,
    }));
  }

  /** Adds a progress message's losses to the curve (and its per-item losses to the bands). */
  append(steps: Int32Array, losses: Float32Array, bands: BandLosses | null): void {
    this.loss.append(steps, losses);
    if (bands) this.lossBands.add(bands.timesteps, bands.losses, bands.T);
  }

  /** Holds the figures of a progress message for the next flush (the curve's last loss with them). */
  progress(p: Progress): void {
    const last = this.loss.last();
    this.pending = { ...p, lastLoss: last ? last.loss : null };
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, PROGRESS_FLUSH_MS);
  }

  /** Writes the held figures and the curve's length to the store, and bumps `lossVersion` for the chart. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const p = this.pending;
    this.pending = null;
    this.store.setState((s) => ({
      train: {
        ...s.train,
        ...(p ?? {}),
        lossPoints: this.loss.length,
        lossVersion: s.train.lossVersion + 1,
      },
    }));
  }

  /** The loss curve, replaced by the engine's history (after a restore or a roll-back). */
  replaceHistory(stage: TrainingStage, steps: Int32Array, losses: Float32Array): void {
    this.clearLoss();
    this.loss.append(steps, losses);
    const last = this.loss.last();
    this.store.setState((s) => ({ train: { ...s.train, lossStage: stage, lossPoints: this.loss.length, lossVersion: s.train.lossVersion + 1, lastLoss: last ? last.loss : null } }));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
