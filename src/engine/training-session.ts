/**
 * Training of one DiffusionModel across runs: the denoiser's trainer (Adam state, step count) and,
 * for a latent model, the autoencoder's (stage 1), the run in progress, and what the page is told
 * about it. A latent model trains in two stages (Rombach et al. 2022): the autoencoder first, then
 * the denoiser on its frozen, normalized latents; once the denoiser has started, the autoencoder is
 * frozen for good (retraining it would move the latents under the denoiser).
 *
 * The session keeps the loss history of the stage in training and checkpoints itself (see
 * ./training-checkpoint.ts): the last one stays in memory, for the NaN guard to roll back to, and
 * a copy goes to the page ('train/checkpoint'), which stores it for a reload or a worker restart.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion';
import type { ModelSetup } from '../models/setup/model-setup';
import type { TrainingConfig, TrainingStage } from './run-config';
import type { WorkerToPage } from '../protocol/messages';
import { createBatchProvider } from '../data/batches';
import { imagesToUnit } from '../data/mnist';
import { RunControl } from './run-control';
import { runTraining, type CheckpointReason, type StepResult } from './training-run';
import type { WeightsArtifacts } from '../io/weights-file';
import { assignCheckpointWeights, restoreTrainers, saveTrainingCheckpoint, type TrainingParts } from './training-checkpoint';
import { toModelFiles } from '../io/model-files';
import type { LossTrace, TrainingResume } from '../io/training-state';
import { Trainer } from './trainer';
import { isScheduled, learningRateAt } from '../diffusion/lr-schedule';
import { AutoencoderTrainer, measureLatentNormalization } from './autoencoder-trainer';
import { LatentCache } from './latent-cache';
import type { QualityCurve } from './quality-curve';
import { sampleFrames } from '../sampling/sample';
import { toImageBatch } from './frames';
import { measurePeak } from '../eval/peak-memory';
import type { DiffusionModel } from '../models/diffusion-model';
import type { DataState } from '../data/mnist';

/** Images used to measure the latent normalization, and shown as reconstructions. */
const NORMALIZATION_IMAGES = 256;
const PREVIEW_IMAGES = 8;
/** Training checkpoints itself every this many steps unless the configuration says otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 50;

export interface TrainingSessionOptions {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  setup: ModelSetup;
  data: DataState;
  post: (message: WorkerToPage) => void;
  /** Called when step counts, peaks or the latent normalization change. */
  onChange: () => void;
  /** Step counts of an imported model (its optimizer state is not kept: Adam restarts). */
  resumeFrom?: { autoencoderSteps: number; denoiserSteps: number };
  /** The loss history an imported model or checkpoint carries. */
  history?: LossTrace | null;
  /** Throws when a run of `config` cannot fit the device (the memory guard); called before a run starts. */
  guard?: (config: TrainingConfig) => void;
  /** The live quality curve, checked after each denoiser step (./quality-curve.ts). */
  quality?: QualityCurve;
}

/** Adam keeps its moments; a new learning rate from the form applies from the next step on. */
function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
}

export class TrainingSession {
  private denoiser: Trainer | null = null;
  private autoencoder: AutoencoderTrainer | null = null;
  private control: RunControl | null = null;
  private done: Promise<void> = Promise.resolve();
  private stage: TrainingStage = 'denoiser';
  private readonly stepOffsets: { autoencoder: number; denoiser: number };
  peakTrainBytes: number | null = null;
  /** The loss curve of the stage in training (what the page's chart shows). */
  private history: LossTrace = { stage: 'denoiser', steps: [], losses: [] };
  /** The configuration of the run in progress (or of the last one). */
  private runConfig: TrainingConfig | null = null;
  /** After a restore: the configuration a Resume goes on with. */
  private restoredConfig: TrainingConfig | null = null;
  /** The last checkpoint (finite weights), which a non-finite loss rolls back to. */
  private lastGood: { artifacts: WeightsArtifacts; step: number } | null = null;
  /** Latent models: the training images' latents, encoded once through the frozen encoder (./latent-cache.ts). */
  readonly latentCache: LatentCache | null;
  /** Training time of the earlier runs and of the run in progress, ms (the quality curve's clock). */
  private trainedMs = { before: 0, run: 0 };

  constructor(private readonly options: TrainingSessionOptions) {
    this.stepOffsets = { autoencoder: options.resumeFrom?.autoencoderSteps ?? 0, denoiser: options.resumeFrom?.denoiserSteps ?? 0 };
    if (options.history) this.history = { stage: options.history.stage, steps: [...options.history.steps], losses: [...options.history.losses] };
    this.latentCache = options.model.kind === 'latent' ? new LatentCache(options.data.dataset, options.data.split.train) : null;
  }

