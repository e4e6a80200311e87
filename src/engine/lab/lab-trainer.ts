/**
 * One training step of the lab's MLP with Adam (Kingma & Ba 2015, Algorithm 1). The batch is built
 * on the CPU in plain floats (a few hundred 2-D points): x0 drawn with replacement from the training
 * set, ε ~ N(0, I), and
 * - diffusion (Ho et al. 2020, Algorithm 1): t ~ U{0..T−1}, x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε, target ε, x0
 *   or v (Salimans & Ho 2022), optionally min-SNR-γ weighted (Hang et al. 2023; ../../diffusion/loss);
 * - flow matching (Lipman et al. 2023; Liu et al. 2023): t ~ U(0, 1), x_t = (1−t) x0 + t ε, target
 *   ε − x0 (../../diffusion/flow-matching).
 * The loss is the (weighted) mean squared error over the batch and both coordinates.
 *
 * A step reads nothing back: it queues its work and keeps its output tensor (and a copy of its
 * targets and weights); `readLosses()` later reads the queued outputs with `await t.data()` (one
 * read per step, all in flight together) and computes the per-item losses on the CPU. So the loop
 * runs on every backend without a synchronous read (WebGPU's are slow and unsafe), and on wasm a
 * step costs what it did (no extra kernels: the targets are copied, not subtracted on the device).
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from '../../diffusion/config';
import { minSnrWeight, snr } from '../../diffusion/loss';
import type { NoiseSchedule } from '../../diffusion/schedule';
import { flowInterpolate } from '../../diffusion/flow-matching';
import { createRandom, deriveSeed, type Random } from '../../data/random';
import { MLP_INPUT_FEATURES, TIME_SCALE, writeFeatures, type MlpDenoiser } from '../../models/mlp-denoiser';

export interface LabTrainerOptions {
  model: MlpDenoiser;
  objective: 'diffusion' | 'flow';
  schedule: NoiseSchedule;
  prediction: PredictionType;
  minSnrGamma: number | null;
  /** The training set, [n, 2]. */
  points: Float32Array;
  seed: number;
}

export interface LabStepResult {
  /** The step this is (1 for the first). */
  step: number;
  loss: number;
  /** Per item: the timestep (diffusion 0..T−1, flow t·1000) and the loss. */
  itemTimesteps: Int32Array;
  itemLosses: Float32Array;
}

/**
 * Decay of the weights' exponential moving average, which sampling and the fields use (Ho et al.
 * 2020, Appendix B, as most diffusion models since; the decay is short because runs are short),
 * warmed up as min(decay, (1 + step)/(10 + step)) (TensorFlow's ExponentialMovingAverage).
 */
export const LAB_EMA_DECAY = 0.995;

export class LabTrainer {
  step = 0;
  /** The exponential moving average of θ (see LAB_EMA_DECAY). */
  readonly averaged: tf.Variable<tf.Rank.R1>;
  private readonly rng: Random;
  private readonly adam: LabAdam;
  private buffers: { batch: number; features: Float32Array; target: Float32Array; weights: Float32Array } | null = null;
  /** Steps taken whose outputs are not read yet, oldest first. */
  private queued: Array<{ step: number; output: tf.Tensor2D; target: Float32Array; weights: Float32Array; timesteps: Int32Array }> = [];

  constructor(private readonly options: LabTrainerOptions) {
    if (options.points.length < 2) throw new Error('The training set is empty.');
    this.rng = createRandom(deriveSeed(options.seed, 0x6c6162));
    this.adam = new LabAdam(options.model.theta);
    this.averaged = tf.variable(options.model.theta.clone(), false);
  }

  /** Steps whose losses `readLosses()` has not read yet. */
  get pending(): number {
    return this.queued.length;
  }

  /**
   * One Adam step on a fresh batch of `batch` points at learning rate `learningRate`. Queued, not
   * read: its loss comes from the next `readLosses()`.
   */
  trainStep(batch: number, learningRate: number): void {
    if (!Number.isInteger(batch) || batch < 1 || batch > 8192) throw new Error(`batch must be an integer in [1, 8192], got ${batch}.`);
    if (!(learningRate > 0 && learningRate < 1)) throw new Error(`learning rate must be in (0, 1), got ${learningRate}.`);
    const { features, target, weights, timesteps } = this.fillBatch(batch);
    const model = this.options.model;
    const output = tf.tidy(() => {
      const x = tf.tensor2d(features, [batch, MLP_INPUT_FEATURES]);
      const y = tf.tensor2d(target, [batch, 2]);
      const w = tf.tensor2d(weights, [batch, 1]);
      const { output, grad } = model.lossGradient(x, y, w);
      this.adam.apply(grad, learningRate);
      const decay = Math.min(LAB_EMA_DECAY, (1 + this.step) / (10 + this.step));
      this.averaged.assign(tf.add(tf.mul(this.averaged, decay), tf.mul(model.theta, 1 - decay)));
      return output;
    });
    this.step += 1;
    this.queued.push({ step: this.step, output, target: target.slice(), weights: weights.slice(), timesteps });
  }

