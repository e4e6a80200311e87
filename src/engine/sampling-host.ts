/**
 * The engine's one sampling run at a time: starts it (cancelling the one before), pauses, resumes
 * and cancels it at step boundaries, and keeps the measured peak memory of a sampling step for the
 * batch it was measured at (the denoiser's batch: n images, or 2n with classifier-free guidance).
 */
import type { NoiseSchedule, PredictionType } from '../diffusion';
import type { DiffusionModel } from '../models/diffusion-model';
import type { WorkerToPage } from '../protocol/messages';
import type { SamplingConfig } from '../sampling/config';
import { RunControl } from './run-control';
import { runSampling } from './sampling-run';
import type { RunState } from './run-config';

export class SamplingHost {
  private current: RunControl | null = null;
  private done: Promise<void> = Promise.resolve();
  private peak: number | null = null;
  private peakKey = '';

  constructor(
    private readonly post: (message: WorkerToPage) => void,
    private readonly onPeakMeasured: () => void,
  ) {}

  /** Peak tensor bytes of a sampling step, once measured (null until then or after a new model). */
  get peakBytes(): number | null {
    return this.peak;
  }

  forgetPeak(): void {
    this.peak = null;
  }

  /** Cancels the run in progress, if any, and waits until it has freed its tensors. */
  async stop(): Promise<void> {
    this.current?.cancel();
    await this.done;
  }

  /** Starts a run on `model` (the previous one must be stopped first); its states go to the page. */
  start(model: DiffusionModel, schedule: NoiseSchedule, prediction: PredictionType, config: SamplingConfig, run: number): void {
    if (model.kind === 'latent' && model.latent == null) {
      this.post({ type: 'error', source: 'sample', message: 'This latent model has no trained autoencoder yet: train stage 1 (autoencoder) first, then the denoiser.' });
      this.post({ type: 'sample/state', state: 'idle' });
      return;
    }
    const control = new RunControl();
    this.current = control;
    this.post({ type: 'sample/state', state: 'running' });
    const guided = config.guidance !== 0 && config.guidance !== 1 && (model.denoiser.config.numClasses ?? 0) > 0;
    const key = `${config.numImages * (guided ? 2 : 1)}`;
    const measure = this.peak == null || key !== this.peakKey;
    this.done = runSampling({
      model,
      schedule,
      prediction,
      config,
      control,
      post: this.post,
      run,
      onPeakBytes: measure
        ? (bytes) => {
            this.peak = bytes;
            this.peakKey = key;
            this.onPeakMeasured();
          }
        : undefined,
    })
      .then(...settleRun(this.post, 'sample'))
      .finally(() => {
        if (this.current === control) this.current = null;
      });
  }

  /** Pause / resume / cancel; with no run (it just ended) the page is told it is idle. */
  control(type: 'sample/pause' | 'sample/resume' | 'sample/cancel'): void {
    controlRun(this.current, type, this.post);
  }
}

/** What a run's promise turns into for the page: its final state, or an error from `source` and 'idle'. */
export function settleRun(post: (message: WorkerToPage) => void, source: 'sample' | 'edit'): [(state: RunState) => void, (err: unknown) => void] {
  return [
    (state) => post({ type: 'sample/state', state }),
    (err) => {
      post({ type: 'error', source, message: err instanceof Error ? err.message : String(err) });
      post({ type: 'sample/state', state: 'idle' });
    },
  ];
}

/** Pause / resume / cancel a run that streams into the player; with no run (it just ended) the page is told it is idle. */
export function controlRun(run: RunControl | null, type: 'sample/pause' | 'sample/resume' | 'sample/cancel', post: (message: WorkerToPage) => void): void {
  if (run == null) return post({ type: 'sample/state', state: 'idle' });
  if (type === 'sample/cancel') return run.cancel(); // the run posts 'idle' when it stops
  if (type === 'sample/pause') run.pause();
  else run.resume();
  post({ type: 'sample/state', state: run.state === 'paused' ? 'paused' : 'running' });
}
