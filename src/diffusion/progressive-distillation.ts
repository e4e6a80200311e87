/**
 * Progressive distillation (Salimans & Ho 2022, "Progressive Distillation for Fast Sampling of
 * Diffusion Models", Algorithm 2), the math only: the time grids, the teacher's two DDIM steps, the
 * student's target and the truncated-SNR loss weight. The trainer is src/engine/distill.ts.
 *
 * Notation as in the paper: z_t = α_t·x + σ_t·ε with α_t = √ᾱ_t and σ_t = √(1 − ᾱ_t); one DDIM step
 * (η = 0) from t to s is z_s = α_s·x̂ + (σ_s/σ_t)·(z_t − α_t·x̂). A student of N steps takes one step
 * from t to t'' = t − 1/N; its teacher (2N steps) takes two, t → t' = t − 0.5/N → t''. The student is trained
 * to predict the x̃ whose one DDIM step from z_t lands exactly on the teacher's z_t'':
 *   x̃ = (z_t'' − (σ_t''/σ_t)·z_t) / (α_t'' − (σ_t''/σ_t)·α_t)          (Algorithm 2)
 * with the loss weighted by ω(λ_t) = max(SNR_t, 1) on ‖x̃ − x̂‖², "truncated SNR" weighting (§4):
 * the x-space MSE at high noise, the ε-space MSE at low noise.
 *
 * Time grid: the discrete schedule's t = 0..T−1 with t = −1 standing for clean data (ᾱ = 1, as
 * diffusers' `set_alpha_to_one`). N steps visit the 'trailing' timesteps (Lin et al. 2024; they start
 * at T − 1) and end at −1; the grid of 2N steps holds the grid of N at its even points (checked), so
 * the student's every step spans exactly two of its teacher's.
 *
 * Tensor arguments here are per-item: α and σ as [b,1,1,1] tensors, so one batch mixes timesteps.
 * Every function returns new tensors the caller owns and disposes nothing it is given.
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from './config';
import type { NoiseSchedule } from './schedule';
import { makeTimesteps } from './timesteps';
import { toX0AndEps } from './parameterization';

/** The timestep that stands for clean data (ᾱ = 1) at the end of every grid. */
export const CLEAN_T = -1;

/**
 * The N + 1 grid points of an N-step sampler, descending: N 'trailing' timesteps, then CLEAN_T.
 * Step i goes from grid[i] to grid[i + 1].
 */
export function distillationGrid(T: number, steps: number): Int32Array {
  const ts = makeTimesteps(T, steps, 'trailing');
  const grid = new Int32Array(steps + 1);
  grid.set(ts);
  grid[steps] = CLEAN_T;
  return grid;
}

/** For a student of `steps` steps: each step's (t, t', t''), t' the teacher's midpoint. Throws unless the grids nest. */
export function studentTeacherSteps(T: number, steps: number): { t: number; tMid: number; tNext: number }[] {
  const student = distillationGrid(T, steps);
  const teacher = distillationGrid(T, 2 * steps);
  const out: { t: number; tMid: number; tNext: number }[] = [];
  for (let i = 0; i < steps; i++) {
    if (teacher[2 * i] !== student[i] || teacher[2 * i + 2] !== student[i + 1]) {
      throw new Error(`the ${2 * steps}-step grid does not hold the ${steps}-step grid (step ${i}: ${student[i]} → ${student[i + 1]}).`);
    }
    out.push({ t: student[i], tMid: teacher[2 * i + 1], tNext: student[i + 1] });
  }
  return out;
}

/** ᾱ_t with ᾱ at CLEAN_T = 1. */
export function alphaBarAt(schedule: NoiseSchedule, t: number): number {
  if (t === CLEAN_T) return 1;
  if (!Number.isInteger(t) || t < 0 || t >= schedule.T) throw new Error(`t must be an integer in [-1, ${schedule.T - 1}], got ${t}.`);
  return schedule.alphasCumprod[t];
}

/** α_t = √ᾱ_t and σ_t = √(1 − ᾱ_t) for each item's t, as [b,1,1,1] float32 tensors. */
export function alphaSigma(schedule: NoiseSchedule, ts: ArrayLike<number>): { alpha: tf.Tensor4D; sigma: tf.Tensor4D; alphaBar: tf.Tensor4D } {
  const n = ts.length;
  const a = new Float32Array(n);
  const s = new Float32Array(n);
  const ab = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = alphaBarAt(schedule, ts[i]);
    a[i] = Math.sqrt(v);
    s[i] = Math.sqrt(1 - v);
    ab[i] = v;
  }
  return { alpha: tf.tensor4d(a, [n, 1, 1, 1]), sigma: tf.tensor4d(s, [n, 1, 1, 1]), alphaBar: tf.tensor4d(ab, [n, 1, 1, 1]) };
}