  get autoencoderSteps(): number {
    return this.stepOffsets.autoencoder + (this.autoencoder?.step ?? 0);
  }

  get denoiserSteps(): number {
    return this.stepOffsets.denoiser + (this.denoiser?.step ?? 0);
  }

  private stepsOf(stage: TrainingStage): number {
    return stage === 'autoencoder' ? this.autoencoderSteps : this.denoiserSteps;
  }

  /**
   * Starts a run of `config.stage`, or resumes the paused run of that stage. A paused run of the
   * other stage is ended first (stage 1's latent normalization is measured then).
   */
  async start(requested: TrainingConfig): Promise<void> {
    const { quality: qualitySettings, ...config } = requested; // the curve is the engine's: checkpoints keep no such field
    if (qualitySettings !== undefined) this.options.quality?.set(qualitySettings);
    const resumingThisStage = this.control != null && this.control.state !== 'cancelled' && config.stage === this.stage;
    if (!resumingThisStage) this.options.guard?.(config);
    if (this.control != null && this.control.state !== 'cancelled') {
      if (config.stage === this.stage) {
        this.control.resume();
        return this.postState();
      }
      if (this.control.state !== 'paused') throw new Error(`The ${this.stage} is training: pause it, or wait, before training the ${config.stage}.`);
      await this.stop();
    }
    const { model } = this.options;
    if (config.stage === 'autoencoder') {
      if (model.autoencoder == null) throw new Error('A pixel model has no autoencoder: choose the latent model to train one.');
      if (this.denoiserSteps > 0) throw new Error('The denoiser is already trained on this autoencoder\'s latents: reset to retrain the autoencoder.');
    } else if (model.kind === 'latent' && model.latent == null) {
      throw new Error('Train the autoencoder first (stage 1): the latent denoiser learns on its latents.');
    }
    this.stage = config.stage;
    const control = new RunControl();
    this.control = control;
    const takeStep = this.stepper(config);
    this.runConfig = config;
    this.restoredConfig = null;
    if (this.history.stage !== config.stage) this.history = { stage: config.stage, steps: [], losses: [] };
    this.peakTrainBytes = null; // measured again on this run's first step (stages differ)
    this.trainedMs = { before: this.trainedMs.before + this.trainedMs.run, run: 0 };
    const quality = config.stage === 'denoiser' ? this.options.quality : undefined;
    this.done = runTraining({
      stage: config.stage,
      totalSteps: config.steps,
      takeStep: async () => {
        const step = await takeStep(); // the batch (for a latent model, its latents) is ready; the step itself is synchronous
        if (this.peakTrainBytes != null) return step();
        const result = await measurePeak(step, (bytes) => (this.peakTrainBytes = bytes));
        this.options.onChange();
        return result;
      },
      stepCount: () => this.stepsOf(config.stage),
      control,
      post: this.options.post,
      previewEvery: config.stream === false ? 0 : config.previewEvery,
      progressPerSecond: config.stream === false ? 0 : undefined,
      preview: (step) => (config.stage === 'autoencoder' ? this.postReconstructions(step) : this.postSamples(step)),
      onLoss: (step, loss) => {
        this.history.steps.push(step);
        this.history.losses.push(loss);
      },
      save: (reason) => this.save(reason),
      saveEvery: config.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
      recover: (step, loss) => this.rollback(control, step, loss),
      afterStep: async (step, ms) => {
        this.trainedMs.run = ms;
        const { model, schedule, setup } = this.options;
        await quality?.afterStep({ model, schedule, prediction: setup.prediction, control, step, trainingMs: this.trainedMs.before + ms });
      },
    })
      .then(async (state) => {
        if (config.stage === 'autoencoder') await this.normalizeLatents();
        return state;
      })
      .then(
        (state) => this.finish(control, state),
        (err) => {
          this.options.post({ type: 'error', source: 'train', message: err instanceof Error ? err.message : String(err) });
          this.finish(control, 'idle');
        },
      );
    this.postState();
  }

