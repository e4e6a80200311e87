/**
 * The worker's brain, kept free of worker globals so that Node tests can drive it: it takes the
 * page's messages (src/worker/protocol.ts), owns the dataset, the model and the runs, and posts
 * results through an injected `post`. Training and sampling are async loops that stop at step
 * boundaries (RunControl), so pause / resume / cancel / reset take effect within one step.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName, ModelSetup, PageToWorker, WorkerToPage, TrainingConfig, SamplingConfig } from '../worker/protocol';
import { makeSchedule, type NoiseSchedule } from '../diffusion';
import { DEFAULT_SCHEDULE } from '../diffusion/config';
import { UNET_CONFIGS, unetStats } from '../models/config';
import { createUNet, type UNet } from '../models/unet';
import { splitTrainHeldOut, type MnistDataset, type TrainHeldOutSplit } from '../data/mnist';
import { createBatchProvider } from '../data/batches';
import type { BackendInit } from './backends';
import { Trainer } from './trainer';
import { RunControl, RunCancelled } from './run-control';
import { runTraining } from './training-run';
import { runSampling } from './sampling-run';
import { toImageBatch } from './frames';
import { sampleFrames, type SamplingRequest } from './sampling';

export interface EngineDeps {
  post: (message: WorkerToPage) => void;
  initBackend: (requested: BackendName | null) => Promise<BackendInit>;
  loadData: () => Promise<MnistDataset>;
  /** How often to report tensor memory, in ms (0 = never). */
  memoryIntervalMs?: number;
}

const PREVIEW_SAMPLER: SamplingRequest = {
  kind: 'ddim', steps: 10, eta: 0, spacing: 'leading', ddpmVariance: 'betaTilde', clipping: 'clip', guidance: 1, numImages: 8, seed: 1,
};

export const DEFAULT_SETUP: ModelSetup = { schedule: DEFAULT_SCHEDULE, preset: 'tiny', prediction: 'epsilon' };

