/**
 * Fields and densities on a grid for the lab's views. A field is read at time t as the pair
 * (x̂0, ε̂) of the corruption x_t = a·x0 + b·ε (diffusion: a = √ᾱ_t, b = √(1−ᾱ_t); flow: a = 1 − t,
 * b = t) and shown as ε̂, the score −ε̂/b (Tweedie; Song et al. 2021, score SDE), or the velocity
 * (diffusion: v = a·ε̂ − b·x̂0, Salimans & Ho 2022; flow: u = ε̂ − x̂0). The learned pair comes
 * from the MLP's output (ε, x0 or v for diffusion; u for flow, with ε̂ = x + (1−t)·u and
 * x̂0 = x − t·u); the exact pair from the mixture's closed forms (../../diffusion/gaussian-mixture-2d).
 */
import * as tf from '@tensorflow/tfjs';
import { corruptedMixture2D, mixtureDensity2D, mixturePosterior2D, type LinearCorruption, type MixtureComponent2D } from '../../diffusion/gaussian-mixture-2d';
import { mlpFeatures, MLP_INPUT_FEATURES, TIME_SCALE } from '../../models/mlp-denoiser';
import type { LabFieldKind, LabGrid } from '../../protocol/lab-messages';
import type { LabContext } from './lab-context';

export const MAX_GRID_POINTS = 256 * 256;
/** Scores divide by b: below this b (t ≈ 0) it is clamped. */
const MIN_SCORE_B = 1e-3;
/** Training points used as components of a non-mixture density (every k-th beyond this many). */
const MAX_DENSITY_COMPONENTS = 1000;

/** The grid's points, row-major from (xMin, yMin), [ny·nx, 2]. */
export function gridPoints(grid: LabGrid): Float32Array {
  const { xMin, xMax, yMin, yMax, nx, ny } = grid;
  if (![xMin, xMax, yMin, yMax].every(Number.isFinite) || !(xMax > xMin) || !(yMax > yMin)) throw new Error('A grid needs finite bounds with xMax > xMin and yMax > yMin.');
  if (!Number.isInteger(nx) || !Number.isInteger(ny) || nx < 2 || ny < 2 || nx * ny > MAX_GRID_POINTS) throw new Error(`A grid needs 2 or more points a side and at most ${MAX_GRID_POINTS} in all, got ${nx} × ${ny}.`);
  const out = new Float32Array(2 * nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      out[2 * (j * nx + i)] = xMin + ((xMax - xMin) * i) / (nx - 1);
      out[2 * (j * nx + i) + 1] = yMin + ((yMax - yMin) * j) / (ny - 1);
    }
  }
  return out;
}

/** The corruption at the request's t: diffusion's integer timestep (−1: clean data) or flow's t ∈ [0, 1]. */
export function corruptionAt(ctx: LabContext, t: number): LinearCorruption {
  if (ctx.setup.objective === 'flow') {
    if (!(t >= 0 && t <= 1)) throw new Error(`Flow time t must be in [0, 1], got ${t}.`);
    return { a: 1 - t, b: t };
  }
  if (!Number.isInteger(t) || t < -1 || t >= ctx.schedule.T) throw new Error(`The timestep must be an integer from 0 to ${ctx.schedule.T - 1}, got ${t}.`);
  const ab = t < 0 ? 1 : ctx.schedule.alphasCumprod[t];
  return { a: Math.sqrt(ab), b: Math.sqrt(1 - ab) };
}

function toKind(kind: LabFieldKind, flow: boolean, c: LinearCorruption, x0: ArrayLike<number>, eps: ArrayLike<number>): Float32Array {
  const b = Math.max(c.b, MIN_SCORE_B);
  return Float32Array.from({ length: eps.length }, (_, i) => {
    if (kind === 'eps') return eps[i];
    if (kind === 'score') return -eps[i] / b;
    return flow ? eps[i] - x0[i] : c.a * eps[i] - c.b * x0[i];
  });
}

/**
 * The learned field (the MLP with its weights' moving average, as sampling uses) at the grid's
 * points, read back asynchronously (one `await data()`, no synchronous read on any backend).
 */
export async function learnedField(ctx: LabContext, t: number, kind: LabFieldKind, points: Float32Array): Promise<Float32Array> {
  const c = corruptionAt(ctx, t);
  const flow = ctx.setup.objective === 'flow';
  const n = points.length >> 1;
  const tau = flow ? t * TIME_SCALE : (Math.max(t, 0) * TIME_SCALE) / ctx.schedule.T;
  const out = tf.tidy(() => ctx.model.apply(tf.tensor2d(mlpFeatures(points, tau), [n, MLP_INPUT_FEATURES]), ctx.trainer.averaged));
  let o: Float32Array;
  try {
    o = (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
  const x0 = new Float64Array(2 * n);
  const eps = new Float64Array(2 * n);
  const prediction = ctx.setup.prediction;
  for (let i = 0; i < 2 * n; i++) {
    const x = points[i];
    if (flow) {
      eps[i] = x + (1 - t) * o[i];
      x0[i] = x - t * o[i];
    } else if (prediction === 'epsilon') {
      eps[i] = o[i];
      x0[i] = (x - c.b * o[i]) / Math.max(c.a, 1e-12);
    } else if (prediction === 'x0') {
      x0[i] = o[i];
      eps[i] = (x - c.a * o[i]) / Math.max(c.b, MIN_SCORE_B);
    } else {
      // Salimans & Ho 2022, §4 / Appendix D: x0 = a·x − b·v, ε = b·x + a·v.
      x0[i] = c.a * x - c.b * o[i];
      eps[i] = c.b * x + c.a * o[i];
    }
  }
  return toKind(kind, flow, c, x0, eps);
}

/** The exact field of the mixture at the grid's points, or null where the data set has no closed form. */
export function exactField(ctx: LabContext, t: number, kind: LabFieldKind, points: Float32Array): Float32Array | null {
  if (!ctx.mixture) return null;
  const c = corruptionAt(ctx, t);
  const { x0, eps } = mixturePosterior2D(ctx.mixture, c, points);
  return toKind(kind, ctx.setup.objective === 'flow', c, x0, eps);
}

/**
 * The density of x_t on the grid: the mixture's marginal, or for other data the training points
 * as a kernel density estimate (each point N(x_i, h² I), h from Scott's rule ×½, so that t = 0
 * shows the data smoothed rather than spikes) pushed through the corruption: N(a·x_i, (a²h² + b²) I).
 */
export function densityOnGrid(ctx: LabContext, t: number, points: Float32Array): Float32Array {
  const c = corruptionAt(ctx, t);
  let data: MixtureComponent2D[];
  if (ctx.mixture) {
    data = ctx.mixture;
  } else {
    const p = ctx.points;
    const m = p.length >> 1;
    const stride = Math.ceil(m / MAX_DENSITY_COMPONENTS);
    let s = 0;
    for (let d = 0; d < 2; d++) {
      let mean = 0, sq = 0;
      for (let i = d; i < p.length; i += 2) mean += p[i];
      mean /= m;
      for (let i = d; i < p.length; i += 2) sq += (p[i] - mean) ** 2;
      s += Math.sqrt(sq / Math.max(m - 1, 1)) / 2;
    }
    // Scott's rule in 2-D: h = σ·n^(−1/6).
    const h = Math.max(0.5 * s * Math.pow(m, -1 / 6), 0.02);
    data = [];
    for (let i = 0; i < m; i += stride) data.push({ mean: [p[2 * i], p[2 * i + 1]], std: h, weight: 1 });
  }
  return Float32Array.from(mixtureDensity2D(corruptedMixture2D(data, c), points));
}
