/**
 * The page's side of the worker, the one object the UI talks to: it owns the app store (counters and
 * settings), the frame store (images) and the loss curve (typed arrays), sends the UI's actions as
 * PageToWorker messages, and applies what the pure reducer (./message-reducer.ts) makes of each
 * WorkerToPage message. React never sees a frame or a loss array directly.
 */
import type { PageToWorker, WorkerToPage } from '../protocol/messages';
import { isLabMessage } from '../protocol/lab-messages';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import type { SamplingConfig } from '../sampling/config';
import type { TrainingStage } from '../engine/run-config';
import { createFrameStore, type FrameStore } from './frames';
import { DenoisingRecord } from './denoising-record';
import { applyCompareMessage, compareReport, createCompareStore, type CompareStore } from './compare';
import { runCaption } from './run-caption';
import { createAppStore, initialState, IDLE_SAMPLE, type AppStore, type ExportedFile, type TrainingForm } from './store';
import { parseBackendParam, parsePretrainedParam, parseStreamParam, parseThreadsParam } from './url';
import { Recovery } from './recovery';
import { installTestHooks } from './test-hooks';
import { reduceMessage, type Bookkeeping, type Effect } from './message-reducer';
import { defaultDownload, ModelSources } from './model-sources';
import { keepableAs } from './model-words';
import { SetupSync } from './setup-sync';
import { TrainingView } from './training-view';
import { defaultWorker, WorkerHost } from './worker-host';
import { LabClient } from './lab/lab-client';
import { EditClient } from './edit/edit-client';
import { isEditMessage } from '../protocol/edit-messages';
import { isQualityMessage } from '../protocol/quality-messages';
import { QualityClient } from './quality-curve';
import { DistillClient } from './distill-client';
import { isDistillMessage } from '../protocol/distill-messages';

export { EXPORT_NAMES, FINE_TUNE_LEARNING_RATE, FINE_TUNE_STEPS } from './model-sources';

export interface EngineClientOptions {
  /** Query string to read `?backend=` from (defaults to the page's). */
  search?: string;
  /** Creates the worker; tests may pass their own. */
  createWorker?: () => Worker;
  /** Saves an exported file (defaults to a download through a temporary link). */
  download?: (file: ExportedFile) => void;
}

export class EngineClient {
  readonly store: AppStore;
  readonly frames: FrameStore = createFrameStore();
  /** The loss curve and the denoiser's loss by band of timesteps (cleared together). */
  readonly loss: TrainingView['loss'];
  readonly lossBands: TrainingView['lossBands'];
  /** Every step of the last sampling run, for the denoising player. */
  readonly record = new DenoisingRecord();
  /** The Compare panel: its form, progress and measured rows. */
  readonly compare: CompareStore = createCompareStore();
  /** Checkpoints, resuming, and restarts after a crash (./recovery.ts). */
  readonly recovery: Recovery;
  /** The 2D lab's page side (./lab/): its own store, its messages. */
  readonly lab: LabClient;
  /** The Edit panel's page side (./edit/): its own store, its messages; its runs play in the denoising player. */
  readonly edit: EditClient;
  /** The live quality curve's page side (./quality-curve.ts): on/off, samples, the points. */
  readonly quality: QualityClient;
  /** The Training panel's Distill stage (./distill-client.ts): its form, run, rounds and grids. */
  readonly distill: DistillClient;

  private readonly worker: WorkerHost;
  private readonly view: TrainingView;
  private readonly setup: SetupSync;
  private readonly sources: ModelSources;
  private readonly book: Bookkeeping = { requestedStage: null, pretrainedId: 0, fineTuneForm: false, justImported: false };
  private readonly download: (file: ExportedFile) => void;
  private nextErrorId = 1;
  /** Id of the last sampling run asked for (its 'sample/steps' messages carry it). */
  private sampleRun = 0;
  private readonly search: string;
  /** False with `?stream=0`: training sends only its final figures (for benchmarks). */
  private readonly stream: boolean;

