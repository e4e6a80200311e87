/**
 * Closed forms for 2-D data drawn from an isotropic Gaussian mixture Σ_k π_k·N(μ_k, s_k² I): the
 * noised marginal, its density and score, and the Bayes-optimal denoisers. Plain float64 JavaScript
 * (no TensorFlow.js), so the page can draw exact densities and fields with the same code the worker
 * uses. The 1-D, tensor version is ./analytic.ts; the formulas are the same.
 *
 * Both objectives corrupt x0 linearly, x_t = a·x0 + b·ε with ε ~ N(0, I):
 * - diffusion (Ho et al. 2020, Eq. 4): a = √ᾱ_t, b = √(1−ᾱ_t);
 * - flow matching / rectified flow (Lipman et al. 2023; Liu et al. 2023): a = 1 − t, b = t.
 * Component k then gives x_t ~ N(a·μ_k, v_k I) with v_k = a²·s_k² + b², and by Gaussian
 * conditioning (Bishop 2006, §2.3.3; equivalently Tweedie's formula):
 *   E[x0 | x_t, k] = μ_k + a·s_k²·(x_t − a·μ_k)/v_k,   E[ε | x_t, k] = b·(x_t − a·μ_k)/v_k,
 *   ∇ log q(x_t) = −Σ_k r_k·(x_t − a·μ_k)/v_k,   r_k(x_t) ∝ π_k·N(x_t; a·μ_k, v_k I).
 * So ε̂* = E[ε | x_t] = −b·∇log q, x̂0* = E[x0 | x_t], the optimal v-prediction is
 * a·ε̂* − b·x̂0* (Salimans & Ho 2022, §4, diffusion only), and the flow's exact (marginal) velocity
 * is u*(x_t) = E[ε − x0 | x_t] = ε̂* − x̂0* (Lipman et al. 2023, Eq. 8; Liu et al. 2023, Eq. 1).
 *
 * Points are interleaved (x, y) arrays, [n, 2]; every function returns new Float64Arrays.
 */

/** One component N(mean, std² I) with (unnormalized) weight `weight`. */
export interface MixtureComponent2D {
  readonly mean: readonly [number, number];
  readonly std: number;
  readonly weight: number;
}

/** x_t = a·x0 + b·ε. */
export interface LinearCorruption {
  readonly a: number;
  readonly b: number;
}

/** Variances below this are raised to it, so that noise-free point masses (std 0, b = 0) stay finite. */
export const MIN_MIXTURE_VARIANCE = 1e-12;

/** Diffusion at noise level ᾱ: a = √ᾱ, b = √(1−ᾱ) (Ho et al. 2020, Eq. 4). */
export function diffusionCorruption(alphaBar: number): LinearCorruption {
  if (!(alphaBar >= 0 && alphaBar <= 1)) throw new Error(`alphaBar must be in [0, 1], got ${alphaBar}.`);
  return { a: Math.sqrt(alphaBar), b: Math.sqrt(1 - alphaBar) };
}

/** Flow matching at time t ∈ [0, 1]: a = 1 − t, b = t (x_0 data, x_1 noise). */
export function flowCorruption(t: number): LinearCorruption {
  if (!(t >= 0 && t <= 1)) throw new Error(`flow time t must be in [0, 1], got ${t}.`);
  return { a: 1 - t, b: t };
}

/** Checks the components and returns them with weights summing to 1. */
export function normalizeMixture2D(components: readonly MixtureComponent2D[]): MixtureComponent2D[] {
  if (components.length === 0) throw new Error('a mixture needs at least one component.');
  let total = 0;
  for (const c of components) {
    if (!(c.weight > 0) || !(c.std >= 0) || !Number.isFinite(c.std) || !Number.isFinite(c.mean[0]) || !Number.isFinite(c.mean[1])) {
      throw new Error('each mixture component needs weight > 0, a finite std ≥ 0 and a finite mean.');
    }
    total += c.weight;
  }
  return components.map((c) => ({ mean: [c.mean[0], c.mean[1]] as const, std: c.std, weight: c.weight / total }));
}