/** Per-item noise levels (α, σ) as [b,1,1,1] tensors. */
export interface NoiseLevel {
  alpha: tf.Tensor4D;
  sigma: tf.Tensor4D;
}

/** One DDIM step (η = 0) from z_t at `from` to `to` given x̂: z_s = α_s·x̂ + (σ_s/σ_t)·(z_t − α_t·x̂). */
export function ddimStepFromX0(zt: tf.Tensor4D, x0: tf.Tensor4D, from: NoiseLevel, to: NoiseLevel): tf.Tensor4D {
  return tf.tidy(() => {
    const eps = tf.div(tf.sub(zt, tf.mul(from.alpha, x0)), from.sigma);
    return tf.add(tf.mul(to.alpha, x0), tf.mul(to.sigma, eps)) as tf.Tensor4D;
  });
}

/**
 * One DDIM step of a model whose raw output `out` at z_t is of the given parameterization: x̂ and ε̂
 * read from it (no clipping: latents), then z_s = α_s·x̂ + σ_s·ε̂.
 */
export function ddimStepFromOutput(prediction: PredictionType, out: tf.Tensor4D, zt: tf.Tensor4D, alphaBar: tf.Tensor4D, to: NoiseLevel): tf.Tensor4D {
  return tf.tidy(() => {
    const { x0, eps } = toX0AndEps(prediction, out, zt, alphaBar);
    return tf.add(tf.mul(to.alpha, x0), tf.mul(to.sigma, eps)) as tf.Tensor4D;
  });
}

/**
 * The student's target x̃ from z_t and the teacher's z_t'' (Salimans & Ho 2022, Algorithm 2):
 * x̃ = (z_t'' − (σ_t''/σ_t)·z_t) / (α_t'' − (σ_t''/σ_t)·α_t). At t'' = clean (σ = 0) it is z_t'' itself.
 */
export function distillationTarget(zt: tf.Tensor4D, ztNext: tf.Tensor4D, at: NoiseLevel, atNext: NoiseLevel): tf.Tensor4D {
  return tf.tidy(() => {
    const ratio = tf.div(atNext.sigma, at.sigma);
    return tf.div(tf.sub(ztNext, tf.mul(ratio, zt)), tf.sub(atNext.alpha, tf.mul(ratio, at.alpha))) as tf.Tensor4D;
  });
}

/** ω(λ_t) = max(SNR_t, 1) with SNR_t = α_t²/σ_t² (Salimans & Ho 2022, §4, "truncated SNR" weighting). */
export function truncatedSnrWeight(level: NoiseLevel): tf.Tensor4D {
  return tf.tidy(() => tf.maximum(tf.div(tf.square(level.alpha), tf.square(level.sigma)), 1) as tf.Tensor4D);
}

/**
 * How the x-space error is weighted: 'truncated-snr', the paper's max(SNR_t, 1); or 'one-step',
 * (α_t'' − (σ_t''/σ_t)·α_t)², which makes the loss the squared distance between the student's z_t''
 * and the teacher's (the coefficient of x̂ in a DDIM step), i.e. exactly what the student must match.
 */
export const DISTILLATION_WEIGHTINGS = ['truncated-snr', 'one-step'] as const;
export type DistillationWeighting = (typeof DISTILLATION_WEIGHTINGS)[number];

/** (α_t'' − (σ_t''/σ_t)·α_t)²: how much an error in x̂ moves the one-step result z_t''. */
export function oneStepWeight(at: NoiseLevel, atNext: NoiseLevel): tf.Tensor4D {
  return tf.tidy(() => tf.square(tf.sub(atNext.alpha, tf.mul(tf.div(atNext.sigma, at.sigma), at.alpha))) as tf.Tensor4D);
}

/** Per-item loss ω·mean‖x̃ − x̂‖² over each item's elements, shape [b]; ω per `weighting` (default the paper's). */
export function distillationLossPerItem(
  target: tf.Tensor4D,
  x0: tf.Tensor4D,
  at: NoiseLevel,
  atNext?: NoiseLevel,
  weighting: DistillationWeighting = 'truncated-snr',
): tf.Tensor1D {
  return tf.tidy(() => {
    if (weighting === 'one-step' && atNext == null) throw new Error("the 'one-step' weighting needs the step's end t''.");
    const w = tf.reshape(weighting === 'one-step' ? oneStepWeight(at, atNext as NoiseLevel) : truncatedSnrWeight(at), [-1]);
    return tf.mul(w, tf.mean(tf.square(tf.sub(target, x0)), [1, 2, 3])) as tf.Tensor1D;
  });
}
