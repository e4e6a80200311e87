/**
 * One DDPM training step (Ho et al. 2020, Algorithm 1) on a U-Net, with Adam:
 * draw t ~ U{0..T-1} and ε ~ N(0, I), build x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε, regress the model's output
 * on the target of the chosen parameterization, and take a gradient step.
 *
 * Shapes stay fixed from step to step (the WebGPU buffer pool is keyed by exact size), randomness
 * is derived from (seed, step) so a run is reproducible, and every tensor of a step is freed by
 * tf.tidy except the returned loss, which the caller reads asynchronously and disposes.
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from '../diffusion/config';
import { diffusionLoss, drawTimesteps, type NoiseSchedule } from '../diffusion';
import { createRandom, deriveSeed, type Random } from '../data/random';
import type { UNet } from '../models/unet';

export interface TrainerOptions {
  model: UNet;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  learningRate: number;
  seed: number;
  /** Min-SNR-γ loss weighting (Hang et al. 2023); undefined for plain MSE. */
  minSnrGamma?: number;
}

export class Trainer {
  readonly optimizer: tf.Optimizer;
  /** Number of optimization steps taken so far. */
  step = 0;
  private readonly timestepRng: Random;
  private readonly variables: tf.Variable[];

  constructor(private readonly options: TrainerOptions) {
    this.optimizer = tf.train.adam(options.learningRate);
    this.timestepRng = createRandom(deriveSeed(options.seed, 1));
    this.variables = [...options.model.weights.values()];
  }

  /**
   * One optimization step on a batch of clean images x0 (values in [-1, 1], layout [b, h, w, c]).
   * Returns the batch's loss as a scalar tensor owned by the caller, together with the timesteps used.
   */
  trainStep(x0Pixels: Float32Array, shape: [number, number, number, number]): { loss: tf.Scalar; t: Int32Array } {
    const { model, schedule, prediction, minSnrGamma, seed } = this.options;
    const t = drawTimesteps(shape[0], schedule.T, this.timestepRng);
    const noiseSeed = deriveSeed(seed, 1000 + this.step);
    const loss = tf.tidy(() => {
      const x0 = tf.tensor4d(x0Pixels, shape);
      const eps = tf.randomNormal(shape, 0, 1, 'float32', noiseSeed) as tf.Tensor4D;
      const { value, grads } = tf.variableGrads(
        () =>
          diffusionLoss({
            schedule,
            prediction,
            model: (xt, tFloat) => model.apply(xt, tFloat),
            x0,
            t,
            eps,
            minSnrGamma,
          }),
        this.variables,
      );
      this.optimizer.applyGradients(grads);
      return value;
    });
    this.step += 1;
    return { loss, t };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
