/**
 * The 2D lab's page side (issue 17): its store (settings, training, the latest field and density,
 * quality rows), its requests to the worker, and what it makes of the worker's 'lab/*' messages.
 * The loss history and the two particle runs are typed arrays beside the store.
 */
import type { LabSampleRequest, LabToPage, LabToWorker } from '../../protocol/lab-messages';
import { LossBands } from '../loss-bands';
import { LossHistory } from '../loss-history';
import { createLabStore, IDLE_QUALITY, IDLE_TRAIN, type LabStore } from './lab-store';
import {
  extentOf,
  fieldKindOf,
  gridOf,
  MIN_DRAWN_POINTS,
  paneProblem,
  setupOf,
  trainingOf,
  trainProblem,
  workerTime,
  type LabSettings,
} from './lab-settings';
import { ParticleRecord } from './particle-record';
import { LatestRequest } from './latest-request';
import { presetSettings, type LabPresetChoice } from './lab-presets';
import { decodeLab } from './lab-url';
import { qualityRequestOf } from './lab-quality';

export type { LabState } from './lab-store';
export type PaneId = 'a' | 'b';

/** Settings that make a new model (and so a 'lab/setup'); the rest are training or view settings. */
const SETUP_KEYS = ['data', 'count', 'dataSeed', 'components', 'objective', 'prediction', 'minSnr', 'schedule', 'T', 'width', 'depth', 'modelSeed'] as const;