/** The marginal of x_t = a·x0 + b·ε: components N(a·μ_k, (a²s_k² + b²) I), weights normalized. */
export function corruptedMixture2D(components: readonly MixtureComponent2D[], c: LinearCorruption): MixtureComponent2D[] {
  return normalizeMixture2D(components).map((k) => ({
    mean: [c.a * k.mean[0], c.a * k.mean[1]] as const,
    std: Math.sqrt(c.a * c.a * k.std * k.std + c.b * c.b),
    weight: k.weight,
  }));
}

/** The diffusion marginal q(x_t) at ᾱ_t: N(√ᾱ μ_k, (ᾱ s_k² + 1 − ᾱ) I). */
export function noisedMixture2D(components: readonly MixtureComponent2D[], alphaBar: number): MixtureComponent2D[] {
  return corruptedMixture2D(components, diffusionCorruption(alphaBar));
}

/** The flow-matching marginal p_t at t: N((1−t) μ_k, ((1−t)² s_k² + t²) I). */
export function flowMixture2D(components: readonly MixtureComponent2D[], t: number): MixtureComponent2D[] {
  return corruptedMixture2D(components, flowCorruption(t));
}

interface Prepared {
  k: number;
  w: Float64Array;
  mx: Float64Array;
  my: Float64Array;
  v: Float64Array;
  logNorm: Float64Array;
}

function prepare(marginal: readonly MixtureComponent2D[]): Prepared {
  const k = marginal.length;
  const p: Prepared = { k, w: new Float64Array(k), mx: new Float64Array(k), my: new Float64Array(k), v: new Float64Array(k), logNorm: new Float64Array(k) };
  marginal.forEach((c, i) => {
    const v = Math.max(c.std * c.std, MIN_MIXTURE_VARIANCE);
    p.w[i] = c.weight;
    p.mx[i] = c.mean[0];
    p.my[i] = c.mean[1];
    p.v[i] = v;
    // log(π_k / (2π v_k)): a 2-D isotropic Gaussian's normalizer.
    p.logNorm[i] = Math.log(c.weight) - Math.log(2 * Math.PI * v);
  });
  return p;
}

/** Each component's log-weight plus log-density at (x, y), into `logits`; returns their maximum. */
function componentLogits(p: ReturnType<typeof prepare>, x: number, y: number, logits: Float64Array): number {
  let max = -Infinity;
  for (let j = 0; j < p.k; j++) {
    const dx = x - p.mx[j];
    const dy = y - p.my[j];
    logits[j] = p.logNorm[j] - (dx * dx + dy * dy) / (2 * p.v[j]);
    if (logits[j] > max) max = logits[j];
  }
  return max;
}

/** log of the mixture's density at each point (its components as given, weights normalized). */
export function mixtureLogDensity2D(components: readonly MixtureComponent2D[], points: ArrayLike<number>): Float64Array {
  const p = prepare(normalizeMixture2D(components));
  const n = points.length >> 1;
  const out = new Float64Array(n);
  const logits = new Float64Array(p.k);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    const max = componentLogits(p, x, y, logits);
    let s = 0;
    for (let j = 0; j < p.k; j++) s += Math.exp(logits[j] - max);
    out[i] = max + Math.log(s);
  }
  return out;
}

/** The mixture's density at each point. */
export function mixtureDensity2D(components: readonly MixtureComponent2D[], points: ArrayLike<number>): Float64Array {
  return mixtureLogDensity2D(components, points).map(Math.exp);
}

/** Posterior means and the score of x_t = a·x0 + b·ε for mixture data, each [n, 2]. */
export interface MixturePosterior2D {
  /** E[x0 | x_t]. */
  x0: Float64Array;
  /** E[ε | x_t]. */
  eps: Float64Array;
  /** ∇ log q(x_t). */
  score: Float64Array;
}

