/**
 * The worker's brain, kept free of worker globals so that Node tests can drive it: it takes the
 * page's messages (src/protocol/messages.ts), owns the dataset, the model and the runs, and posts
 * results through an injected `post`. Training and sampling are async loops that stop at step
 * boundaries (RunControl), so pause / resume / cancel / reset take effect within one step.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MODEL_SETUP, type ModelKind, type ModelSetup } from '../models/setup/model-setup';
import type { BackendName } from '../backends/names';
import type { CompareSettings } from '../eval/compare-report';
import type { ModelFile } from '../io/model-file';
import type { PageToWorker, WorkerToPage } from '../protocol/messages';
import type { SamplingConfig } from '../sampling/config';
import type { TrainingConfig } from './run-config';
import { makeSchedule, type NoiseSchedule } from '../diffusion';
import { splitTrainHeldOut, type DataState, type MnistDataset } from '../data/mnist';
import { createBatchProvider } from '../data/batches';
import type { BackendInit } from '../backends/select';
import { SamplingHost } from './sampling-host';
import { buildModel, setupStats, validateSetup } from '../models/factory';
import type { DiffusionModel } from '../models/diffusion-model';
import { saveModel, toModelFiles, type SavedModelInfo } from '../io/model-files';
import { TrainingSession } from './training-session';
import { readModel, readPretrainedModel, readTrainingCheckpoint } from './model-sources';
import type { PretrainedReader } from '../io/pretrained';
import { CompareSession } from './compare-run';
import { QualityCurve } from './quality-curve';
import type { MemoryBudget } from '../models/setup/memory';
import { samplingMemoryProblem, trainingMemoryProblem } from './memory-guard';
import { memoryBudgetOf } from '../backends/memory-limits';
import { loseGpuDeviceForTest } from '../backends/device-watch';
import { LabEngine } from './lab/lab-engine';
import { EditHost } from './edit-host';
import { answerDecode } from './record-decode';
import { editBatch, type EditRequest } from '../sampling/edit-config';
import { DistillHost, distillTarget } from './distill-run';
import { isDistillRequest } from '../protocol/distill-messages';

export interface EngineDeps {
  post: (message: WorkerToPage) => void;
  initBackend: (requested: BackendName | null, avoid?: readonly BackendName[], threads?: number) => Promise<BackendInit>;
  loadData: () => Promise<MnistDataset>;
  /** How often to report tensor memory, in ms (0 = never). */
  memoryIntervalMs?: number;
  /** Reads the pretrained models' files (fetch in the worker, a folder in Node); without it none can be loaded. */
  readPretrained?: PretrainedReader;
  /** What the device can hold (the memory guard); defaults to the budget of the backend in use (./memory-limits.ts). */
  memoryBudget?: () => MemoryBudget;
}

export class Engine {
  private data: DataState | null = null;
  private setup: ModelSetup = DEFAULT_MODEL_SETUP;
  private schedule: NoiseSchedule = makeSchedule(DEFAULT_MODEL_SETUP.schedule);
  private model: DiffusionModel | null = null;
  private training: TrainingSession | null = null;
  private readonly sampling: SamplingHost;
  /** Edit runs (issue 21): one at a time, sharing the device with sampling. */
  private readonly edit: EditHost;
  private memoryTimer: ReturnType<typeof setInterval> | null = null;

  private readonly compare: CompareSession;
  /** The live quality curve (issue 18): the classifier and reference it loads are kept across models. */
  private readonly quality: QualityCurve;
  /** The 2D lab's model and runs (./lab/), independent of the image model. */
  private readonly lab: LabEngine;
  /** The Training panel's Distill stage (./distill-run.ts): the page's model distilled into a student of fewer steps. */
  private readonly distill: DistillHost;

  constructor(private readonly deps: EngineDeps) {
    this.sampling = new SamplingHost(deps.post, () => this.postModelInfo());
    this.lab = new LabEngine(deps.post);
    this.edit = new EditHost(deps.post);
    this.compare = new CompareSession({ post: deps.post, read: deps.readPretrained, loadData: async () => (await this.ensureData()).dataset });
    this.quality = new QualityCurve({ post: deps.post, read: deps.readPretrained, loadData: async () => (await this.ensureData()).dataset });
    this.distill = new DistillHost({ post: deps.post, target: async () => distillTarget(this.model, this.setup, this.schedule, this.training, await this.ensureData()), prepare: () => this.compare.stop().then(() => this.quiet()), adopt: (m, info, announce) => this.adopt(m, info, announce) });
  }

