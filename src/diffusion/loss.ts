/**
 * The training objective: x_t = q_sample(x0, t, ε), the target of the chosen parameterization, and
 * the (optionally min-SNR-γ weighted) mean squared error. The caller draws t and ε, so it controls
 * the randomness (see drawTimesteps).
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from './config';
import { checkTimesteps, extract, qSample } from './forward';
import { targetFor } from './parameterization';
import type { NoiseSchedule } from './schedule';

/** The network as training sees it: raw output at x_t for float timesteps t (shape [n]). */
export type TrainDenoiseFn = (xt: tf.Tensor4D, tFloat: tf.Tensor1D) => tf.Tensor4D;

export interface DiffusionLossArgs {
  schedule: NoiseSchedule;
  prediction: PredictionType;
  model: TrainDenoiseFn;
  x0: tf.Tensor4D;
  /** One timestep per item, in 0..T−1. */
  t: Int32Array;
  /** ε ~ N(0, I), the shape of x0. */
  eps: tf.Tensor4D;
  /** γ of min-SNR-γ weighting (Hang et al. 2023); omitted or non-finite: no weighting. Typically 5. */
  minSnrGamma?: number;
}

/** SNR(t) = ᾱ_t / (1 − ᾱ_t) (Kingma et al. 2021, §2, with α² = ᾱ, σ² = 1 − ᾱ). */
export function snr(schedule: NoiseSchedule, t: number): number {
  const ab = schedule.alphasCumprod[t];
  return ab / (1 - ab);
}

/**
 * Min-SNR-γ loss weight (Hang et al. 2023, §3, "Min-SNR-γ"): the x0-space weight min(SNR, γ), expressed for the
 * loss of each parameterization: x0: min(SNR, γ); ε: min(SNR, γ)/SNR (= min(1, γ/SNR), which is 1
 * at SNR = 0); v: min(SNR, γ)/(SNR + 1).
 */
export function minSnrWeight(snrValue: number, gamma: number, prediction: PredictionType): number {
  if (!(gamma > 0)) throw new Error(`minSnrGamma must be > 0, got ${gamma}.`);
  switch (prediction) {
    case 'x0':
      return Math.min(snrValue, gamma);
    case 'epsilon':
      return snrValue <= gamma ? 1 : gamma / snrValue;
    case 'v':
      return Math.min(snrValue, gamma) / (snrValue + 1);
    default:
      throw new Error(`prediction must be one of epsilon, x0, v, got ${String(prediction)}.`);
  }
}

/** A uniform [0, 1) source: a function, or an object with `uniform()` (e.g. src/data/random's Random). */
export type UniformRng = (() => number) | { uniform(): number };

/** t_i ~ Uniform{0, …, T−1} (Ho et al. 2020, Algorithm 1 line 3), from a uniform [0, 1) source. */
export function drawTimesteps(batch: number, T: number, rng: UniformRng = Math.random): Int32Array {
  const u = typeof rng === 'function' ? rng : () => rng.uniform();
  const t = new Int32Array(batch);
  for (let i = 0; i < batch; i++) t[i] = Math.min(T - 1, Math.floor(u() * T));
  return t;
}

/**
 * Per-item loss w_i·mean_j (target − output)²_ij, shape [n]: L_simple (Ho et al. 2020, Eq. 14) for ε,
 * its x0 and v analogues, weighted by min-SNR-γ when asked. Its mean is `diffusionLoss`.
 */
export function diffusionLossPerItem(args: DiffusionLossArgs): tf.Tensor1D {
  const { schedule, prediction, model, x0, t, eps, minSnrGamma } = args;
  const n = x0.shape[0];
  checkTimesteps(schedule, t, n);
  if (eps.shape.join() !== x0.shape.join()) throw new Error('eps must have the shape of x0.');
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const useWeight = minSnrGamma !== undefined && Number.isFinite(minSnrGamma);
    weights[i] = useWeight ? minSnrWeight(snr(schedule, t[i]), minSnrGamma, prediction) : 1;
  }
  return tf.tidy(() => {
    const xt = qSample(schedule, x0, t, eps);
    const out = model(xt, tf.tensor1d(Float32Array.from(t)));
    const target = targetFor(prediction, x0, eps, extract(schedule.alphasCumprod, t));
    const mse = tf.mean(tf.squaredDifference(out, target), [1, 2, 3]);
    return tf.mul(mse, tf.tensor1d(weights)) as tf.Tensor1D;
  });
}

/** The scalar training loss: the mean over the batch of `diffusionLossPerItem`. */
export function diffusionLoss(args: DiffusionLossArgs): tf.Scalar {
  return tf.tidy(() => tf.mean(diffusionLossPerItem(args)) as tf.Scalar);
}
