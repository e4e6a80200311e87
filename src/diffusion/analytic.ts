/**
 * Exact (Bayes-optimal) denoisers for data whose every element is drawn i.i.d. from a 1-D Gaussian
 * mixture Σ_k π_k·N(μ_k, s_k²). They are what a perfectly trained network would output, so they test
 * samplers against known answers and can drive the UI without training.
 *
 * With x_t = √ᾱ·x0 + √(1−ᾱ)·ε (Ho et al. 2020, Eq. 4), component k gives x_t ~ N(√ᾱ·μ_k, v_k) with
 * v_k = ᾱ·s_k² + 1 − ᾱ, and by Gaussian conditioning (Bishop 2006, §2.3.3; equivalently Tweedie's formula):
 *   E[x0 | x_t, k] = μ_k + √ᾱ·s_k²·(x_t − √ᾱ·μ_k)/v_k,   E[ε | x_t, k] = √(1−ᾱ)·(x_t − √ᾱ·μ_k)/v_k,
 * and the mixture's posterior means weight these by the responsibilities
 *   r_k(x_t) ∝ π_k·N(x_t; √ᾱ·μ_k, v_k).
 * The optimal v-prediction is √ᾱ·E[ε|x_t] − √(1−ᾱ)·E[x0|x_t] (Salimans & Ho 2022, §4).
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from './config';
import type { DenoiseFn } from './sampler';
import type { NoiseSchedule } from './schedule';

export interface GaussianComponent {
  weight: number;
  mean: number;
  std: number;
}

function checkMixture(mixture: readonly GaussianComponent[]): void {
  if (mixture.length === 0) throw new Error('mixture must have at least one component.');
  const total = mixture.reduce((s, c) => s + c.weight, 0);
  for (const c of mixture) {
    if (!(c.weight > 0) || !(c.std >= 0) || !Number.isFinite(c.mean)) {
      throw new Error('each mixture component needs weight > 0, std ≥ 0 and a finite mean.');
    }
  }
  if (Math.abs(total - 1) > 1e-9) throw new Error(`mixture weights must sum to 1, got ${total}.`);
}

/**
 * E[x0 | x_t] and E[ε | x_t] at noise level ᾱ for i.i.d. mixture data (formulas in the module doc).
 * New tensors; xt is not disposed.
 */
export function mixturePosteriorMeans(
  mixture: readonly GaussianComponent[],
  xt: tf.Tensor4D,
  alphaBar: number,
): { x0: tf.Tensor4D; eps: tf.Tensor4D } {
  checkMixture(mixture);
  const sa = Math.sqrt(alphaBar);
  const so = Math.sqrt(1 - alphaBar);
  const [x0, eps] = tf.tidy(() => {
    const logits: tf.Tensor4D[] = [];
    const x0k: tf.Tensor4D[] = [];
    const epsk: tf.Tensor4D[] = [];
    for (const c of mixture) {
      const v = alphaBar * c.std * c.std + 1 - alphaBar;
      const diff = tf.sub(xt, sa * c.mean);
      logits.push(tf.sub(Math.log(c.weight) - 0.5 * Math.log(v), tf.mul(tf.square(diff), 0.5 / v)));
      x0k.push(tf.add(tf.mul(diff, (sa * c.std * c.std) / v), c.mean));
      epsk.push(tf.mul(diff, so / v));
    }
    if (mixture.length === 1) return [x0k[0], epsk[0]];
    // Responsibilities r_k = exp(l_k − max l) / Σ_j exp(l_j − max l), elementwise (a softmax over k
    // written out: tf.softmax over a trailing axis of size K is slow on the wasm backend).
    const lmax = logits.reduce((a, b) => tf.maximum(a, b));
    const e = logits.map((l) => tf.exp(tf.sub(l, lmax)));
    const z = e.reduce((a, b) => tf.add(a, b));
    const x0m = tf.div(e.map((ek, k) => tf.mul(ek, x0k[k])).reduce((a, b) => tf.add(a, b)), z) as tf.Tensor4D;
    const epsm = tf.div(e.map((ek, k) => tf.mul(ek, epsk[k])).reduce((a, b) => tf.add(a, b)), z) as tf.Tensor4D;
    return [x0m, epsm];
  });
  return { x0, eps };
}

/** The exact model for `mixture` under `schedule`, returning the raw output of the given parameterization. */
export function mixtureDenoiser(
  mixture: readonly GaussianComponent[],
  schedule: NoiseSchedule,
  prediction: PredictionType,
): DenoiseFn {
  checkMixture(mixture);
  return (xt, t) =>
    tf.tidy(() => {
      const ab = schedule.alphasCumprod[t];
      const { x0, eps } = mixturePosteriorMeans(mixture, xt, ab);
      if (prediction === 'epsilon') return eps;
      if (prediction === 'x0') return x0;
      return tf.sub(tf.mul(eps, Math.sqrt(ab)), tf.mul(x0, Math.sqrt(1 - ab)));
    });
}

/** P(X > threshold) for X ~ the mixture, for checking mixture weights in generated samples. */
export function mixtureTailProbability(mixture: readonly GaussianComponent[], threshold: number): number {
  return mixture.reduce((p, c) => p + c.weight * (c.std === 0 ? Number(c.mean > threshold) : 1 - normalCdf((threshold - c.mean) / c.std)), 0);
}

/** Φ(z), the standard normal CDF (absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  // Abramowitz & Stegun 7.1.26 applied to erf(|z|/√2).
  const x = Math.abs(z) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * x);
  const poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * Sample statistics with their standard errors, for checking generated samples: mean (SE s/√n),
 * variance (SE √((m4 − s⁴)/n), the large-n SE of the variance estimator for any distribution with a
 * fourth moment) and the fraction above `threshold` (binomial SE √(p(1−p)/n)).
 */
export function sampleMoments(values: ArrayLike<number>, threshold = 0) {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  let above = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    m2 += d * d;
    m4 += d * d * d * d;
    if (values[i] > threshold) above++;
  }
  const variance = m2 / (n - 1);
  m4 /= n;
  const p = above / n;
  return {
    n,
    mean,
    variance,
    above: p,
    seMean: Math.sqrt(variance / n),
    seVariance: Math.sqrt(Math.max(m4 - variance * variance, 0) / n),
    seAbove: Math.sqrt((p * (1 - p)) / n),
  };
}