  constructor(options: EngineClientOptions = {}) {
    this.search = options.search ?? (typeof location !== 'undefined' ? location.search : '');
    const request = parseBackendParam(this.search);
    this.stream = parseStreamParam(this.search);
    this.store = createAppStore(initialState(request.note, request.backend, parsePretrainedParam(this.search)));
    this.download = options.download ?? defaultDownload;
    const send = (m: PageToWorker) => this.worker.send(m);
    this.record.send = send; // the player's decode requests (a latent model's positions not decoded in the run)
    const reportError = (m: string, source: string) => this.reportError(m, source);
    const events = { message: (msg: WorkerToPage) => this.onMessage(msg), crashed: (reason: string) => this.recovery.onCrash(reason, false), reportError };
    this.worker = new WorkerHost(this.store, options.createWorker ?? defaultWorker, request.backend, events, parseThreadsParam(this.search));
    this.lab = new LabClient(send);
    this.quality = new QualityClient(send);
    this.distill = new DistillClient(send);
    this.edit = new EditClient({
      send,
      beginRun: (caption, numImages, steps) => this.beginRun(caption, numImages, steps),
      sampling: () => this.store.getState().sampling,
      model: () => {
        const { setup } = this.store.getState();
        return { latent: setup.kind === 'latent', label: setup.kind === 'latent' ? `LDM (${setup.latent.denoiser})` : `pixel DDPM (${setup.preset})`, classConditional: setup.classConditional };
      },
      search: this.search,
      bar: typeof window !== 'undefined' && typeof history !== 'undefined' ? { location: window.location, history: window.history } : null,
    });
    this.view = new TrainingView(this.store, this.frames);
    this.loss = this.view.loss;
    this.lossBands = this.view.lossBands;
    this.setup = new SetupSync({
      store: this.store,
      send,
      loadPretrained: (kind) => this.sources.loadPretrained(kind),
      resetTraining: () => this.resetTraining(),
      keepThen: (apply) => this.sources.keepThen(apply),
    });
    this.sources = new ModelSources({ store: this.store, book: this.book, setup: this.setup, send, reportError, clearTrainingView: () => this.clearTrainingView(), download: this.download });
    this.recovery = new Recovery({
      store: this.store,
      send,
      reportError,
      restartWorker: (backend, lost) => {
        // Decode requests the old worker never answered are asked again of the new one.
        this.record.forgetRequests();
        this.worker.restart(backend, lost);
      },
      takeRestored: (setup, training) => this.sources.takeRestored(setup, training),
      replaceHistory: (stage, steps, losses) => this.view.replaceHistory(stage, steps, losses),
      resumeTraining: () => this.resumeTraining(),
    });
  }

  /** Creates the worker and sends 'init'. Failures end up in the store's errors, never thrown. */
  start(): void {
    if (this.worker.running) return;
    if (this.worker.restarts === 0) {
      void this.recovery.lookForSaved();
      installTestHooks(this, this.search);
    }
    this.worker.start();
  }

  /** Test hook: terminate the worker as a crash would, and recover the way a crash is recovered. */
  killWorkerForTest(): void {
    this.worker.crashForTest();
    this.recovery.onCrash('The engine worker stopped (terminated by a test hook).', false);
  }

  /** Test hook: ask the worker to set a weight to NaN (the next step's loss is then NaN). */
  poisonWeightsForTest(): void {
    this.worker.send({ type: 'test/poison-weights' });
  }

  /** Test hook: destroy the WebGPU device in the worker; false (nothing sent) when the backend is not WebGPU. */
  loseDeviceForTest(): boolean {
    if (this.store.getState().engine.backend !== 'webgpu') return false;
    this.worker.send({ type: 'test/lose-device' });
    return true;
  }

  /** Test hook: the loss history the chart draws (a copy). */
  lossHistoryForTest(): { steps: number[]; losses: number[] } {
    return this.loss.toArrays();
  }

  dispose(): void {
    this.worker.stop();
    this.setup.cancel();
    this.view.dispose();
  }

  /** Measures the pretrained pixel DDPM against the LDM with the form's settings; `sweep` adds the step-count sweep. */
  startCompare(sweep: boolean): void {
    const { form } = this.compare.getState();
    const settings = { ...form, sweepSteps: sweep ? form.sweepSteps : [] };
    this.compare.setState({ status: 'running', message: null, progress: null, rows: [], ranWith: settings });
    this.worker.send({ type: 'compare/start', compare: settings });
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
    this.worker.send({ type: 'compare/cancel' });
  }

