/**
 * Noise schedules and the float64 tables derived from them, computed once (improved-diffusion's
 * `GaussianDiffusion.__init__`, diffusers' `DDPMScheduler.__init__`).
 *
 * Indexing is 0-based as in diffusers: table[t] for t in 0..T-1 is the paper's quantity at step t+1
 * (so `alphasCumprod[0]` is ᾱ_1 and `alphasCumprod[T - 1]` is ᾱ_T).
 */
import { SCHEDULE_KINDS, type ScheduleConfig } from './config';

export const MIN_T = 10;
export const MAX_T = 1000;
/** Largest β any table holds (Nichol & Dhariwal 2021, §3.2: "clip β_t to be no larger than 0.999"). */
export const MAX_BETA = 0.999;
/** Offset s of the cosine schedule (Nichol & Dhariwal 2021, Eq. 17). */
export const COSINE_S = 0.008;

export interface NoiseSchedule {
  readonly T: number;
  readonly config: Readonly<ScheduleConfig>;
  /** β_t. */
  readonly betas: Float64Array;
  /** α_t = 1 − β_t. */
  readonly alphas: Float64Array;
  /** ᾱ_t = ∏_{s≤t} α_s (Ho et al. 2020, Eq. 4). */
  readonly alphasCumprod: Float64Array;
  /** ᾱ_{t−1}, with ᾱ_0 = 1 at index 0. */
  readonly alphasCumprodPrev: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  /** β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t (Ho et al. 2020, Eq. 7); 0 at index 0. */
  readonly posteriorVariance: Float64Array;
  /** log β̃_t with index 0 replaced by β̃ at index 1 (improved-diffusion), so it is finite. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** μ̃_t = coef1 · x0 + coef2 · x_t, coef1 = β_t √ᾱ_{t−1} / (1 − ᾱ_t) (Ho et al. 2020, Eq. 7). */
  readonly posteriorMeanCoef1: Float64Array;
  /** coef2 = (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t) (Ho et al. 2020, Eq. 7). */
  readonly posteriorMeanCoef2: Float64Array;
  /** λ_t = log SNR(t) = log(ᾱ_t / (1 − ᾱ_t)) (Kingma et al. 2021, §2, with α² = ᾱ, σ² = 1 − ᾱ; −∞ where ᾱ_t = 0). */
  readonly logSnr: Float64Array;
}

function rangeError(name: string, range: string, got: unknown): Error {
  return new Error(`${name} must be ${range}, got ${String(got)}.`);
}

/** Throws an Error naming the offending parameter and its allowed range. */
export function validateScheduleConfig(cfg: ScheduleConfig): void {
  if (!(SCHEDULE_KINDS as readonly string[]).includes(cfg.kind)) {
    throw rangeError('schedule kind', `one of ${SCHEDULE_KINDS.join(', ')}`, cfg.kind);
  }
  if (!Number.isInteger(cfg.T) || cfg.T < MIN_T || cfg.T > MAX_T) {
    throw rangeError('T', `an integer in [${MIN_T}, ${MAX_T}]`, cfg.T);
  }
  if (cfg.kind !== 'cosine') {
    const { betaStart, betaEnd } = cfg;
    if (!Number.isFinite(betaStart) || betaStart <= 0 || betaStart >= 1) {
      throw rangeError('betaStart', 'in (0, 1)', betaStart);
    }
    if (!Number.isFinite(betaEnd) || betaEnd < betaStart || betaEnd >= 1) {
      throw rangeError('betaEnd', `in [betaStart = ${betaStart}, 1)`, betaEnd);
    }
  }
}

function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? a : a + ((b - a) * i) / (n - 1);
  return out;
}

/**
 * β_t of the cosine schedule: β_t = 1 − ᾱ(t)/ᾱ(t−1), clipped at 0.999, with
 * ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2) (Nichol & Dhariwal 2021, Eq. 17).
 */
export function cosineAlphaBar(tOverT: number, s = COSINE_S): number {
  const f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  return f(tOverT) / f(0);
}

/**
 * β_1..β_T for a schedule kind. β ranges are given for T = 1000 and scaled by 1000 / T
 * (improved-diffusion's `get_named_beta_schedule`), then clipped at MAX_BETA so that short
 * schedules (T < 20 with the default range) stay valid.
 * - linear: Ho et al. 2020, §4 (β from 1e-4 to 0.02 for T = 1000).
 * - quadratic: Ho et al.'s "quad" (diffusers' "scaled_linear"): β = linspace(√β_1, √β_T)².
 * - sigmoid: diffusers' / GeoDiff's: β = sigmoid(linspace(−6, 6)) · (β_T − β_1) + β_1.
 * - cosine: Nichol & Dhariwal 2021, Eq. 17 (no β range).
 */