  /** A function that gets the next batch ready and resolves to the (synchronous) step on it. */
  private stepper(config: TrainingConfig): () => Promise<() => StepResult> {
    const { model, schedule, setup, data } = this.options;
    const provider = createBatchProvider(data.dataset, data.split.train, config.batchSize, config.seed + this.stepsOf(config.stage));
    const shape: [number, number, number, number] = [config.batchSize, data.dataset.height, data.dataset.width, 1];
    if (config.stage === 'autoencoder') {
      this.latentCache?.invalidate(); // the encoder is about to change (the key would notice too)
      this.autoencoder ??= new AutoencoderTrainer(model.autoencoder!, { learningRate: config.learningRate, seed: config.seed });
      const trainer = this.autoencoder;
      setLearningRate(trainer.optimizer, config.learningRate);
      const scheduleAeRate = isScheduled(config) ? () => setLearningRate(trainer.optimizer, learningRateAt(this.runConfig ?? config, this.autoencoderSteps)) : () => {};
      return async () => () => {
        const x = provider.next().x;
        scheduleAeRate();
        return trainer.trainStep(x, shape);
      };
    }
    this.denoiser ??= new Trainer({ model, schedule, prediction: setup.prediction, learningRate: config.learningRate, seed: config.seed, minSnrGamma: setup.minSnrGamma });
    const trainer = this.denoiser;
    setLearningRate(trainer.optimizer, config.learningRate);
    // A scheduled rate is set before every step, from the run's configuration (a Resume may lower its base rate).
    const scheduleRate = isScheduled(config) ? () => setLearningRate(trainer.optimizer, learningRateAt(this.runConfig ?? config, this.denoiserSteps)) : () => {};
    const cache = this.latentCache;
    if (cache == null) {
      return async () => () => {
        const batch = provider.next();
        scheduleRate();
        return trainer.trainStep(batch.x, shape, batch.labels);
      };
    }
    const latentShape = model.sampleShape(config.batchSize);
    return async () => {
      const batch = provider.next();
      const x0 = await cache.latents(model, batch, this.autoencoderSteps);
      return () => {
        scheduleRate();
        return trainer.trainStepOnX0(x0, latentShape, batch.labels);
      };
    };
  }

  private finish(control: RunControl, state: 'done' | 'idle' | 'running' | 'paused'): void {
    if (this.control === control) this.control = null;
    this.options.post({ type: 'train/state', state, step: this.stepsOf(this.stage) });
    this.options.onChange();
  }

  /** After stage 1: the shift and scale that give the training latents zero mean and unit variance. */
  private async normalizeLatents(): Promise<void> {
    const { model, data } = this.options;
    if (model.autoencoder == null || this.autoencoderSteps === 0) return;
    const indices = data.split.train.subarray(0, NORMALIZATION_IMAGES);
    model.latent = await measureLatentNormalization(model.autoencoder, imagesToUnit(data.dataset, indices), indices.length);
  }

  /** A quick DDIM-10 look at what the model makes now (EMA weights if any), 8 fixed-seed images. */
  private async postSamples(step: number): Promise<void> {
    const { model, schedule, setup } = this.options;
    const request = { kind: 'ddim', steps: Math.min(10, schedule.T), eta: 0, spacing: 'leading', ddpmVariance: 'betaTilde', clipping: 'clip', guidance: 1, numImages: PREVIEW_IMAGES, seed: 1, digit: null } as const; // sampleFrames turns clipping off for latents
    for (const frame of sampleFrames(model, schedule, setup.prediction, request)) {
      if (frame.index !== frame.total - 1) continue;
      const images = model.decode(frame.xt);
      try {
        this.options.post({ type: 'train/preview', step, images: await toImageBatch(images) });
      } finally {
        images.dispose();
      }
    }
  }

  /** Held-out digits beside their reconstructions through the autoencoder. */
  private async postReconstructions(step: number): Promise<void> {
    const { model, data } = this.options;
    const ae = model.autoencoder;
    if (ae == null) return;
    const indices = data.split.heldOut.subarray(0, PREVIEW_IMAGES);
    const x = tf.tensor4d(imagesToUnit(data.dataset, indices), [indices.length, 28, 28, 1]);
    const recon = tf.tidy(() => tf.clipByValue(ae.decode(ae.encode(x).mean), -1, 1) as tf.Tensor4D);
    try {
      const [originals, reconstructions] = await Promise.all([toImageBatch(x), toImageBatch(recon)]);
      this.options.post({ type: 'train/reconstructions', step, originals, reconstructions });
    } finally {
      tf.dispose([x, recon]);
    }
  }

  pause(): void {
    this.control?.pause();
    this.postState();
  }

  /**
   * Resumes the paused run, with the learning rate of `training` when given (e.g. a lower one
   * after a non-finite loss). After a restore there is no run yet: one starts from the checkpoint.
   */
  async resume(training?: TrainingConfig): Promise<void> {
    if (training?.quality !== undefined) this.options.quality?.set(training.quality);
    if (this.control == null && this.restoredConfig != null) {
      // The form's learning rate and batch size (e.g. lowered after a non-finite loss, or to fit another backend after a crash).
      const config = { ...this.restoredConfig, ...(training ? { learningRate: training.learningRate, batchSize: training.batchSize, stream: training.stream } : {}) };
      return this.start(config);
    }
    const trainer = this.stage === 'autoencoder' ? this.autoencoder : this.denoiser;
    if (training && trainer && this.control?.state === 'paused') {
      setLearningRate(trainer.optimizer, training.learningRate);
      if (this.runConfig) this.runConfig = { ...this.runConfig, learningRate: training.learningRate };
    }
    this.control?.resume();
    this.postState();
  }