/** Grid sizes of the views. */
export const FIELD_GRID = 21;
export const DENSITY_GRID = 96;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class LabClient {
  readonly store: LabStore = createLabStore();
  readonly loss = new LossHistory();
  readonly lossBands = new LossBands();
  readonly records: Readonly<Record<PaneId, ParticleRecord>> = { a: new ParticleRecord(), b: new ParticleRecord() };

  private sentSetup: string | null = null;
  private drawnVersion = 0;
  private nextId = 1;
  private readonly fields = new LatestRequest(() => this.sendView('field'), now);
  private readonly densities = new LatestRequest(() => this.sendView('density'), now);
  /** Panes waiting to sample after the run in flight. */
  private queue: { pane: PaneId; request: LabSampleRequest }[] = [];
  private sampling: { run: number; pane: PaneId } | null = null;
  private runningSince: number | null = null;

  constructor(private readonly send: (message: LabToWorker) => void) {}

  get settings(): LabSettings {
    return this.store.getState().settings;
  }

  /** The engine is ready: the worker gets the current setup (once; later changes send their own). */
  connect(): void {
    if (this.store.getState().connected) return;
    this.store.setState({ connected: true });
    this.syncSetup();
  }

  /** The engine stopped (a crash, a restart): its lab model is gone; the next connect sends the setup again. */
  disconnect(): void {
    if (!this.store.getState().connected) return;
    this.sentSetup = null;
    this.dropQueue();
    this.sampling = null;
    this.fields.reset(this.nextId - 1);
    this.densities.reset(this.nextId - 1);
    this.clearTraining();
    this.store.setState({ connected: false, model: null, quality: IDLE_QUALITY });
  }

  /** Changes settings; a change to the data, objective or model sends a new setup (fresh weights). */
  update(patch: Partial<LabSettings>, preset?: string): void {
    const before = this.settings;
    const settings = { ...before, ...patch };
    // The preset's note (and its alternatives) stays up while its settings are adjusted.
    this.store.setState((s) => ({ settings, preset: preset ?? s.preset, notice: null }));
    if (SETUP_KEYS.some((k) => before[k] !== settings[k])) this.syncSetup();
  }

  /** A preset (or one of its alternatives): every setting from the defaults and its own values. */
  applyPreset(choice: LabPresetChoice, name = choice.name): void {
    this.update(presetSettings(choice), name);
  }

  /** A link's `lab.*` settings, applied once before the engine starts; unusable values become a notice. */
  applyUrl(search: string): void {
    const { settings, notes } = decodeLab(search);
    this.update(settings);
    if (notes.length > 0) this.store.setState({ notice: notes.join(' ') });
  }

  /** The points sprayed so far (the drawing canvas's own state, kept here across re-renders). */
  setSketch(points: Float32Array): void {
    this.store.setState({ sketch: points });
  }

  /** "Use these points": the sketch becomes the data set. */
  useSketch(): void {
    const { sketch } = this.store.getState();
    const n = sketch.length / 2;
    if (n < MIN_DRAWN_POINTS) return this.store.setState({ notice: `Draw at least ${MIN_DRAWN_POINTS} points first (you have ${n}).` });
    this.drawnVersion++;
    this.store.setState({ drawn: Float32Array.from(sketch), notice: null });
    return this.settings.data !== 'drawn' ? this.update({ data: 'drawn' }) : this.syncSetup();
  }

  train(): void {
    const s = this.store.getState();
    const problem = trainProblem(s.settings, s.drawn);
    if (problem) return this.store.setState({ notice: problem });
    this.syncSetup();
    const training = trainingOf(s.settings);
    this.store.setState((st) => ({ notice: null, error: null, train: { ...st.train, totalSteps: training.steps } }));
    this.send({ type: 'lab/train/start', training });
  }

  pause = (): void => this.send({ type: 'lab/train/pause' });

  /** Fresh weights for the same setup. */
  reset(): void {
    this.send({ type: 'lab/train/reset' });
    this.clearTraining();
  }

  /** Samples every pane whose sampler fits the objective, one after the other, from the same seed. */
  sample(panes: PaneId[] = ['a', 'b']): void {
    const s = this.store.getState();
    const exact = s.data?.exact ?? false;
    const usable = panes.filter((p) => paneProblem(s.settings, s.settings[p], exact) === null);
    if (usable.length === 0) {
      const first = panes.map((p) => paneProblem(s.settings, s.settings[p], exact)).find((m) => m !== null);
      return this.store.setState({ notice: first ?? 'Nothing to sample.' });
    }
    const problem = trainProblem(s.settings, s.drawn);
    if (problem) return this.store.setState({ notice: problem });
    this.syncSetup();
    if (this.sampling) this.send({ type: 'lab/sample/cancel' });
    this.sampling = null;
    // Every pane of this press starts its record now (so the player shows no stale run), then samples in turn.
    this.dropQueue();
    this.queue = usable.map((pane) => {
      const p = s.settings[pane];
      const run = this.nextId++;
      this.records[pane].begin(run, p, s.settings.objective);
      return { pane, request: { run, sampler: p.sampler, steps: p.steps, count: s.settings.particles, seed: s.settings.sampleSeed, denoiser: p.denoiser } };
    });
    this.store.setState((st) => ({ notice: null, sampleBatch: st.sampleBatch + 1 }));
    this.nextSample();
  }

  cancelSampling(): void {
    this.dropQueue();
    if (this.sampling) this.send({ type: 'lab/sample/cancel' });
  }

  /** Asks for the field at the view's t (one request in flight; the newest answer is kept). */
  requestField(): number | null {
    return this.fields.ask();
  }

  /** Asks for the density of q(x_t) at the view's t (as requestField). */
  requestDensity(): number | null {
    return this.densities.ask();
  }

  /** Quality against model evaluations for the objective's samplers, learned (and exact for mixtures). */
  measureQuality(steps: number[] = [5, 10, 20, 50]): void {
    const s = this.store.getState();
    const problem = trainProblem(s.settings, s.drawn);
    if (problem) return this.store.setState({ notice: problem });
    this.syncSetup();
    const request = qualityRequestOf(s.settings, s.data?.exact ?? false, this.nextId++, steps);
    this.store.setState({ quality: { ...IDLE_QUALITY, id: request.id, state: 'running' }, notice: null });
    this.send({ type: 'lab/quality', request });
  }

  cancelQuality(): void {
    this.send({ type: 'lab/quality/cancel' });
  }

  onMessage(message: LabToPage): void {
    switch (message.type) {
      case 'lab/data':
        return this.store.setState({ data: { points: message.points, exact: message.exact, components: message.components, extent: extentOf(message.points) } });
      case 'lab/model':
        if (message.step === 0) this.clearTraining();
        return this.store.setState((s) => ({ model: { paramCount: message.paramCount, step: message.step }, train: { ...s.train, step: message.step } }));
      case 'lab/train/state':
        return this.onTrainState(message.state, message.step);
      case 'lab/train/progress':
        return this.onProgress(message);
      case 'lab/sample/steps':
        for (const r of Object.values(this.records)) if (r.run === message.run) r.add(message);
        return;
      case 'lab/sample/state':
        for (const r of Object.values(this.records)) r.finish(message.run, message.state, message.elapsedMs);
        if (message.state !== 'running' && this.sampling?.run === message.run) {
          this.sampling = null;
          if (message.state === 'done') this.nextSample();
          else this.dropQueue();
        }
        return;
      case 'lab/field':
        if (this.fields.answered(message.id)) this.store.setState({ field: { id: message.id, t: message.t, kind: message.kind, grid: message.grid, learned: message.learned, exact: message.exact } });
        return;
      case 'lab/density':
        if (this.densities.answered(message.id)) this.store.setState({ density: { id: message.id, t: message.t, grid: message.grid, density: message.density } });
        return;
      case 'lab/quality/row':
        return this.store.setState((s) =>
          s.quality.id === message.id ? { quality: { ...s.quality, rows: [...s.quality.rows, message.row], done: message.done, total: message.total } } : {},
        );
      case 'lab/quality/state':
        return this.store.setState((s) => (s.quality.id === message.id ? { quality: { ...s.quality, state: message.state } } : {}));
      case 'lab/error':
        // A failed request ends what waited on it: a sampling queue, a running sweep.
        this.dropQueue();
        this.sampling = null;
        return this.store.setState((s) => ({ error: message.message, quality: s.quality.state === 'running' ? { ...s.quality, state: 'cancelled' } : s.quality }));
    }
  }

  /** Sends the setup if the settings changed since the last one (a new model: fresh weights). */
  private syncSetup(): void {
    const s = this.store.getState();
    if (!s.connected) return;
    // Bad input (too few drawn points, a width of 0) waits for the user: Train says what is wrong.
    if (trainProblem(s.settings, s.drawn)) return;
    const setup = setupOf(s.settings, s.drawn);
    const key = JSON.stringify({ ...setup, data: { ...setup.data, points: setup.data.points ? this.drawnVersion : undefined } });
    if (key === this.sentSetup) return;
    this.sentSetup = key;
    this.fields.reset(this.nextId - 1);
    this.densities.reset(this.nextId - 1);
    this.clearTraining();
    this.store.setState({ model: null, field: null, density: null, quality: IDLE_QUALITY, error: null });
    this.send({ type: 'lab/setup', setup });
  }

  /** A field or density request for the view's t, on a grid over the data's square; returns its id. */
  private sendView(kind: 'field' | 'density'): number {
    const s = this.settings;
    const extent = this.store.getState().data?.extent ?? extentOf(null);
    const id = this.nextId++;
    const t = workerTime(s, s.tView);
    if (kind === 'field') this.send({ type: 'lab/field', id, t, kind: fieldKindOf(s), grid: gridOf(extent, FIELD_GRID) });
    else this.send({ type: 'lab/density', id, t, grid: gridOf(extent, DENSITY_GRID) });
    return id;
  }

  private nextSample(): void {
    const next = this.queue.shift();
    if (!next) return;
    this.sampling = { run: next.request.run, pane: next.pane };
    this.send({ type: 'lab/sample', request: next.request });
  }

  /** Panes waiting for their turn will not sample: their records say so. */
  private dropQueue(): void {
    for (const { pane, request } of this.queue) this.records[pane].finish(request.run, 'cancelled', 0);
    this.queue = [];
  }


  private onTrainState(state: 'idle' | 'running' | 'paused' | 'done', step: number): void {
    const t = now();
    const add = this.runningSince !== null ? (t - this.runningSince) / 1000 : 0;
    this.runningSince = state === 'running' ? t : null;
    this.store.setState((s) => ({ train: { ...s.train, state, step, seconds: s.train.seconds + add } }));
  }

  private onProgress(m: Extract<LabToPage, { type: 'lab/train/progress' }>): void {
    this.loss.append(m.steps, m.losses);
    const T = this.settings.objective === 'flow' ? 1000 : this.settings.T;
    this.lossBands.add(m.itemTimesteps, m.itemLosses, T);
    const t = now();
    const add = this.runningSince !== null ? (t - this.runningSince) / 1000 : 0;
    if (this.runningSince !== null) this.runningSince = t;
    this.store.setState((s) => ({
      train: { ...s.train, step: m.step, totalSteps: m.totalSteps, stepsPerSec: m.stepsPerSec, etaSec: m.etaSec, lossVersion: s.train.lossVersion + 1, seconds: s.train.seconds + add },
    }));
  }

  private clearTraining(): void {
    this.loss.clear();
    this.lossBands.clear();
    this.runningSince = null;
    this.store.setState((s) => ({ train: { ...IDLE_TRAIN, lossVersion: s.train.lossVersion + 1 } }));
  }
}