export function betasFor(cfg: ScheduleConfig): Float64Array {
  const T = cfg.T;
  const scale = 1000 / T;
  const b0 = cfg.betaStart * scale;
  const b1 = cfg.betaEnd * scale;
  let betas: Float64Array;
  switch (cfg.kind) {
    case 'linear':
      betas = linspace(b0, b1, T);
      break;
    case 'quadratic':
      betas = linspace(Math.sqrt(b0), Math.sqrt(b1), T).map((r) => r * r);
      break;
    case 'sigmoid':
      betas = linspace(-6, 6, T).map((x) => (1 / (1 + Math.exp(-x))) * (b1 - b0) + b0);
      break;
    case 'cosine':
      betas = new Float64Array(T);
      for (let i = 0; i < T; i++) betas[i] = 1 - cosineAlphaBar((i + 1) / T) / cosineAlphaBar(i / T);
      break;
    default:
      throw rangeError('schedule kind', `one of ${SCHEDULE_KINDS.join(', ')}`, cfg.kind);
  }
  return betas.map((b) => Math.min(b, MAX_BETA));
}

/**
 * Rescales ᾱ so that the terminal SNR is zero while ᾱ_1 is kept: √ᾱ ← (√ᾱ − √ᾱ_T) · √ᾱ_1 / (√ᾱ_1 − √ᾱ_T)
 * (Lin et al. 2024, Algorithm 1; diffusers' `rescale_zero_terminal_snr`). Returns new betas (β_T = 1).
 */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const T = betas.length;
  const sqrtAb = new Float64Array(T);
  let ab = 1;
  for (let i = 0; i < T; i++) {
    ab *= 1 - betas[i];
    sqrtAb[i] = Math.sqrt(ab);
  }
  const first = sqrtAb[0];
  const last = sqrtAb[T - 1];
  const k = first / (first - last);
  const abNew = sqrtAb.map((s, i) => (i === T - 1 ? 0 : ((s - last) * k) ** 2));
  abNew[0] = first * first; // exactly ᾱ_1 again
  const out = new Float64Array(T);
  for (let i = 0; i < T; i++) out[i] = 1 - (i === 0 ? abNew[0] : abNew[i] / abNew[i - 1]);
  return out;
}

/** Builds every table of a schedule in float64 (validates the config first). */
export function makeSchedule(cfg: ScheduleConfig): NoiseSchedule {
  validateScheduleConfig(cfg);
  const T = cfg.T;
  let betas = betasFor(cfg);
  if (cfg.rescaleZeroTerminalSnr) betas = rescaleZeroTerminalSnr(betas);
  const alphas = betas.map((b) => 1 - b);
  const alphasCumprod = new Float64Array(T);
  let ab = 1;
  for (let i = 0; i < T; i++) {
    ab *= alphas[i];
    alphasCumprod[i] = ab;
  }
  if (cfg.rescaleZeroTerminalSnr) alphasCumprod[T - 1] = 0; // exact, not 1e-17 of round-off
  const alphasCumprodPrev = new Float64Array(T);
  alphasCumprodPrev[0] = 1;
  alphasCumprodPrev.set(alphasCumprod.subarray(0, T - 1), 1);
  const posteriorVariance = new Float64Array(T);
  const posteriorMeanCoef1 = new Float64Array(T);
  const posteriorMeanCoef2 = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const oneMinus = 1 - alphasCumprod[i];
    posteriorVariance[i] = (betas[i] * (1 - alphasCumprodPrev[i])) / oneMinus;
    posteriorMeanCoef1[i] = (betas[i] * Math.sqrt(alphasCumprodPrev[i])) / oneMinus;
    posteriorMeanCoef2[i] = ((1 - alphasCumprodPrev[i]) * Math.sqrt(alphas[i])) / oneMinus;
  }
  const posteriorLogVarianceClipped = posteriorVariance.map((v, i) => Math.log(i === 0 ? posteriorVariance[1] : v));
  return {
    T,
    config: Object.freeze({ ...cfg }),
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod: alphasCumprod.map(Math.sqrt),
    sqrtOneMinusAlphasCumprod: alphasCumprod.map((a) => Math.sqrt(1 - a)),
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
    logSnr: alphasCumprod.map((a) => Math.log(a) - Math.log1p(-a)),
  };
}