  private parts(): TrainingParts {
    const { model, setup } = this.options;
    const config = this.runConfig ?? this.restoredConfig;
    if (config == null) throw new Error('internal: a checkpoint needs the run\'s configuration.');
    return { model, setup, denoiser: this.denoiser, autoencoder: this.autoencoder, offsets: this.stepOffsets, stage: this.stage, config, history: this.history };
  }

  /** Checkpoints the state now; false (and nothing kept) when a weight is not finite. */
  private async save(reason: CheckpointReason): Promise<boolean> {
    let artifacts: WeightsArtifacts;
    try {
      artifacts = await saveTrainingCheckpoint(this.parts());
    } catch (err) {
      if (err instanceof Error && /non-finite/.test(err.message)) return false;
      throw err;
    }
    const step = this.stepsOf(this.stage);
    this.lastGood = { artifacts, step };
    this.options.post({ type: 'train/checkpoint', step, stage: this.stage, reason, totalSteps: this.parts().config.steps, files: toModelFiles(artifacts) });
    return true;
  }

  /** A non-finite loss at `badStep`: back to the last checkpoint (weights, Adam, steps, history), paused. */
  private async rollback(control: RunControl, badStep: number, loss: number): Promise<void> {
    const good = this.lastGood;
    const lr = this.runConfig?.learningRate ?? 0;
    if (good == null) throw new Error(`The loss became ${loss} at step ${badStep} and there is no checkpoint to go back to. Try a lower learning rate (now ${lr}).`);
    const { info, tensors } = assignCheckpointWeights(this.options.model, good.artifacts);
    this.latentCache?.invalidate(); // the autoencoder's weights were written again
    try {
      if (info.resume) await restoreTrainers({ model: this.options.model, denoiser: this.denoiser, autoencoder: this.autoencoder }, info.resume, tensors);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    if (info.history) this.history = { stage: info.history.stage, steps: [...info.history.steps], losses: [...info.history.losses] };
    control.pause();
    this.postHistory();
    this.options.post({ type: 'train/diverged', step: badStep, loss, restoredStep: good.step, stage: this.stage, learningRate: lr });
    this.postState();
    this.options.onChange();
  }

  /**
   * Takes over a checkpoint's run after a reload or a worker restart: the trainers of `resume`
   * with their Adam moments (`tensors`, not disposed here), step counts and random generators, and
   * the loss history. The session then waits, paused, for Resume.
   */
  async restore(resume: TrainingResume, history: LossTrace | null, tensors: Map<string, tf.Tensor>): Promise<void> {
    const { model, schedule, setup } = this.options;
    const config = resume.config;
    if (resume.denoiser) this.denoiser ??= new Trainer({ model, schedule, prediction: setup.prediction, learningRate: config.learningRate, seed: config.seed, minSnrGamma: setup.minSnrGamma });
    if (resume.autoencoderStep !== null && model.autoencoder) this.autoencoder ??= new AutoencoderTrainer(model.autoencoder, { learningRate: config.learningRate, seed: config.seed });
    await restoreTrainers({ model, denoiser: this.denoiser, autoencoder: this.autoencoder }, resume, tensors);
    this.latentCache?.invalidate();
    this.stage = resume.stage;
    this.history = history && history.stage === resume.stage ? history : { stage: resume.stage, steps: [], losses: [] };
    this.restoredConfig = config;
    this.runConfig = config;
    this.postHistory();
    this.postState();
  }

  /** The loss history, replacing the page's (after a restore or a roll-back). */
  postHistory(): void {
    const h = this.history;
    this.options.post({ type: 'train/history', stage: h.stage, steps: Int32Array.from(h.steps), losses: Float32Array.from(h.losses) });
  }

  /** The loss history to keep in an exported file. */
  get lossHistory(): LossTrace {
    return { stage: this.history.stage, steps: [...this.history.steps], losses: [...this.history.losses] };
  }

  postState(): void {
    const c = this.control;
    const restoredMidway = this.restoredConfig != null && this.stepsOf(this.stage) < this.restoredConfig.steps;
    const state = c == null ? (restoredMidway ? 'paused' : this.stepsOf(this.stage) > 0 ? 'done' : 'idle') : c.state === 'paused' ? 'paused' : 'running';
    this.options.post({ type: 'train/state', state, step: this.stepsOf(this.stage) });
  }

  async stop(): Promise<void> {
    this.control?.cancel();
    await this.done;
  }

  dispose(): void {
    this.control?.cancel();
    this.denoiser?.dispose();
    this.autoencoder?.dispose();
    this.denoiser = null;
    this.autoencoder = null;
    this.latentCache?.invalidate();
  }
}
