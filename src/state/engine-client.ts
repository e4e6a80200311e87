/**
 * The page's side of the worker: creates the engine worker, sends typed PageToWorker messages and
 * reduces WorkerToPage messages into the app store (counters and settings), the frame store
 * (images) and the loss history (typed arrays). React never sees a frame or a loss array directly.
 */
import { requestTransferables, type ModelSetup, type PageToWorker, type SamplingConfig, type WorkerToPage } from '../worker/protocol';
import { LossHistory } from './loss-history';
import { createFrameStore, type FrameStore } from './frames';
import { createAppStore, initialState, IDLE_TRAIN, modelIsTrained, type AppStore, type TrainingForm } from './store';
import { parseBackendParam } from './url';
import { setupProblem } from './validate';

/** How many real digits the Data panel shows. */
export const DATA_PREVIEW_COUNT = 32;
/** Store updates from training progress are coalesced to at most one per this many ms. */
const PROGRESS_FLUSH_MS = 200;
/** Setup changes are sent to the worker after the user stops typing for this long. */
const SETUP_DEBOUNCE_MS = 250;

export interface EngineClientOptions {
  /** Query string to read `?backend=` from (defaults to the page's). */
  search?: string;
  /** Creates the worker; tests may pass their own. */
  createWorker?: () => Worker;
}

function defaultWorker(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'engine' });
}

function sameSetup(a: ModelSetup, b: ModelSetup): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class EngineClient {
  readonly store: AppStore;
  readonly frames: FrameStore = createFrameStore();
  readonly loss = new LossHistory();

  private worker: Worker | null = null;
  private readonly makeWorker: () => Worker;
  private setupTimer: ReturnType<typeof setTimeout> | null = null;
  private progressTimer: ReturnType<typeof setTimeout> | null = null;
  private progressDirty = false;
  private nextErrorId = 1;
  private readonly requestedBackend: ReturnType<typeof parseBackendParam>['backend'];

  constructor(options: EngineClientOptions = {}) {
    const request = parseBackendParam(options.search ?? (typeof location !== 'undefined' ? location.search : ''));
    this.requestedBackend = request.backend;
    this.store = createAppStore(initialState(request.note, request.backend));
    this.makeWorker = options.createWorker ?? defaultWorker;
  }

  /** Creates the worker and sends 'init'. Failures end up in the store's errors, never thrown. */
  start(): void {
    if (this.worker) return;
    try {
      const worker = this.makeWorker();
      worker.addEventListener('message', (ev: MessageEvent<WorkerToPage>) => this.onMessage(ev.data));
      worker.addEventListener('error', (ev: ErrorEvent) => {
        ev.preventDefault();
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

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.setupTimer) clearTimeout(this.setupTimer);
    if (this.progressTimer) clearTimeout(this.progressTimer);
  }

  // ---- actions called by the UI ----

  /** Changes the model setup; asks for a reset (pendingSetup) when a trained model would change. */
  updateSetup(change: (current: ModelSetup) => ModelSetup): void {
    const s = this.store.getState();
    const next = change(s.pendingSetup ?? s.setup);
    if (modelIsTrained(s)) {
      this.store.setState({ pendingSetup: sameSetup(next, s.setup) ? null : next });
      return;
    }
    this.store.setState({ setup: next, pendingSetup: null });
    this.scheduleSetupSend();
  }

  /** Confirms a pending setup change: resets training, then applies the new setup. */
  confirmReset(): void {
    const pending = this.store.getState().pendingSetup;
    this.resetTraining();
    if (pending) {
      this.store.setState({ setup: pending, pendingSetup: null });
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
    if (s.train.state === 'idle') this.loss.clear();
    this.store.setState({ train: { ...s.train, totalSteps: s.training.steps, lossPoints: this.loss.length } });
    this.send({ type: 'train/start', training: { ...s.training } });
  }

  pauseTraining(): void {
    this.send({ type: 'train/pause' });
  }

  resumeTraining(): void {
    this.send({ type: 'train/resume' });
  }

  resetTraining(): void {
    this.send({ type: 'train/reset' });
    this.loss.clear();
    this.store.setState((s) => ({ train: { ...IDLE_TRAIN, lossVersion: s.train.lossVersion + 1 } }));
    this.frames.setState((f) => (f.mode === 'preview' ? { mode: 'empty', main: null, x0: null, seq: f.seq + 1 } : f));
  }

  startSampling(): void {
    this.flushSetup();
    const s = this.store.getState();
    this.store.setState({ sample: { state: 'running', index: 0, total: s.sampling.steps, t: null } });
    this.send({ type: 'sample/start', sampling: s.sampling });
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
      return;
    }
    this.worker.postMessage(message, requestTransferables(message));
  }

  private fail(message: string, source: string): void {
    this.reportError(message, source);
    this.store.setState((s) => ({
      engine: s.engine.status === 'ready' ? s.engine : { ...s.engine, status: 'failed' },
      train: s.train.state === 'running' ? { ...s.train, state: 'paused' } : s.train,
      sample: s.sample.state === 'running' ? { ...s.sample, state: 'idle' } : s.sample,
    }));
  }

  private onMessage(msg: WorkerToPage): void {
    switch (msg.type) {
      case 'ready':
        this.store.setState((s) => ({
          engine: { ...s.engine, status: 'ready', backend: msg.backend, requested: msg.requested, fallbackNote: msg.fallbackNote, adapter: msg.adapter },
        }));
        this.sendSetupNow();
        this.send({ type: 'data/preview', count: DATA_PREVIEW_COUNT });
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
        break;
      case 'train/state':
        this.flushProgress();
        this.store.setState((s) => ({ train: { ...s.train, state: msg.state, step: msg.step, stepsPerSec: msg.state === 'running' ? s.train.stepsPerSec : 0 } }));
        break;
      case 'train/progress': {
        this.loss.append(msg.steps, msg.losses);
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
      case 'sample/frame':
        this.frames.setState((f) => ({ mode: 'sample', main: msg.xt, x0: msg.x0, seq: f.seq + 1 }));
        this.store.setState((s) => ({ sample: { ...s.sample, index: msg.index, total: msg.total, t: msg.t } }));
        break;
      case 'train/reconstructions':
        this.frames.setState((f) => ({ mode: 'preview', main: msg.reconstructions, x0: msg.originals, previewStep: msg.step, seq: f.seq + 1 }));
        break;
      case 'model/exported':
      case 'model/imported':
        break;
      case 'error':
        if (msg.source === 'init') this.fail(msg.message, msg.source);
        else this.reportError(msg.message, msg.source);
        break;
      default: {
        const unknown: never = msg;
        this.reportError(`Unknown message from the engine worker: ${JSON.stringify((unknown as { type?: unknown }).type)}`, 'worker');
      }
    }
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