  /** The losses of every step queued since the last call, oldest first; frees their outputs. */
  async readLosses(): Promise<LabStepResult[]> {
    const queued = this.queued;
    this.queued = [];
    try {
      const outputs = await Promise.all(queued.map((q) => q.output.data()));
      return queued.map((q, k) => stepLosses(q.step, outputs[k] as Float32Array, q.target, q.weights, q.timesteps));
    } finally {
      for (const q of queued) q.output.dispose();
    }
  }

  /** x_t's input features, the targets, the loss weights w_i/(2·batch) and the items' timesteps. */
  private fillBatch(batch: number) {
    if (!this.buffers || this.buffers.batch !== batch) {
      this.buffers = { batch, features: new Float32Array(batch * MLP_INPUT_FEATURES), target: new Float32Array(2 * batch), weights: new Float32Array(batch) };
    }
    const { features, target, weights } = this.buffers;
    const { objective, schedule, prediction, minSnrGamma, points } = this.options;
    const rng = this.rng;
    const m = points.length >> 1;
    const timesteps = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      const j = rng.int(m);
      const x0 = points[2 * j];
      const y0 = points[2 * j + 1];
      const ex = rng.gaussian();
      const ey = rng.gaussian();
      let w = 1;
      if (objective === 'flow') {
        const t = rng.uniform();
        const [xt, yt] = [flowInterpolate(x0, ex, t), flowInterpolate(y0, ey, t)];
        writeFeatures(features, i, xt, yt, t * TIME_SCALE);
        target[2 * i] = ex - x0;
        target[2 * i + 1] = ey - y0;
        timesteps[i] = Math.round(t * TIME_SCALE);
      } else {
        const t = Math.min(schedule.T - 1, Math.floor(rng.uniform() * schedule.T));
        const a = schedule.sqrtAlphasCumprod[t];
        const b = schedule.sqrtOneMinusAlphasCumprod[t];
        writeFeatures(features, i, a * x0 + b * ex, a * y0 + b * ey, (t * TIME_SCALE) / schedule.T);
        const [tx, ty] = prediction === 'epsilon' ? [ex, ey] : prediction === 'x0' ? [x0, y0] : [a * ex - b * x0, a * ey - b * y0];
        target[2 * i] = tx;
        target[2 * i + 1] = ty;
        if (minSnrGamma !== null) w = minSnrWeight(snr(schedule, t), minSnrGamma, prediction);
        timesteps[i] = t;
      }
      weights[i] = w / (2 * batch);
    }
    return { features, target, weights, timesteps };
  }

  dispose(): void {
    for (const q of this.queued) q.output.dispose();
    this.queued = [];
    this.adam.dispose();
    this.averaged.dispose();
  }
}

/** A step's per-item losses w_i·mean of its two squared errors, and their mean, from its output. */
function stepLosses(step: number, o: Float32Array, target: Float32Array, weights: Float32Array, itemTimesteps: Int32Array): LabStepResult {
  const batch = weights.length;
  const itemLosses = new Float32Array(batch);
  let loss = 0;
  for (let i = 0; i < batch; i++) {
    const dx = o[2 * i] - target[2 * i];
    const dy = o[2 * i + 1] - target[2 * i + 1];
    // weights[i] = w_i / (2·batch): the item's loss is w_i·mean of its two squared errors.
    itemLosses[i] = (dx * dx + dy * dy) * weights[i] * batch;
    loss += itemLosses[i];
  }
  return { step, loss: loss / batch, itemTimesteps, itemLosses };
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1) on the MLP's one flat parameter vector θ, with the learning
 * rate given at each step (so a new training run may change it without losing the moments) and the
 * bias corrections folded into the step size: θ ← θ − α·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε̂) (the
 * paper's §2, last paragraph). About a dozen ops a step, whatever the layer count.
 */
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

class LabAdam {
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private t = 0;

  constructor(private readonly theta: tf.Variable) {
    this.m = tf.variable(tf.zerosLike(theta), false);
    this.v = tf.variable(tf.zerosLike(theta), false);
  }

  /** One update of θ from its gradient (the same shape); does not dispose the gradient. */
  apply(grad: tf.Tensor, learningRate: number): void {
    this.t += 1;
    const stepSize = (learningRate * Math.sqrt(1 - BETA2 ** this.t)) / (1 - BETA1 ** this.t);
    tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, BETA1), tf.mul(grad, 1 - BETA1));
      const v = tf.add(tf.mul(this.v, BETA2), tf.mul(tf.square(grad), 1 - BETA2));
      this.m.assign(m);
      this.v.assign(v);
      this.theta.assign(tf.sub(this.theta, tf.mul(tf.div(m, tf.add(tf.sqrt(v), EPSILON)), stepSize)));
    });
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