  async handle(message: PageToWorker): Promise<void> {
    switch (message.type) {
      case 'init':
        return this.init(message.backend, message.avoid ?? [], message.threads);
      case 'setup':
        return this.applySetup(message.setup);
      case 'data/preview':
        return this.preview(message.count);
      case 'train/start':
        return this.startTraining(message.training);
      case 'train/pause':
        return this.training?.pause();
      case 'train/resume':
        return this.training?.resume(message.training);
      case 'train/restore':
        return this.restoreCheckpoint(message.files);
      case 'test/poison-weights':
        return this.poisonWeights();
      case 'test/lose-device':
        if (!loseGpuDeviceForTest()) throw new Error('There is no GPU device to lose: the backend is not WebGPU.');
        return;
      case 'train/reset':
        return this.reset();
      case 'sample/start':
        return this.startSampling(message.sampling, message.run ?? 0);
      case 'sample/pause':
      case 'sample/resume':
      case 'sample/cancel':
        return this.edit.running ? this.edit.control(message.type) : this.sampling.control(message.type);
      case 'sample/decode':
        return answerDecode(this.model, message, this.deps.post);
      case 'edit/start':
        return this.startEdit(message.edit, message.run);
      case 'edit/convert':
        return this.edit.convert(message.id, message.width, message.height, message.rgba);
      case 'model/export':
        return this.exportModel();
      case 'model/import':
        return this.importModel(message.files);
      case 'model/pretrained':
        return this.loadPretrained(message.kind, message.id);
      case 'compare/start':
        return this.startCompare(message.compare);
      case 'compare/cancel':
        return this.compare.stop();
      case 'quality/set':
        return this.quality.set(message.settings);
      default:
        return isDistillRequest(message) ? this.distill.handle(message) : this.lab.handle(message);
    }
  }

  private async init(requested: BackendName | null, avoid: readonly BackendName[], threads?: number): Promise<void> {
    const result = await this.deps.initBackend(requested, avoid, threads);
    this.deps.post({ type: 'ready', backend: result.backend, requested, fallbackNote: result.fallbackNote, adapter: result.adapter, wasmThreads: result.wasmThreads ?? null, ...(result.choiceNote ? { choiceNote: result.choiceNote } : {}) });
    const every = this.deps.memoryIntervalMs ?? 500;
    if (every > 0 && this.memoryTimer == null) this.memoryTimer = setInterval(() => this.postMemory(), every);
    this.postMemory();
    this.postModelInfo();
  }

  postMemory(): void {
    const m = tf.memory();
    this.deps.post({ type: 'memory', numTensors: m.numTensors, numBytes: m.numBytes });
  }

  private async ensureData(): Promise<DataState> {
    this.data ??= await this.deps.loadData().then((dataset) => ({ dataset, split: splitTrainHeldOut(dataset) }));
    return this.data as DataState;
  }

  private async preview(count: number): Promise<void> {
    const { dataset, split } = await this.ensureData();
    const p = createBatchProvider(dataset, split.train, 1, 0).preview(count);
    const images = { pixels: p.x, n: p.count, h: dataset.height, w: dataset.width, c: 1 };
    this.deps.post({ type: 'data/preview', images, labels: p.labels, trainCount: split.train.length, heldOutCount: split.heldOut.length });
  }

  /** A new setup replaces the model (validated first: a bad setup leaves the current model alone). */
  private async applySetup(setup: ModelSetup): Promise<void> {
    validateSetup(setup);
    const schedule = makeSchedule(setup.schedule);
    await this.stopRuns();
    this.setup = setup;
    this.schedule = schedule;
    this.disposeModel();
    this.postModelInfo();
    this.postTrainState();
  }

  postModelInfo(): void {
    const stats = setupStats(this.setup);
    const preset = this.setup.kind === 'latent' ? this.setup.latent.denoiser : this.setup.preset;
    this.deps.post({
      type: 'model',
      kind: this.setup.kind,
      preset,
      ...stats,
      autoencoderSteps: this.training?.autoencoderSteps ?? 0,
      denoiserSteps: this.training?.denoiserSteps ?? 0,
      peakTrainBytes: this.training?.peakTrainBytes ?? null,
      peakSampleBytes: this.sampling.peakBytes,
    });
  }