  /** Changes the model setup (see SetupSync.update: a trained model asks for a reset first). */
  updateSetup(change: (current: ModelSetup) => ModelSetup): void {
    this.setup.update(change);
  }

  /** Confirms a pending setup change: keeps the current model (unless `keep` is false), resets training, then applies the new setup. */
  confirmReset(keep = true): void {
    this.setup.confirmReset(keep);
  }

  /** "Undo: switch back": brings the kept model back, keeping the current one in its place. */
  switchBack(): void {
    this.sources.switchBack();
  }

  /** Forgets the kept model. */
  forgetKept(): void {
    this.sources.forgetKept();
  }

  /** Drops a pending setup change and keeps the trained model. */
  keepModel(): void {
    this.setup.keepModel();
  }

  setTraining(patch: Partial<TrainingForm>): void {
    this.store.setState((s) => ({ training: { ...s.training, ...patch } }));
  }

  setSampling(patch: Partial<SamplingConfig>): void {
    this.store.setState((s) => ({ sampling: { ...s.sampling, ...patch } }));
  }

  startTraining(): void {
    const s = this.store.getState();
    this.setup.flush();
    // A pixel model has one stage; a latent model trains the stage the form picks.
    const stage: TrainingStage = s.setup.kind === 'latent' ? s.training.stage : 'denoiser';
    if (s.train.state === 'idle' && s.train.step === 0) this.view.clearLoss();
    this.book.requestedStage = stage;
    this.store.setState({ train: { ...s.train, totalSteps: s.training.steps, lossPoints: this.loss.length, lossVersion: s.train.lossVersion + 1 } });
    if (s.train.state === 'idle' && s.train.step === 0) this.quality.clear();
    this.worker.send({ type: 'train/start', training: { ...s.training, stage, stream: this.stream, quality: this.quality.settings() } });
  }

  pauseTraining(): void {
    this.worker.send({ type: 'train/pause' });
  }

  /** Resumes with the form's learning rate (e.g. lowered after a non-finite loss). */
  resumeTraining(): void {
    const s = this.store.getState();
    const stage: TrainingStage = s.setup.kind === 'latent' ? s.training.stage : 'denoiser';
    this.worker.send({ type: 'train/resume', training: { ...s.training, stage, stream: this.stream, quality: this.quality.settings() } });
  }

  /** Forgets the trained weights (pretrained, imported or trained here): the next run starts from fresh ones. */
  resetTraining(): void {
    this.recovery.forget();
    this.worker.send({ type: 'train/reset' });
    this.clearTrainingView();
    this.sources.toScratch();
  }

  /** Loads the pretrained model of `kind` once the engine is ready (see ModelSources.loadPretrained); the model it replaces is kept. */
  loadPretrained(kind: ModelKind): void {
    const s = this.store.getState();
    if (keepableAs(s) === 'pretrained' && s.pretrained.kind === kind) return this.sources.loadPretrained(kind);
    this.sources.keepThen(() => this.sources.loadPretrained(kind));
  }

  /** Fresh weights from the Model panel's setup, the training form back at its defaults; the model it replaces is kept. */
  trainFromScratch(): void {
    if (this.store.getState().pretrained.source === 'scratch') return;
    this.sources.keepThen(() => this.sources.trainFromScratch());
  }

  /** Asks the engine for the model's files; they are downloaded when they arrive. */
  exportModel(): void {
    this.sources.exportModel();
  }

  /** Reads the picked files (a .json and a .bin, any names) and sends them to the engine. */
  importModel(picked: readonly File[]): Promise<void> {
    return this.sources.importModel(picked);
  }

