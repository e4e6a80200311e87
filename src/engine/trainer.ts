/**
 * One DDPM training step (Ho et al. 2020, Algorithm 1) on the denoiser of a DiffusionModel, with
 * Adam: x0 = encode(images) (the images themselves, or their normalized latents), draw
 * t ~ U{0..T-1} and ε ~ N(0, I), build x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε, regress the model's output on the
 * target of the chosen parameterization (optionally min-SNR-γ weighted), take a gradient step and
 * update the EMA. Class-conditional denoisers see each label replaced by the null label with
 * probability `labelDropout` (10 % by default), so that classifier-free guidance works when sampling
 * (Ho & Salimans 2022).
 *
 * Shapes stay fixed from step to step (the WebGPU buffer pool is keyed by exact size), randomness
 * is derived from (seed, step) so a run is reproducible, and every tensor of a step is freed by
 * tf.tidy except the returned loss, which the caller reads asynchronously and disposes.
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from '../diffusion/config';
import { diffusionLossPerItem, drawTimesteps, type NoiseSchedule } from '../diffusion';
import { createRandom, deriveSeed, type Random, type RandomState } from '../data/random';
import { nullLabel } from '../models/setup/unet-config';
import type { DiffusionModel } from '../models/diffusion-model';

/** Independent random streams of one seed (each then indexed by step). */
const NOISE_STREAM = 11;
const DROPOUT_STREAM = 12;

export interface TrainerOptions {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  learningRate: number;
  seed: number;
  /** Min-SNR-γ loss weighting (Hang et al. 2023); undefined or 0 for plain MSE. */
  minSnrGamma?: number;
  /** Probability of training a class-conditional model on the null label (default 0.1). */
  labelDropout?: number;
}

export interface TrainStepResult {
  /** Mean loss of the batch (owned by the caller). */
  loss: tf.Scalar;
  /** Per-item losses [b] (owned by the caller), for loss-by-timestep charts. */
  itemLosses: tf.Tensor1D;
  /** The timesteps drawn for the batch. */
  t: Int32Array;
}

/** What a checkpoint needs to resume a Trainer exactly (besides the weights and optimizer state). */
export interface TrainerState {
  step: number;
  timestepRng: RandomState;
  labelRng: RandomState;
}

export class Trainer {
  readonly optimizer: tf.Optimizer;
  /** Number of optimization steps taken so far. */
  step = 0;
  private readonly timestepRng: Random;
  private readonly labelRng: Random;
  private readonly variables: tf.Variable[];

  constructor(private readonly options: TrainerOptions) {
    this.optimizer = tf.train.adam(options.learningRate);
    this.timestepRng = createRandom(deriveSeed(options.seed, 1));
    this.labelRng = createRandom(deriveSeed(options.seed, 2));
    this.variables = [...options.model.denoiser.weights.values()];
  }

  /** Labels with `labelDropout` of them replaced by the null label; null for unconditional models. */
  private trainingLabels(labels: Int32Array | undefined, batch: number): Int32Array | null {
    const config = this.options.model.denoiser.config;
    if (!config.numClasses) return null;
    if (labels == null || labels.length < batch) throw new Error('a class-conditional model needs a label for every image');
    const drop = this.options.labelDropout ?? 0.1;
    const out = new Int32Array(batch);
    for (let i = 0; i < batch; i++) out[i] = this.labelRng.uniform() < drop ? nullLabel(config) : labels[i];
    return out;
  }

  /**
   * One optimization step on a batch of clean images (values in [-1, 1], layout [b, 28, 28, 1])
   * and their labels (used only by class-conditional models).
   */
  trainStep(images: Float32Array, shape: [number, number, number, number], labels?: Int32Array): TrainStepResult {
    const model = this.options.model;
    return this.stepOn(() => model.encode(tf.tensor4d(images, shape)), shape[0], labels);
  }

  /**
   * The same step on x0 given directly in the denoiser's space (e.g. latents encoded once and
   * cached, so the frozen encoder does not run on every batch).
   */
  trainStepOnX0(x0: Float32Array, shape: [number, number, number, number], labels?: Int32Array): TrainStepResult {
    return this.stepOn(() => tf.tensor4d(x0, shape), shape[0], labels);
  }

  getState(): TrainerState {
    return { step: this.step, timestepRng: this.timestepRng.getState(), labelRng: this.labelRng.getState() };
  }

  setState(state: TrainerState): void {
    this.step = state.step;
    this.timestepRng.setState(state.timestepRng);
    this.labelRng.setState(state.labelRng);
    this.options.model.ema?.setStep(state.step);
  }

  private stepOn(makeX0: () => tf.Tensor4D, batch: number, labels?: Int32Array): TrainStepResult {
    const { model, schedule, prediction, minSnrGamma, seed } = this.options;
    const t = drawTimesteps(batch, schedule.T, this.timestepRng);
    const labelValues = this.trainingLabels(labels, batch);
    const step = this.step;
    const [loss, itemLosses] = tf.tidy(() => {
      const x0 = makeX0();
      const eps = tf.randomNormal(x0.shape, 0, 1, 'float32', deriveSeed(deriveSeed(seed, NOISE_STREAM), step)) as tf.Tensor4D;
      const labelTensor = labelValues ? tf.tensor1d(labelValues, 'int32') : undefined;
      const dropoutSeed = deriveSeed(deriveSeed(seed, DROPOUT_STREAM), step);
      let items: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const perItem = diffusionLossPerItem({
          schedule,
          prediction,
          model: (xt, tFloat) => model.denoiser.apply(xt, tFloat, { labels: labelTensor, training: true, seed: dropoutSeed }),
          x0,
          t,
          eps,
          minSnrGamma: minSnrGamma || undefined,
        });
        // variableGrads frees what its function made, except the value: keep the per-item losses.
        items = tf.keep(perItem);
        return tf.mean(perItem) as tf.Scalar;
      }, this.variables);
      this.optimizer.applyGradients(grads);
      return [value, items as unknown as tf.Tensor1D];
    });
    model.ema?.update();
    this.step += 1;
    return { loss, itemLosses, t };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