  private memoryBudget(): MemoryBudget {
    return this.deps.memoryBudget?.() ?? memoryBudgetOf(tf.getBackend());
  }

  /** The memory guard for a training run: throws (nothing started) when its batch cannot fit the device. */
  private checkTrainingMemory(config: TrainingConfig): void {
    const problem = trainingMemoryProblem(this.setup, config, this.memoryBudget());
    if (problem) throw new Error(problem);
  }

  private ensureModel(seed: number): DiffusionModel {
    if (this.model == null) this.model = buildModel(this.setup, seed);
    return this.model;
  }

  private async startTraining(config: TrainingConfig): Promise<void> {
    await this.compare.stop();
    const data = await this.ensureData();
    const model = this.ensureModel(config.seed);
    this.training ??= this.session(model, data);
    await this.training.start(config);
  }

  /** A training session of `model` (with an imported model's step counts and loss history). */
  private session(model: DiffusionModel, data: DataState, info?: SavedModelInfo): TrainingSession {
    const { schedule, setup, quality } = this;
    return new TrainingSession({ model, schedule, setup, data, post: this.deps.post, onChange: () => this.postModelInfo(), guard: (c) => this.checkTrainingMemory(c), quality, resumeFrom: info, history: info?.history });
  }

  private postTrainState(): void {
    if (this.training) this.training.postState();
    else this.deps.post({ type: 'train/state', state: 'idle', step: 0 });
  }

  private async startSampling(config: SamplingConfig, run = 0): Promise<void> {
    await this.compare.stop();
    await Promise.all([this.sampling.stop(), this.edit.stop()]);
    const problem = samplingMemoryProblem(this.setup, config, this.memoryBudget());
    if (problem) {
      this.deps.post({ type: 'sample/state', state: 'idle' });
      throw new Error(problem);
    }
    this.sampling.start(this.ensureModel(0), this.schedule, this.setup.prediction, config, run);
  }

  /**
   * An edit of the page's input on the current model, inside the memory guard: its batch (seeds or
   * frames; interpolating classes runs three passes, counted as two of 1.5× the frames).
   */
  private async startEdit(request: EditRequest, run: number): Promise<void> {
    await this.compare.stop();
    await Promise.all([this.sampling.stop(), this.edit.stop()]);
    const classes = request.mode === 'interpolate' && request.interpolation === 'classes';
    const n = editBatch(request);
    const sized = { ...request, numImages: classes ? Math.ceil(1.5 * n) : n, guidance: classes ? 2 : request.digit === null ? 1 : request.guidance };
    const problem = samplingMemoryProblem(this.setup, sized, this.memoryBudget());
    if (problem) {
      this.deps.post({ type: 'sample/state', state: 'idle' });
      throw new Error(problem);
    }
    this.edit.start(this.ensureModel(0), this.schedule, this.setup.prediction, request, run);
  }

  /** Compare needs the device to itself: training pauses and a sampling run is cancelled first. */
  private async startCompare(settings: CompareSettings): Promise<void> {
    await this.distill.stop(); // a comparison takes the device: a distillation in progress stops (its teacher stays the model)
    await this.quiet();
    await this.compare.start(settings);
  }

  /** Training paused, sampling and edit runs stopped (a comparison or a distillation takes the device). */
  private async quiet(): Promise<void> {
    this.training?.pause();
    await Promise.all([this.sampling.stop(), this.edit.stop()]);
    this.postTrainState();
  }

  private async stopRuns(): Promise<void> {
    await Promise.all([this.training?.stop(), this.sampling.stop(), this.edit.stop(), this.distill.stop()]);
  }

  /** Forget the trained model: stop the runs and free every weight and optimizer slot. */
  async reset(): Promise<void> {
    await this.stopRuns();
    this.disposeModel();
    this.postTrainState();
    this.postModelInfo();
    this.postMemory();
  }

  private disposeModel(): void {
    this.training?.dispose();
    this.training = null;
    this.model?.dispose();
    this.model = null;
    this.sampling.forgetPeak();
  }

