/**
 * The page's side of the worker: creates the engine worker, sends typed PageToWorker messages and
 * reduces WorkerToPage messages into the app store (counters and settings), the frame store
 * (images) and the loss history (typed arrays). React never sees a frame or a loss array directly.
 */
import { requestTransferables, type PageToWorker, type WorkerToPage } from '../protocol/messages';
import type { ModelFile } from '../io/model-file';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import type { PretrainedInfo } from '../io/pretrained-info';
import type { SamplingConfig } from '../sampling/config';
import type { TrainingStage } from '../engine/run-config';
import { presetAttention } from '../models/setup/model-setup';
import { LossHistory } from './loss-history';
import { LossBands } from './loss-bands';
import { createFrameStore, type FrameStore } from './frames';
import { DenoisingRecord } from './denoising-record';
import { applyCompareMessage, compareReport, createCompareStore, type CompareStore } from './compare';
import {
  createAppStore,
  DEFAULT_TRAINING,
  initialState,
  IDLE_SAMPLE,
  IDLE_TRAIN,
  modelIsTrained,
  stageSteps,
  type AppState,
  type AppStore,
  type ExportedFile,
  type TrainingForm,
} from './store';
import { parseBackendParam, parsePretrainedParam, parseStreamParam } from './url';
import { setupProblem } from './validate';
import { Recovery } from './recovery';
import { installTestHooks } from './test-hooks';

/** How many real digits the Data panel shows. */
export const DATA_PREVIEW_COUNT = 32;
/** Store updates from training progress are coalesced to at most one per this many ms. */
const PROGRESS_FLUSH_MS = 200;
/** Setup changes are sent to the worker after the user stops typing for this long. */
const SETUP_DEBOUNCE_MS = 250;
/**
 * Fine-tuning a pretrained model: the training form proposes this many more steps at this learning
 * rate (the pretraining's cosine decay ends near it; Adam starts afresh, so a larger rate would
 * first undo some of the pretraining).
 */
export const FINE_TUNE_STEPS = 200;
export const FINE_TUNE_LEARNING_RATE = 1e-4;

export interface EngineClientOptions {
  /** Query string to read `?backend=` from (defaults to the page's). */
  search?: string;
  /** Creates the worker; tests may pass their own. */
  createWorker?: () => Worker;
  /** Saves an exported file (defaults to a download through a temporary link). */
  download?: (file: ExportedFile) => void;
}

/** What the exported files are called on disk (the importer accepts any names ending .json / .bin). */
export const EXPORT_NAMES: Record<string, string> = { json: 'diffusion-model.json', bin: 'diffusion-weights.bin' };

function exportName(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return EXPORT_NAMES[ext] ?? `diffusion-${name}`;
}

function defaultDownload(file: ExportedFile): void {
  const a = document.createElement('a');
  a.href = file.url;
  a.download = file.name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function defaultWorker(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'engine' });
}

function sameSetup(a: ModelSetup, b: ModelSetup): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** True when the model has trained beyond its pretrained steps (or is training): switching it away loses work. */
function fineTuned(s: AppState): boolean {
  if (s.train.state === 'running' || s.train.state === 'paused') return true;
  const info = s.pretrained.info;
  if (info == null) return modelIsTrained(s);
  const steps = stageSteps(s);
  return steps.denoiser > info.denoiserSteps || steps.autoencoder > info.autoencoderSteps;
}

export class EngineClient {
  readonly store: AppStore;
  readonly frames: FrameStore = createFrameStore();
  readonly loss = new LossHistory();
  /** The denoiser's loss by band of timesteps (cleared with the loss history). */
  readonly lossBands = new LossBands();
  /** Every step of the last sampling run, for the denoising player. */
  readonly record = new DenoisingRecord();
  /** The Compare panel: its form, progress and measured rows. */
  readonly compare: CompareStore = createCompareStore();