/** E[x0 | x_t], E[ε | x_t] and ∇log q(x_t) for data from `components` corrupted by `c` (module doc). */
export function mixturePosterior2D(components: readonly MixtureComponent2D[], c: LinearCorruption, points: ArrayLike<number>): MixturePosterior2D {
  const data = normalizeMixture2D(components);
  const p = prepare(corruptedMixture2D(data, c));
  const s2 = data.map((k) => k.std * k.std);
  const n = points.length >> 1;
  const x0 = new Float64Array(2 * n);
  const eps = new Float64Array(2 * n);
  const score = new Float64Array(2 * n);
  const logits = new Float64Array(p.k);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    const max = componentLogits(p, x, y, logits);
    let z = 0;
    let sx = 0, sy = 0, ox = 0, oy = 0;
    for (let j = 0; j < p.k; j++) {
      const r = Math.exp(logits[j] - max);
      z += r;
      const gx = (x - p.mx[j]) / p.v[j];
      const gy = (y - p.my[j]) / p.v[j];
      sx += r * gx;
      sy += r * gy;
      ox += r * (data[j].mean[0] + c.a * s2[j] * gx);
      oy += r * (data[j].mean[1] + c.a * s2[j] * gy);
    }
    score[2 * i] = -sx / z;
    score[2 * i + 1] = -sy / z;
    eps[2 * i] = (c.b * sx) / z;
    eps[2 * i + 1] = (c.b * sy) / z;
    x0[2 * i] = ox / z;
    x0[2 * i + 1] = oy / z;
  }
  return { x0, eps, score };
}

/** ∇ log q(x_t) of the diffusion marginal at ᾱ_t. */
export function mixtureScore2D(components: readonly MixtureComponent2D[], alphaBar: number, points: ArrayLike<number>): Float64Array {
  return mixturePosterior2D(components, diffusionCorruption(alphaBar), points).score;
}

/** The optimal ε-prediction E[ε | x_t] = −√(1−ᾱ)·∇log q(x_t). */
export function mixtureOptimalEps2D(components: readonly MixtureComponent2D[], alphaBar: number, points: ArrayLike<number>): Float64Array {
  return mixturePosterior2D(components, diffusionCorruption(alphaBar), points).eps;
}

/** The optimal x0-prediction E[x0 | x_t] (Tweedie: (x_t + (1−ᾱ)·∇log q)/√ᾱ). */
export function mixtureOptimalX02D(components: readonly MixtureComponent2D[], alphaBar: number, points: ArrayLike<number>): Float64Array {
  return mixturePosterior2D(components, diffusionCorruption(alphaBar), points).x0;
}

/** The optimal v-prediction √ᾱ·E[ε | x_t] − √(1−ᾱ)·E[x0 | x_t] (Salimans & Ho 2022, §4). */
export function mixtureOptimalV2D(components: readonly MixtureComponent2D[], alphaBar: number, points: ArrayLike<number>): Float64Array {
  const c = diffusionCorruption(alphaBar);
  const { x0, eps } = mixturePosterior2D(components, c, points);
  return eps.map((e, i) => c.a * e - c.b * x0[i]);
}

/** The exact flow-matching velocity E[ε − x0 | x_t] at time t (x_t = (1−t)·x0 + t·ε). */
export function flowMixtureVelocity2D(components: readonly MixtureComponent2D[], t: number, points: ArrayLike<number>): Float64Array {
  const { x0, eps } = mixturePosterior2D(components, flowCorruption(t), points);
  return eps.map((e, i) => e - x0[i]);
}

/** The index of the component whose mean is nearest each point (mode assignment for coverage). */
export function nearestComponent2D(components: readonly MixtureComponent2D[], points: ArrayLike<number>): Int32Array {
  const n = points.length >> 1;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    components.forEach((c, j) => {
      const d = (points[2 * i] - c.mean[0]) ** 2 + (points[2 * i + 1] - c.mean[1]) ** 2;
      if (d < best) {
        best = d;
        out[i] = j;
      }
    });
  }
  return out;
}