  private async exportModel(): Promise<void> {
    if (this.model == null) throw new Error('There is no model to export yet: train one or import one first.');
    const history = this.training?.lossHistory;
    const artifacts = await saveModel(this.model, {
      setup: this.setup,
      latent: this.model.latent,
      autoencoderSteps: this.training?.autoencoderSteps ?? 0,
      denoiserSteps: this.training?.denoiserSteps ?? 0,
      history: history && history.steps.length > 0 ? history : null,
    });
    this.deps.post({ type: 'model/exported', files: toModelFiles(artifacts) });
  }

  /** Replaces the model with an imported one, only once the files have passed every check. */
  private async importModel(files: ModelFile[]): Promise<void> {
    const { model, info } = readModel(files);
    await this.adopt(model, info, { type: 'model/imported', setup: info.setup });
  }

  /** Installs a validated model, says so (`announce`), then describes it: an import, or a distilled student. */
  private async adopt(model: DiffusionModel, info: SavedModelInfo, announce: WorkerToPage): Promise<void> {
    await this.installModel(model, info);
    this.deps.post(announce);
    this.postModelInfo();
    this.postTrainState();
    this.training?.postHistory();
  }

  /**
   * Takes over a training checkpoint (after a reload or a worker restart): validated like an
   * import, then the model, Adam's moments, step counts and loss history; the run waits, paused.
   */
  private async restoreCheckpoint(files: ModelFile[]): Promise<void> {
    const { model, info, extras, resume } = await readTrainingCheckpoint(files);
    try {
      await this.installModel(model, { ...info, autoencoderSteps: resume.offsets.autoencoder, denoiserSteps: resume.offsets.denoiser, history: null });
      await this.training!.restore(resume, info.history ?? null, extras);
      const step = resume.stage === 'autoencoder' ? info.autoencoderSteps : info.denoiserSteps;
      this.deps.post({ type: 'train/restored', setup: info.setup, training: resume.config, step, stage: resume.stage });
      this.postModelInfo();
      this.training!.postState();
      this.training!.postHistory();
    } catch (err) {
      if (this.model !== model) model.dispose();
      throw err;
    } finally {
      for (const t of extras.values()) t.dispose();
    }
  }

  /** Test hook: one weight of the denoiser becomes NaN (the next training step's loss is then NaN). */
  private poisonWeights(): void {
    const first = this.model?.denoiser.weights.values().next().value;
    if (first == null) throw new Error('There is no model to poison.');
    tf.tidy(() => first.assign(tf.fill(first.shape, NaN)));
  }

  /**
   * Makes a validated model the engine's model: the runs stop, the old model is freed, and training
   * continues from the model's step counts (fine-tuning; Adam starts afresh).
   */
  private async installModel(model: DiffusionModel, info: SavedModelInfo): Promise<void> {
    let data: DataState;
    try {
      data = await this.ensureData();
    } catch (err) {
      model.dispose();
      throw err;
    }
    await this.stopRuns();
    this.disposeModel();
    this.setup = info.setup;
    this.schedule = makeSchedule(info.setup.schedule);
    this.model = model;
    this.training = this.session(model, data, info);
  }

  /**
   * Loads the pretrained model of `kind` (models/<kind>/ on the site) through the same checks as an
   * import. Missing or damaged files are reported as 'pretrained/failed' and leave the current model
   * exactly as it was; the page decides what to fall back to.
   */
  private async loadPretrained(kind: ModelKind, id: number): Promise<void> {
    try {
      const { model, info, pretrained } = await readPretrainedModel(this.deps.readPretrained, kind, (loaded, total, bytesPerSec) =>
        this.deps.post({ type: 'pretrained/progress', id, kind, loaded, total, bytesPerSec }),
      );
      await this.installModel(model, info);
      this.deps.post({ type: 'pretrained/loaded', id, kind, setup: info.setup, info: pretrained });
      this.postModelInfo();
      this.postTrainState();
      this.postMemory();
    } catch (err) {
      this.deps.post({ type: 'pretrained/failed', id, kind, message: err instanceof Error ? err.message : String(err) });
    }
  }

  async dispose(): Promise<void> {
    if (this.memoryTimer != null) clearInterval(this.memoryTimer);
    await this.compare.stop();
    await this.lab.dispose();
    await this.reset();
    this.quality.dispose();
  }
}