  private worker: Worker | null = null;
  private readonly makeWorker: () => Worker;
  private readonly download: (file: ExportedFile) => void;
  /** The stage of the last train/start, until the engine confirms it runs (or refuses it). */
  private requestedStage: TrainingStage | null = null;
  private justImported = false;
  /** The id of the pretrained request whose answer the page waits for (older answers are ignored). */
  private pretrainedId = 0;
  /** True while the training form holds the fine-tuning values proposed for a pretrained model. */
  private fineTuneForm = false;
  private setupTimer: ReturnType<typeof setTimeout> | null = null;
  private progressTimer: ReturnType<typeof setTimeout> | null = null;
  private progressDirty = false;
  private nextErrorId = 1;
  /** Id of the last sampling run asked for (its 'sample/steps' messages carry it). */
  private sampleRun = 0;
  /** The backend asked for: the URL's, or the next one after a lost GPU device. */
  private requestedBackend: ReturnType<typeof parseBackendParam>['backend'];
  /** Checkpoints, resuming, and restarts after a crash (./recovery.ts). */
  readonly recovery: Recovery;
  private readonly search: string;
  /** False with `?stream=0`: training sends only its final figures (for benchmarks). */
  private readonly stream: boolean;

  constructor(options: EngineClientOptions = {}) {
    const request = parseBackendParam(options.search ?? (typeof location !== 'undefined' ? location.search : ''));
    this.requestedBackend = request.backend;
    this.stream = parseStreamParam(options.search ?? (typeof location !== 'undefined' ? location.search : ''));
    const source = parsePretrainedParam(options.search ?? (typeof location !== 'undefined' ? location.search : ''));
    this.store = createAppStore(initialState(request.note, request.backend, source));
    this.makeWorker = options.createWorker ?? defaultWorker;
    this.download = options.download ?? defaultDownload;
    this.search = options.search ?? (typeof location !== 'undefined' ? location.search : '');
    this.recovery = new Recovery({
      store: this.store,
      send: (m) => this.send(m),
      reportError: (m, source) => this.reportError(m, source),
      restartWorker: (backend) => this.restartWorker(backend),
      takeRestored: (setup, training) => this.takeRestored(setup, training),
      replaceHistory: (stage, steps, losses) => this.replaceHistory(stage, steps, losses),
    });
  }

  /** Creates the worker and sends 'init'. Failures end up in the store's errors, never thrown. */
  start(): void {
    if (this.worker) return;
    if (this.restarts === 0) {
      void this.recovery.lookForSaved();
      installTestHooks(this, this.search);
    }
    try {
      const worker = this.makeWorker();
      worker.addEventListener('message', (ev: MessageEvent<WorkerToPage>) => {
        if (this.worker === worker) this.onMessage(ev.data);
      });
      worker.addEventListener('error', (ev: ErrorEvent) => {
        ev.preventDefault();
        if (this.worker !== worker) return;
        // A worker that was running crashed: restart it and resume; one that never started failed.
        if (this.store.getState().engine.status === 'ready') return this.recovery.onCrash(`The engine worker crashed${ev.message ? ` (${ev.message})` : ''}.`, false);
        const detail = ev.message ? `: ${ev.message}` : ' (its script could not be loaded or threw while starting)';
        this.fail(`The engine worker failed${detail}`, 'worker');
      });
      worker.addEventListener('messageerror', () => this.reportError('A message from the engine worker could not be read.', 'worker'));
      this.worker = worker;
      this.send({ type: 'init', backend: this.requestedBackend });
    } catch (err) {
      this.fail(`Could not start the engine worker: ${err instanceof Error ? err.message : String(err)}`, 'worker');
    }
  }

  private restarts = 0;

  /** Replaces the worker with a fresh one (after a crash), asking for `backend` when given. */
  private restartWorker(backend: ReturnType<typeof parseBackendParam>['backend']): void {
    this.worker?.terminate();
    this.worker = null;
    this.restarts++;
    if (backend) this.requestedBackend = backend;
    this.store.setState((s) => ({ engine: { ...s.engine, status: 'starting', requested: this.requestedBackend } }));
    this.start();
  }

