/**
 * Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", §3 and App. D): the
 * unbiased estimate of the squared maximum mean discrepancy between two sets of feature rows with
 * the polynomial kernel k(x, y) = (xᵀy / d + 1)³,
 *
 *   MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j),
 *
 * averaged over random subsets of both sets (as the paper and torch-fidelity do: subsets of at most
 * 1000 rows of each set, drawn without replacement; a set no larger than that is used whole).
 * Unbiased, so it can come out slightly below 0 when the two sets come from the same distribution.
 * Plain float64 TypeScript, no TensorFlow.js.
 */
import { createRandom, type Random } from '../data/random';
import type { FeatureRows } from './frechet';

/** The rows of `set` at `indices`, gathered into one contiguous float64 block. */
function gather(set: FeatureRows, indices: ArrayLike<number>): Float64Array {
  const { d, data } = set;
  const out = new Float64Array(indices.length * d);
  for (let i = 0; i < indices.length; i++) for (let k = 0; k < d; k++) out[i * d + k] = data[indices[i] * d + k];
  return out;
}

/**
 * Σ k(x_i, y_j) of the polynomial kernel (xᵀy / d + 1)³ over rows i of x and j of y (all pairs), or
 * over i < j when `within` (x = y). The dot product is unrolled by 4: it is the evaluation's hot loop.
 */
function kernelSum(x: Float64Array, y: Float64Array, d: number, within: boolean): number {
  const m = x.length / d;
  const n = y.length / d;
  const d4 = d - (d % 4);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    const xi = i * d;
    for (let j = within ? i + 1 : 0; j < n; j++) {
      const yj = j * d;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let k = 0;
      for (; k < d4; k += 4) {
        a0 += x[xi + k] * y[yj + k];
        a1 += x[xi + k + 1] * y[yj + k + 1];
        a2 += x[xi + k + 2] * y[yj + k + 2];
        a3 += x[xi + k + 3] * y[yj + k + 3];
      }
      for (; k < d; k++) a0 += x[xi + k] * y[yj + k];
      const base = (a0 + a1 + a2 + a3) / d + 1;
      sum += base * base * base;
    }
  }
  return sum;
}

export interface KidOptions {
  /** Number of subsets to average over (default 10); 1 when both sets fit in one subset. */
  subsets?: number;
  /** Rows drawn from each set per subset (default 1000; a set with fewer rows is used whole in every subset). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0): the same seed gives the same figure. */
  seed?: number;
}

export interface KidResult {
  /** The mean of MMD²_u over the subsets. */
  mean: number;
  /** Its (n − 1) standard deviation over the subsets (0 for one subset). */
  std: number;
  subsets: number;
  /** Rows of each set in a subset: [evaluated set, reference set]. */
  subsetSizes: [number, number];
}

/**
 * The reference side of KID, drawn and summed once: its subsets (rows gathered) with their
 * within-set kernel sums, so that several sets (the samples, the held-out floor) are scored against
 * the very same reference subsets at the cost of the cross terms only.
 */
export interface KidReference {
  d: number;
  subsetSize: number;
  seed: number;
  subsets: { rows: Float64Array; withinSum: number }[];
}

/** m distinct indices of 0..n−1 (a partial Fisher-Yates shuffle), in draw order. */
function drawWithoutReplacement(n: number, m: number, rng: Random): Int32Array {
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return pool.slice(0, m);
}

const ALL = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

function checkSize(size: number): void {
  if (!(Number.isInteger(size) && size >= 2)) throw new Error(`KID: subset size must be an integer ≥ 2, got ${size}.`);
}

/** Draws the reference subsets (one, the whole set, when it has no more rows than a subset). */
export function kidReference(reference: FeatureRows, options: KidOptions = {}): KidReference {
  const size = options.subsetSize ?? 1000;
  checkSize(size);
  if (reference.n < 2) throw new Error(`KID needs at least 2 reference rows, got ${reference.n}.`);
  const seed = options.seed ?? 0;
  const sizeB = Math.min(size, reference.n);
  const count = sizeB === reference.n ? 1 : Math.max(1, Math.floor(options.subsets ?? 10));
  const rng = createRandom(seed);
  const subsets = Array.from({ length: count }, () => {
    const rows = gather(reference, sizeB === reference.n ? ALL(reference.n) : drawWithoutReplacement(reference.n, sizeB, rng));
    return { rows, withinSum: kernelSum(rows, rows, reference.d, true) };
  });
  return { d: reference.d, subsetSize: size, seed, subsets };
}

/** KID of a set against a drawn reference: the evaluated set is subsampled likewise when it is larger than a subset. */
export function kidAgainst(set: FeatureRows, reference: KidReference): KidResult {
  const { d } = reference;
  if (set.d !== d) throw new Error(`KID: feature dimensions differ (${set.d} and ${d}).`);
  if (set.n < 2) throw new Error(`KID needs at least 2 rows in each set, got ${set.n}.`);
  const m = Math.min(reference.subsetSize, set.n);
  const whole = m === set.n;
  const rng = createRandom(reference.seed + 1);
  let fixed: { rows: Float64Array; withinSum: number } | null = null;
  if (whole) {
    const rows = gather(set, ALL(set.n));
    fixed = { rows, withinSum: kernelSum(rows, rows, d, true) };
  }
  const subsets = reference.subsets.length;
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const ref = reference.subsets[s % reference.subsets.length];
    let x = fixed;
    if (x == null) {
      const rows = gather(set, drawWithoutReplacement(set.n, m, rng));
      x = { rows, withinSum: kernelSum(rows, rows, d, true) };
    }
    const n = ref.rows.length / d;
    // Each unordered within-set pair was summed once: Σ_{i≠j} = 2 Σ_{i<j}.
    values.push((2 * x.withinSum) / (m * (m - 1)) + (2 * ref.withinSum) / (n * (n - 1)) - (2 * kernelSum(x.rows, ref.rows, d, false)) / (m * n));
  }
  const mean = values.reduce((a, b) => a + b, 0) / subsets;
  const variance = subsets > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (subsets - 1) : 0;
  const n = reference.subsets[0].rows.length / d;
  return { mean, std: Math.sqrt(variance), subsets, subsetSizes: [m, n] };
}

/** KID between two sets of feature rows of the same dimension (each set needs at least 2 rows). */
export function kernelInceptionDistance(a: FeatureRows, b: FeatureRows, options: KidOptions = {}): KidResult {
  if (a.d !== b.d) throw new Error(`KID: feature dimensions differ (${a.d} and ${b.d}).`);
  const size = options.subsetSize ?? 1000;
  checkSize(size);
  // With both sets whole there is nothing to draw; when only the evaluated set is larger, draw it as often as asked.
  const reference = kidReference(b, options);
  if (reference.subsets.length === 1 && a.n > size) {
    const count = Math.max(1, Math.floor(options.subsets ?? 10));
    reference.subsets = Array.from({ length: count }, () => reference.subsets[0]);
  }
  return kidAgainst(a, reference);
}