  startSampling(): void {
    this.setup.flush();
    const { setup, sampling: form } = this.store.getState();
    const sampling: SamplingConfig = {
      ...form,
      digit: setup.classConditional ? form.digit : null,
      useEma: setup.emaDecay > 0 && form.useEma,
    };
    const adaptive = sampling.adaptive !== undefined && sampling.adaptive !== 'off';
    this.store.setState({ sample: { ...IDLE_SAMPLE, state: 'running', total: adaptive ? 0 : sampling.steps, numImages: sampling.numImages, latent: setup.kind === 'latent', caption: runCaption(setup, sampling), schedule: setup.schedule, adaptive } });
    const run = ++this.sampleRun;
    this.record.begin(run);
    this.worker.send({ type: 'sample/start', sampling, run });
  }

  /** A run that is not the Sampling panel's (an edit): the store and the denoising player take it like one. */
  private beginRun(caption: string, numImages: number, steps: number): number {
    this.setup.flush();
    const { setup } = this.store.getState();
    this.store.setState({ sample: { ...IDLE_SAMPLE, state: 'running', total: steps, numImages, latent: setup.kind === 'latent', caption, schedule: setup.schedule } });
    const run = ++this.sampleRun;
    this.record.begin(run);
    return run;
  }

  pauseSampling(): void {
    this.worker.send({ type: 'sample/pause' });
  }

  resumeSampling(): void {
    this.worker.send({ type: 'sample/resume' });
  }

  cancelSampling(): void {
    this.worker.send({ type: 'sample/cancel' });
  }

  dismissError(id: number): void {
    this.store.setState((s) => ({ errors: s.errors.filter((e) => e.id !== id) }));
  }

  reportError(message: string, source: string): void {
    const id = this.nextErrorId++;
    // Keep the last few only: an error that repeats every frame must not grow the page forever.
    this.store.setState((s) => ({ errors: [...s.errors.slice(-4), { id, message, source }] }));
  }

  private clearTrainingView(): void {
    this.book.requestedStage = null;
    this.view.clear();
    this.quality.clear();
    this.distill.onNewModel();
  }

  private onMessage(msg: WorkerToPage): void {
    if (isLabMessage(msg)) return this.lab.onMessage(msg);
    if (isEditMessage(msg)) return this.edit.onMessage(msg);
    if (isQualityMessage(msg)) return this.quality.onMessage(msg);
    if (isDistillMessage(msg)) this.distill.onMessage(msg);
    if (msg.type === 'ready') this.distill.onEngineReady();
    if (msg.type === 'error' && msg.source === 'distill') this.distill.onError(msg.message);
    if (msg.type === 'sample/state') this.edit.onSampleState(msg.state);
    if (msg.type === 'error' && msg.source === 'edit') this.edit.onError();
    // A state change lands after the progress held back so far: the reducer reads the store with it.
    if (msg.type === 'train/state') this.view.flush();
    const result = reduceMessage({ ...this.store.getState(), ...this.book }, msg);
    for (const effect of result.before ?? []) this.run(effect);
    if (result.book) Object.assign(this.book, result.book);
    if (Object.keys(result.patch).length > 0) this.store.setState(result.patch);
    for (const effect of result.after ?? []) this.run(effect);
    this.sources.afterMessage(msg);
  }

  private run(effect: Effect): void {
    switch (effect.type) {
      case 'send':
        return this.worker.send(effect.message);
      case 'frames':
        return this.frames.setState((f) => ({ ...effect.frames, seq: f.seq + 1 }));
      case 'clear-loss':
        return this.view.clearLoss();
      case 'progress':
        this.view.append(effect.steps, effect.losses, effect.bands);
        return this.view.progress(effect.progress);
      case 'record':
        return this.record.add(effect.steps);
      case 'compare':
        return applyCompareMessage(this.compare, effect.message);
      case 'compare-failed':
        if (this.compare.getState().status === 'running') this.compare.setState({ status: 'failed', message: effect.message });
        return;
      case 'recovery':
        return this.recovery.onMessage(effect.message);
      case 'recovery-ready':
        return this.recovery.onReady();
      case 'restore-failed':
        return this.recovery.onRestoreFailed();
      case 'report-error':
        return this.reportError(effect.message, effect.source);
      case 'new-model':
        this.setup.cancel();
        return this.clearTrainingView();
      case 'fresh-weights':
        this.sources.toScratch();
        return this.sources.restartFresh();
      case 'exported':
        return this.sources.onExported(effect.files);
    }
  }
}
