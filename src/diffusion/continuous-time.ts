/**
 * A discrete schedule read in continuous time, for solvers that choose their own steps (Lu et al.
 * 2022, "DPM-Solver", App. D; their `NoiseScheduleVP('discrete')`): log α_t (α_t = √ᾱ_t) is
 * interpolated piecewise linearly between the table's integer timesteps, so any t in [0, T−1]
 * has α_t, σ_t = √(1 − α_t²) and the half-log-SNR λ_t = log α_t − log σ_t, and λ ↦ t is inverted on the
 * same pieces. Here the continuous t is the model's own timestep scale (table index = t), so a model
 * is evaluated at a fractional t directly (the U-Nets embed any float t sinusoidally, as the
 * reference feeds (t − 1/N)·1000 to discrete-time models).
 */
import type { NoiseSchedule } from './schedule';

export interface ContinuousSchedule {
  /** Largest t (T − 1) and smallest (0). */
  readonly tMax: number;
  /** ᾱ at a continuous t in [0, T − 1] (log-linear between the integers). */
  alphaBar(t: number): number;
  /** α_t = √ᾱ_t and σ_t = √(1 − ᾱ_t). */
  alpha(t: number): number;
  sigma(t: number): number;
  /** λ_t = log α_t − log σ_t (half of log-SNR), decreasing in t. */
  lambda(t: number): number;
  /** The t whose λ_t is `lambda` (clamped to [0, T − 1]). */
  inverseLambda(lambda: number): number;
}

/** λ from log α: λ = log α − ½·log(1 − α²). */
function lambdaOfLogAlpha(logAlpha: number): number {
  return logAlpha - 0.5 * Math.log(-Math.expm1(2 * logAlpha));
}

/** log α from λ: log α = −½·log(1 + e^{−2λ}) (numerically stable softplus). */
function logAlphaOfLambda(lambda: number): number {
  const x = -2 * lambda;
  const softplus = x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  return -0.5 * softplus;
}

/**
 * The continuous view of `schedule`. The table must have ᾱ strictly between 0 and 1 (a schedule
 * rescaled to zero terminal SNR has λ = −∞ at T − 1; its last entry is floored at 2⁻²⁴ here, as the
 * samplers floor ᾱ for ε-prediction).
 */
export function continuousSchedule(schedule: NoiseSchedule): ContinuousSchedule {
  const T = schedule.T;
  const logAlpha = new Float64Array(T);
  for (let i = 0; i < T; i++) logAlpha[i] = 0.5 * Math.log(Math.max(schedule.alphasCumprod[i], 2 ** -24));
  const tMax = T - 1;
  const logAlphaAt = (t: number): number => {
    const c = Math.min(Math.max(t, 0), tMax);
    const i = Math.min(Math.floor(c), tMax - 1);
    const f = c - i;
    return logAlpha[i] + f * (logAlpha[i + 1] - logAlpha[i]);
  };
  const alphaBar = (t: number) => Math.exp(2 * logAlphaAt(t));
  return {
    tMax,
    alphaBar,
    alpha: (t) => Math.exp(logAlphaAt(t)),
    sigma: (t) => Math.sqrt(-Math.expm1(2 * logAlphaAt(t))),
    lambda: (t) => lambdaOfLogAlpha(logAlphaAt(t)),
    inverseLambda(lambda) {
      const target = logAlphaOfLambda(lambda);
      // log α decreases in t: find the piece [i, i+1] holding the target by bisection.
      if (target >= logAlpha[0]) return 0;
      if (target <= logAlpha[tMax]) return tMax;
      let lo = 0;
      let hi = tMax;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (logAlpha[mid] >= target) lo = mid;
        else hi = mid;
      }
      const span = logAlpha[hi] - logAlpha[lo];
      return span === 0 ? lo : lo + (target - logAlpha[lo]) / span;
    },
  };
}