  /** Test hook: terminate the worker as a crash would, and recover the way a crash is recovered. */
  killWorkerForTest(): void {
    this.worker?.terminate();
    this.recovery.onCrash('The engine worker stopped (terminated by a test hook).', false);
  }

  /** Test hook: ask the worker to set a weight to NaN (the next step's loss is then NaN). */
  poisonWeightsForTest(): void {
    this.send({ type: 'test/poison-weights' });
  }

  /** Test hook: the loss history the chart draws (a copy). */
  lossHistoryForTest(): { steps: number[]; losses: number[] } {
    return this.loss.toArrays();
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.setupTimer) clearTimeout(this.setupTimer);
    if (this.progressTimer) clearTimeout(this.progressTimer);
  }

  // ---- actions called by the UI ----

  /** Measures the pretrained pixel DDPM against the LDM with the form's settings; `sweep` adds the step-count sweep. */
  startCompare(sweep: boolean): void {
    const { form } = this.compare.getState();
    const settings = { ...form, sweepSteps: sweep ? form.sweepSteps : [] };
    this.compare.setState({ status: 'running', message: null, progress: null, rows: [], ranWith: settings });
    this.send({ type: 'compare/start', compare: settings });
  }

  /** Downloads the comparison's rows, settings and backend as JSON. */
  downloadCompare(): void {
    const report = compareReport(this.compare.getState(), typeof navigator === 'undefined' ? '' : navigator.userAgent);
    const data = new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' });
    const stamp = report.date.replace(/[:.]/g, '-');
    const url = URL.createObjectURL(data);
    this.download({ name: `compare-${report.backend ?? 'unknown'}-${stamp}.json`, url, bytes: data.size });
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  cancelCompare(): void {
    this.send({ type: 'compare/cancel' });
  }

  /**
   * Changes the model setup; asks for a reset (pendingSetup) when a trained model would change. With
   * a pretrained model, a change of kind loads that kind's pretrained model instead (asking first
   * only when the current one has been fine-tuned).
   */
  updateSetup(change: (current: ModelSetup) => ModelSetup): void {
    const s = this.store.getState();
    const next = change(s.pendingSetup ?? s.setup);
    if (s.pretrained.source === 'pretrained' && next.kind !== s.setup.kind && !fineTuned(s)) {
      this.loadPretrained(next.kind);
      return;
    }
    if (modelIsTrained(s)) {
      this.store.setState({ pendingSetup: sameSetup(next, s.setup) ? null : next });
      return;
    }
    this.store.setState({ setup: next, pendingSetup: null, training: this.trainingFor(s.setup, next) });
    this.scheduleSetupSend();
  }

  /** A switch to a latent model starts at stage 1 (the autoencoder); a pixel model has only the denoiser. */
  private trainingFor(prev: ModelSetup, next: ModelSetup): TrainingForm {
    const { training } = this.store.getState();
    if (prev.kind === next.kind) return training;
    return { ...training, stage: next.kind === 'latent' ? 'autoencoder' : 'denoiser' };
  }

  /**
   * Confirms a pending setup change: resets training, then applies the new setup. With a pretrained
   * model, a change of kind loads that kind's pretrained model; any other change means fresh weights.
   */
  confirmReset(): void {
    const s = this.store.getState();
    const pending = s.pendingSetup;
    if (pending && s.pretrained.source === 'pretrained' && pending.kind !== s.setup.kind) {
      this.loadPretrained(pending.kind);
      return;
    }
    this.resetTraining();
    if (pending) {
      this.store.setState((s) => ({ setup: pending, pendingSetup: null, training: this.trainingFor(s.setup, pending) }));
      this.sendSetupNow();
    }
  }

  /** Drops a pending setup change and keeps the trained model. */
  keepModel(): void {
    this.store.setState({ pendingSetup: null });
  }

  setTraining(patch: Partial<TrainingForm>): void {
    this.store.setState((s) => ({ training: { ...s.training, ...patch } }));
  }

  setSampling(patch: Partial<SamplingConfig>): void {
    this.store.setState((s) => ({ sampling: { ...s.sampling, ...patch } }));
  }

  startTraining(): void {
    const s = this.store.getState();
    this.flushSetup();
    // A pixel model has one stage; a latent model trains the stage the form picks.
    const stage: TrainingStage = s.setup.kind === 'latent' ? s.training.stage : 'denoiser';
    if (s.train.state === 'idle' && s.train.step === 0) this.clearLoss();
    this.requestedStage = stage;
    this.store.setState({ train: { ...s.train, totalSteps: s.training.steps, lossPoints: this.loss.length, lossVersion: s.train.lossVersion + 1 } });
    this.send({ type: 'train/start', training: { ...s.training, stage, stream: this.stream } });
  }

  pauseTraining(): void {
    this.send({ type: 'train/pause' });
  }

  /** Resumes with the form's learning rate (e.g. lowered after a non-finite loss). */
  resumeTraining(): void {
    const s = this.store.getState();
    const stage: TrainingStage = s.setup.kind === 'latent' ? s.training.stage : 'denoiser';
    this.send({ type: 'train/resume', training: { ...s.training, stage, stream: this.stream } });
  }

  /** The engine holds a restored checkpoint: its setup, its training form, paused at its step. */
  private takeRestored(setup: ModelSetup, training: TrainingForm): void {
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = null;
    }
    this.pretrainedId++; // a pretrained model still on its way is not wanted any more
    this.fineTuneForm = false;
    this.store.setState((s) => ({
      setup,
      pendingSetup: null,
      training: { ...s.training, ...training },
      pretrained: { ...s.pretrained, source: 'imported', status: 'idle', info: null, message: null },
      sample: s.sample.state === 'running' || s.sample.state === 'paused' ? IDLE_SAMPLE : s.sample,
      train: { ...s.train, totalSteps: training.steps, stage: training.stage },
    }));
  }

  /** The loss chart's history, replaced by the engine's (after a restore or a roll-back). */
  private replaceHistory(stage: TrainingStage, steps: Int32Array, losses: Float32Array): void {
    this.clearLoss();
    this.loss.append(steps, losses);
    const last = this.loss.last();
    this.store.setState((s) => ({ train: { ...s.train, lossStage: stage, lossPoints: this.loss.length, lossVersion: s.train.lossVersion + 1, lastLoss: last ? last.loss : null } }));
  }

  /** Forgets the trained weights (pretrained, imported or trained here): the next run starts from fresh ones. */
  resetTraining(): void {
    this.recovery.forget();
    this.send({ type: 'train/reset' });
    this.clearTrainingView();
    this.toScratch();
  }

  // ---- model source: pretrained or from scratch ----

  /**
   * Loads the pretrained model of `kind` (the files on the site, models/<kind>/), replacing the
   * current model once they have passed every check. The request is sent once the engine is ready.
   */
  loadPretrained(kind: ModelKind): void {
    const id = ++this.pretrainedId;
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = null;
    }
    this.store.setState({
      pendingSetup: null,
      pretrained: { source: 'pretrained', status: 'loading', kind, loaded: 0, total: null, info: null, message: null },
    });
    if (this.store.getState().engine.status === 'ready') this.send({ type: 'model/pretrained', kind, id });
  }

  /**
   * Train from scratch: fresh weights built from the Model panel's setup (the pretrained model's
   * setup when one was loaded), with the training form back at its defaults.
   */
  trainFromScratch(): void {
    const s = this.store.getState();
    if (s.pretrained.source === 'scratch') return;
    this.pretrainedId++; // an answer still on its way is for a request the user has left
    const setup = s.pendingSetup ?? s.setup;
    this.store.setState({ setup, pendingSetup: null });
    this.toScratch();
    this.restartFresh();
  }

  /** Fresh weights for the store's setup: the engine drops its model, the training view starts over. */
  private restartFresh(): void {
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = null;
    }
    this.clearTrainingView();
    this.store.setState((s) => ({ training: { ...s.training, stage: s.setup.kind === 'latent' ? 'autoencoder' : 'denoiser' } }));
    if (this.store.getState().engine.status === 'ready') {
      if (setupProblem(this.store.getState().setup) === null) this.sendSetupNow();
      else this.send({ type: 'train/reset' });
    }
  }

  /** The model is no longer the pretrained one: the fine-tuning values proposed for it go back to the defaults. */
  private toScratch(): void {
    const resetForm = this.fineTuneForm;
    this.fineTuneForm = false;
    this.store.setState((s) => ({
      pretrained: { ...s.pretrained, source: 'scratch', status: s.pretrained.status === 'failed' ? 'failed' : 'idle', info: null, loaded: 0, total: null },
      training: resetForm ? { ...s.training, learningRate: DEFAULT_TRAINING.learningRate, steps: DEFAULT_TRAINING.steps } : s.training,
    }));
  }

  private clearLoss(): void {
    this.loss.clear();
    this.lossBands.clear();
  }

  private clearTrainingView(): void {
    this.clearLoss();
    this.requestedStage = null;
    this.store.setState((s) => ({ train: { ...IDLE_TRAIN, lossVersion: s.train.lossVersion + 1 } }));
    this.frames.setState((f) => ({
      ...(f.mode === 'preview' ? { mode: 'empty' as const, main: null, x0: null } : {}),
      reconOriginals: null,
      reconImages: null,
      reconStep: null,
      seq: f.seq + 1,
    }));
  }

  startSampling(): void {
    this.flushSetup();
    const s = this.store.getState();
    const { setup } = s;
    const sampling: SamplingConfig = {
      ...s.sampling,
      digit: setup.classConditional ? s.sampling.digit : null,
      useEma: setup.emaDecay > 0 && s.sampling.useEma,
    };
    this.store.setState({ sample: { ...IDLE_SAMPLE, state: 'running', total: sampling.steps, numImages: sampling.numImages, latent: setup.kind === 'latent' } });
    const run = ++this.sampleRun;
    this.record.begin(run);
    this.send({ type: 'sample/start', sampling, run });
  }

  /** Asks the engine for the model's files; they are downloaded when they arrive. */
  exportModel(): void {
    this.store.setState({ transfer: 'exporting' });
    this.send({ type: 'model/export' });
  }

  /** Reads the picked files (a .json and a .bin, any names) and sends them to the engine. */
  async importModel(picked: readonly File[]): Promise<void> {
    const json = picked.filter((f) => f.name.toLowerCase().endsWith('.json'));
    const bin = picked.filter((f) => f.name.toLowerCase().endsWith('.bin'));
    if (json.length !== 1 || bin.length !== 1) {
      const names = picked.map((f) => f.name).join(', ') || 'no files';
      this.reportError(`Import needs two files picked together: one .json (the model) and one .bin (its weights); got ${names}.`, 'model');
      return;
    }
    this.store.setState({ transfer: 'importing' });
    try {
      const files: ModelFile[] = await Promise.all([json[0], bin[0]].map(async (f) => ({ name: f.name, data: await f.arrayBuffer() })));
      this.send({ type: 'model/import', files });
    } catch (err) {
      this.store.setState({ transfer: 'idle' });
      this.reportError(`Could not read the picked files: ${err instanceof Error ? err.message : String(err)}`, 'model');
    }
  }

  pauseSampling(): void {
    this.send({ type: 'sample/pause' });
  }

  resumeSampling(): void {
    this.send({ type: 'sample/resume' });
  }

  cancelSampling(): void {
    this.send({ type: 'sample/cancel' });
  }

  dismissError(id: number): void {
    this.store.setState((s) => ({ errors: s.errors.filter((e) => e.id !== id) }));
  }

  reportError(message: string, source: string): void {
    const id = this.nextErrorId++;
    // Keep the last few only: an error that repeats every frame must not grow the page forever.
    this.store.setState((s) => ({ errors: [...s.errors.slice(-4), { id, message, source }] }));
  }

  // ---- worker messages ----

  private send(message: PageToWorker): void {
    if (!this.worker) {
      this.reportError(`The engine worker is not running; "${message.type}" was not sent.`, 'page');
      if (message.type === 'model/export' || message.type === 'model/import') this.store.setState({ transfer: 'idle' });
      return;
    }
    this.worker.postMessage(message, requestTransferables(message));
  }

  private fail(message: string, source: string): void {
    this.reportError(message, source);
    this.store.setState((s) => ({
      pretrained:
        s.pretrained.status === 'loading' && s.engine.status !== 'ready'
          ? { ...s.pretrained, source: 'scratch', status: 'failed', message: 'The pretrained model was not loaded: the engine is not running.' }
          : s.pretrained,
      engine: s.engine.status === 'ready' ? s.engine : { ...s.engine, status: 'failed' },
      train: s.train.state === 'running' ? { ...s.train, state: 'paused' } : s.train,
      sample: s.sample.state === 'running' ? { ...s.sample, state: 'idle' } : s.sample,
    }));
  }

  private onMessage(msg: WorkerToPage): void {
    switch (msg.type) {
      case 'ready':
        this.store.setState((s) => ({
          engine: { ...s.engine, status: 'ready', backend: msg.backend, requested: msg.requested, fallbackNote: msg.fallbackNote, adapter: msg.adapter, wasmThreads: msg.wasmThreads ?? null },
        }));
        this.sendSetupNow();
        this.send({ type: 'data/preview', count: DATA_PREVIEW_COUNT });
        {
          const p = this.store.getState().pretrained;
          if (p.source === 'pretrained' && p.status === 'loading') this.send({ type: 'model/pretrained', kind: p.kind, id: this.pretrainedId });
        }
        this.recovery.onReady();
        break;
      case 'memory': {
        const m = this.store.getState().memory;
        if (!m || m.numTensors !== msg.numTensors || m.numBytes !== msg.numBytes) {
          this.store.setState({ memory: { numTensors: msg.numTensors, numBytes: msg.numBytes } });
        }
        break;
      }
      case 'data/preview':
        this.frames.setState((f) => ({ data: msg.images, seq: f.seq + 1 }));
        this.store.setState({ data: { trainCount: msg.trainCount, heldOutCount: msg.heldOutCount, labels: Array.from(msg.labels) } });
        break;
      case 'model':
        this.store.setState({ model: { ...msg } });
        if (this.justImported) {
          // An imported latent model continues where it stopped: stage 2 once its autoencoder is trained.
          this.justImported = false;
          if (msg.kind === 'latent') this.setTraining({ stage: msg.autoencoderSteps > 0 ? 'denoiser' : 'autoencoder' });
        }
        break;
      case 'train/state': {
        this.flushProgress();
        // The step counts the stage of the engine's current run: the one just started once it runs.
        let stage = this.store.getState().train.stage;
        if (msg.state === 'running' && this.requestedStage) {
          stage = this.requestedStage;
          this.requestedStage = null;
        }
        if (msg.state === 'idle' && msg.step === 0) stage = null;
        this.store.setState((s) => ({ train: { ...s.train, state: msg.state, step: msg.step, stage, stepsPerSec: msg.state === 'running' ? s.train.stepsPerSec : 0 } }));
        break;
      }
      case 'train/progress': {
        // A new stage starts a new loss curve (the autoencoder's reconstruction loss is another quantity).
        const s = this.store.getState();
        if (s.train.lossStage !== msg.stage) {
          this.clearLoss();
          this.store.setState({ train: { ...s.train, lossStage: msg.stage, stage: msg.stage, lossPoints: 0, lossVersion: s.train.lossVersion + 1 } });
        }
        this.loss.append(msg.steps, msg.losses);
        if (msg.stage === 'denoiser') this.lossBands.add(msg.itemTimesteps, msg.itemLosses, s.setup.schedule.T);
        const last = this.loss.last();
        this.pending = { step: msg.step, totalSteps: msg.totalSteps, stepsPerSec: msg.stepsPerSec, etaSec: msg.etaSec, lastLoss: last ? last.loss : null };
        this.scheduleProgressFlush();
        break;
      }
      case 'train/preview':
        // A sampling run in progress owns the canvas; previews wait for the next one.
        if (this.store.getState().sample.state !== 'running' && this.store.getState().sample.state !== 'paused') {
          this.frames.setState((f) => ({ mode: 'preview', main: msg.images, x0: null, previewStep: msg.step, seq: f.seq + 1 }));
        }
        break;
      case 'sample/state':
        this.store.setState((s) => ({ sample: { ...s.sample, state: msg.state } }));
        break;
      case 'sample/frame': {
        // Latent models: the canvases show the decoded images; the latents go to the latent view.
        const latent = msg.decodedXt !== null && msg.decodedX0 !== null;
        this.frames.setState((f) => ({
          mode: 'sample',
          main: latent ? msg.decodedXt : msg.xt,
          x0: latent ? msg.decodedX0 : msg.x0,
          latentXt: latent ? msg.xt : null,
          latentX0: latent ? msg.x0 : null,
          seq: f.seq + 1,
        }));
        this.store.setState((s) => ({ sample: { ...s.sample, index: msg.index, total: msg.total, t: msg.t, elapsedMs: msg.elapsedMs, numImages: msg.xt.n, latent } }));
        break;
      }
      case 'sample/steps':
        this.record.add(msg);
        break;
      case 'train/reconstructions':
        this.frames.setState((f) => ({ reconOriginals: msg.originals, reconImages: msg.reconstructions, reconStep: msg.step, seq: f.seq + 1 }));
        break;
      case 'model/exported':
        this.onExported(msg.files);
        break;
      case 'train/checkpoint':
      case 'train/history':
      case 'train/diverged':
      case 'train/restored':
      case 'device-lost':
        this.recovery.onMessage(msg);
        break;
      case 'model/imported':
        this.onImported(msg.setup);
        this.store.setState((s) => ({ pretrained: { ...s.pretrained, source: 'imported', status: 'idle', info: null, message: null } }));
        break;
      case 'pretrained/progress':
        if (msg.id === this.pretrainedId) this.store.setState((s) => ({ pretrained: { ...s.pretrained, loaded: msg.loaded, total: msg.total } }));
        break;
      case 'pretrained/loaded':
        if (msg.id === this.pretrainedId) this.onPretrainedLoaded(msg.setup, msg.info);
        break;
      case 'pretrained/failed':
        if (msg.id === this.pretrainedId) this.onPretrainedFailed(msg.kind, msg.message);
        break;
      case 'compare/state':
      case 'compare/progress':
      case 'compare/row':
        applyCompareMessage(this.compare, msg);
        break;
      case 'error':
        if (msg.source === 'compare' && this.compare.getState().status === 'running') this.compare.setState({ status: 'failed', message: msg.message });
        if (msg.source === 'init') this.fail(msg.message, msg.source);
        else this.reportError(msg.message, msg.source);
        // Whatever was waiting for an answer gets one: the request failed.
        if (msg.source === 'train' || msg.source === 'model') this.requestedStage = null;
        if (msg.source === 'train' && this.store.getState().recovery.restoring) this.recovery.onRestoreFailed();
        this.store.setState((s) => ({
          transfer: 'idle',
          // A refused sample/start never reports a state: the run did not start.
          sample: msg.source === 'sample' && s.sample.state === 'running' && s.sample.elapsedMs === null ? { ...s.sample, state: 'idle' } : s.sample,
        }));
        break;
      default: {
        const unknown: never = msg;
        this.reportError(`Unknown message from the engine worker: ${JSON.stringify((unknown as { type?: unknown }).type)}`, 'worker');
      }
    }
  }

  private onExported(files: ModelFile[]): void {
    for (const old of this.store.getState().exported) URL.revokeObjectURL(old.url);
    const exported: ExportedFile[] = files.map((f) => ({
      name: exportName(f.name),
      url: URL.createObjectURL(new Blob([f.data], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' })),
      bytes: f.data.byteLength,
    }));
    this.store.setState({ transfer: 'idle', exported });
    for (const f of exported) this.download(f);
  }

  /** The engine now holds the imported model: the page takes its setup, without sending it back (that would rebuild the model). */
  private onImported(setup: ModelSetup): void {
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = null;
    }
    this.clearTrainingView();
    this.justImported = true;
    this.store.setState((s) => ({
      transfer: 'idle',
      setup,
      pendingSetup: null,
      model: null,
      sample: s.sample.state === 'running' || s.sample.state === 'paused' ? IDLE_SAMPLE : s.sample,
      training: { ...s.training, stage: setup.kind === 'latent' ? 'denoiser' : s.training.stage },
      sampling: { ...s.sampling, digit: setup.classConditional ? s.sampling.digit : null },
    }));
  }

  /** The engine holds the pretrained model: the page takes its setup and proposes fine-tuning it. */
  private onPretrainedLoaded(setup: ModelSetup, info: PretrainedInfo): void {
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = null;
    }
    this.clearTrainingView();
    this.fineTuneForm = true;
    const guidance = info.eval?.guidance;
    this.store.setState((s) => ({
      setup,
      pendingSetup: null,
      model: null,
      sample: s.sample.state === 'running' || s.sample.state === 'paused' ? IDLE_SAMPLE : s.sample,
      // Fine-tuning: the denoiser (a latent model's autoencoder is frozen), a few more steps at a small learning rate.
      training: { ...s.training, stage: 'denoiser', steps: info.denoiserSteps + FINE_TUNE_STEPS, learningRate: FINE_TUNE_LEARNING_RATE },
      sampling: {
        ...s.sampling,
        digit: setup.classConditional ? s.sampling.digit : null,
        ...(setup.classConditional && typeof guidance === 'number' && guidance >= 0 && guidance <= 10 ? { guidance } : {}),
      },
      pretrained: { source: 'pretrained', status: 'ready', kind: info.kind, loaded: 0, total: null, info, message: null },
    }));
  }

  /**
   * The pretrained files are missing or damaged: the engine kept its model. The page says why and
   * falls back to training from scratch, with the kind that was asked for.
   */
  private onPretrainedFailed(kind: ModelKind, message: string): void {
    this.store.setState((s) => {
      const setup = s.setup.kind === kind ? s.setup : { ...s.setup, kind, attention: presetAttention({ ...s.setup, kind }) };
      return { setup, pendingSetup: null, pretrained: { source: 'scratch', status: 'failed', kind, loaded: 0, total: null, info: null, message } };
    });
    this.toScratch();
    this.restartFresh();
  }

  private pending: { step: number; totalSteps: number; stepsPerSec: number; etaSec: number; lastLoss: number | null } | null = null;

  private scheduleProgressFlush(): void {
    this.progressDirty = true;
    if (this.progressTimer) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      this.flushProgress();
    }, PROGRESS_FLUSH_MS);
  }

  private flushProgress(): void {
    if (!this.progressDirty) return;
    this.progressDirty = false;
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

  private scheduleSetupSend(): void {
    if (this.setupTimer) clearTimeout(this.setupTimer);
    this.setupTimer = setTimeout(() => {
      this.setupTimer = null;
      this.sendSetupNow();
    }, SETUP_DEBOUNCE_MS);
  }

  private flushSetup(): void {
    if (this.setupTimer) {
      clearTimeout(this.setupTimer);
      this.setupTimer = null;
      this.sendSetupNow();
    }
  }

  private sendSetupNow(): void {
    const s = this.store.getState();
    // An invalid setup (shown in the UI, which blocks Start and Sample) is not sent.
    if (s.engine.status !== 'ready' || setupProblem(s.setup) !== null) return;
    this.send({ type: 'setup', setup: this.store.getState().setup });
  }
}