export class Engine {
  private data: { dataset: MnistDataset; split: TrainHeldOutSplit } | null = null;
  private setup: ModelSetup = DEFAULT_SETUP;
  private schedule: NoiseSchedule = makeSchedule(DEFAULT_SCHEDULE);
  private model: UNet | null = null;
  private trainer: Trainer | null = null;
  private training: RunControl | null = null;
  private sampling: RunControl | null = null;
  private trainingDone: Promise<void> = Promise.resolve();
  private samplingDone: Promise<void> = Promise.resolve();
  private memoryTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: EngineDeps) {}

  async handle(message: PageToWorker): Promise<void> {
    switch (message.type) {
      case 'init':
        return this.init(message.backend);
      case 'setup':
        return this.applySetup(message.setup);
      case 'data/preview':
        return this.preview(message.count);
      case 'train/start':
        return this.startTraining(message.training);
      case 'train/pause':
        this.training?.pause();
        return this.postTrainState();
      case 'train/resume':
        this.training?.resume();
        return this.postTrainState();
      case 'train/reset':
        return this.reset();
      case 'sample/start':
        return this.startSampling(message.sampling);
      case 'sample/pause':
        this.sampling?.pause();
        return this.deps.post({ type: 'sample/state', state: 'paused' });
      case 'sample/resume':
        this.sampling?.resume();
        return this.deps.post({ type: 'sample/state', state: 'running' });
      case 'sample/cancel':
        this.sampling?.cancel();
        return;
    }
  }

  private async init(requested: BackendName | null): Promise<void> {
    const result = await this.deps.initBackend(requested);
    this.deps.post({ type: 'ready', backend: result.backend, requested, fallbackNote: result.fallbackNote, adapter: result.adapter });
    const every = this.deps.memoryIntervalMs ?? 500;
    if (every > 0 && this.memoryTimer == null) this.memoryTimer = setInterval(() => this.postMemory(), every);
    this.postMemory();
    this.postModelInfo();
  }

  postMemory(): void {
    const m = tf.memory();
    this.deps.post({ type: 'memory', numTensors: m.numTensors, numBytes: m.numBytes });
  }

  private async ensureData(): Promise<{ dataset: MnistDataset; split: TrainHeldOutSplit }> {
    if (this.data == null) {
      const dataset = await this.deps.loadData();
      this.data = { dataset, split: splitTrainHeldOut(dataset) };
    }
    return this.data;
  }

  private async preview(count: number): Promise<void> {
    const { dataset, split } = await this.ensureData();
    const provider = createBatchProvider(dataset, split.train, 1, 0);
    const p = provider.preview(count);
    this.deps.post({
      type: 'data/preview',
      images: { pixels: p.x, n: p.count, h: dataset.height, w: dataset.width, c: 1 },
      labels: p.labels,
      trainCount: split.train.length,
      heldOutCount: split.heldOut.length,
    });
  }

  /** A new setup replaces the model (validated first: a bad schedule leaves the current model alone). */
  private async applySetup(setup: ModelSetup): Promise<void> {
    const schedule = makeSchedule(setup.schedule);
    await this.stopRuns();
    this.setup = setup;
    this.schedule = schedule;
    this.disposeModel();
    this.postModelInfo();
    this.postTrainState();
  }

  private postModelInfo(): void {
    const stats = unetStats(UNET_CONFIGS[this.setup.preset]);
    this.deps.post({ type: 'model', preset: this.setup.preset, paramCount: stats.paramCount, flopsPerStep: stats.flopsPerImage });
  }

  private ensureModel(seed: number): UNet {
    if (this.model == null) this.model = createUNet(UNET_CONFIGS[this.setup.preset], seed);
    return this.model;
  }

  private async startTraining(config: TrainingConfig): Promise<void> {
    if (this.training != null && this.training.state !== 'cancelled') {
      this.training.resume();
      return this.postTrainState();
    }
    const { dataset, split } = await this.ensureData();
    const model = this.ensureModel(config.seed);
    if (this.trainer == null) {
      this.trainer = new Trainer({ model, schedule: this.schedule, prediction: this.setup.prediction, learningRate: config.learningRate, seed: config.seed });
    }
    const provider = createBatchProvider(dataset, split.train, config.batchSize, config.seed + this.trainer.step);
    const control = new RunControl();
    this.training = control;
    this.trainingDone = runTraining({
      trainer: this.trainer,
      provider,
      config,
      control,
      post: this.deps.post,
      preview: (step) => this.trainingPreview(step),
    }).then(
      (state) => {
        if (this.training === control) this.training = null;
        this.deps.post({ type: 'train/state', state, step: this.trainer?.step ?? 0 });
      },
      (err) => {
        if (this.training === control) this.training = null;
        this.reportError('train', err);
        this.deps.post({ type: 'train/state', state: 'idle', step: this.trainer?.step ?? 0 });
      },
    );
    this.postTrainState();
  }

  /** A quick DDIM-10 look at what the model makes now, on 8 fixed-seed images. */
  private async trainingPreview(step: number): Promise<void> {
    if (this.model == null) return;
    const frames = sampleFrames(this.model, this.schedule, this.setup.prediction, {
      ...PREVIEW_SAMPLER,
      steps: Math.min(PREVIEW_SAMPLER.steps, this.schedule.T),
    });
    for (const frame of frames) {
      if (frame.index === frame.total - 1) {
        const images = await toImageBatch(frame.xt);
        this.deps.post({ type: 'train/preview', step, images });
      }
    }
  }

  private postTrainState(): void {
    const state = this.training == null ? (this.trainer == null ? 'idle' : 'done') : this.training.state === 'paused' ? 'paused' : 'running';
    this.deps.post({ type: 'train/state', state, step: this.trainer?.step ?? 0 });
  }

  private async startSampling(config: SamplingConfig): Promise<void> {
    this.sampling?.cancel();
    await this.samplingDone;
    const model = this.ensureModel(0);
    const control = new RunControl();
    this.sampling = control;
    this.deps.post({ type: 'sample/state', state: 'running' });
    this.samplingDone = runSampling({ model, schedule: this.schedule, prediction: this.setup.prediction, config, control, post: this.deps.post })
      .then(
        (state) => this.deps.post({ type: 'sample/state', state }),
        (err) => {
          this.reportError('sample', err);
          this.deps.post({ type: 'sample/state', state: 'idle' });
        },
      )
      .finally(() => {
        if (this.sampling === control) this.sampling = null;
      });
  }

  private async stopRuns(): Promise<void> {
    this.training?.cancel();
    this.sampling?.cancel();
    await Promise.all([this.trainingDone, this.samplingDone]);
  }

  /** Forget the trained model: stop the runs and free every weight and optimizer slot. */
  async reset(): Promise<void> {
    await this.stopRuns();
    this.disposeModel();
    this.postTrainState();
    this.postMemory();
  }

  private disposeModel(): void {
    this.trainer?.dispose();
    this.trainer = null;
    this.model?.dispose();
    this.model = null;
  }

  private reportError(source: 'train' | 'sample', err: unknown): void {
    if (err instanceof RunCancelled) return;
    this.deps.post({ type: 'error', source, message: err instanceof Error ? err.message : String(err) });
  }

  async dispose(): Promise<void> {
    if (this.memoryTimer != null) clearInterval(this.memoryTimer);
    await this.reset();
  }
}
