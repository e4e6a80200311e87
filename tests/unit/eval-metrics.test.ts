/**
 * The evaluation's math (src/eval/frechet.ts, kid.ts) against exact values: feature statistics by
 * hand, the Jacobi eigendecomposition by reconstruction, the Fréchet distance of Gaussians from its
 * closed form (diagonal, commuting in 128 dimensions, and non-commuting 2×2 where
 * tr √M = √(tr M + 2√det M)), FD(A, A) = 0 and symmetry; KID exactly on hand-computed sets and near
 * 0 for two samples of one distribution.
 */
import { describe, expect, it } from 'vitest';
import { featureStats, frechetDistance, sqrtPsd, symmetricEigen, type FeatureRows, type FeatureStats } from '../../src/eval/frechet';
import { kernelInceptionDistance } from '../../src/eval/kid';
import { createRandom } from '../../src/data/random';

const rows = (values: number[][]): FeatureRows => ({ n: values.length, d: values[0].length, data: Float64Array.from(values.flat()) });

/** A random d×d orthogonal matrix (Gram-Schmidt on Gaussian columns), row-major. */
function randomOrthogonal(d: number, seed: number): Float64Array {
  const rng = createRandom(seed);
  const q = rng.fillGaussian(new Float64Array(d * d));
  for (let k = 0; k < d; k++) {
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i * d + k] * q[i * d + j];
      for (let i = 0; i < d; i++) q[i * d + k] -= dot * q[i * d + j];
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += q[i * d + k] ** 2;
    for (let i = 0; i < d; i++) q[i * d + k] /= Math.sqrt(norm);
  }
  return q;
}

/** Q diag(lambda) Qᵀ. */
function fromEigen(q: Float64Array, lambda: number[]): Float64Array {
  const d = lambda.length;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) out[i * d + j] += q[i * d + k] * lambda[k] * q[j * d + k];
  return out;
}

const stats = (mu: number[], sigma: Float64Array): FeatureStats => ({ n: 0, d: mu.length, mu: Float64Array.from(mu), sigma });

describe('feature statistics', () => {
  it('are the mean and the (n − 1) covariance', () => {
    const s = featureStats(rows([[1, 2], [3, 6], [5, 4]]));
    expect([...s.mu]).toEqual([3, 4]);
    // deviations (−2, −2), (0, 2), (2, 0): Σ = [[8, 4], [4, 8]] / 2
    expect([...s.sigma]).toEqual([4, 2, 2, 4]);
  });
});

describe('symmetric eigendecomposition (Jacobi)', () => {
  it('reconstructs a random 128×128 symmetric matrix with orthonormal eigenvectors', () => {
    const d = 128;
    const g = createRandom(3).fillGaussian(new Float64Array(d * d));
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = g[i * d + j] + g[j * d + i];
    const { values, vectors } = symmetricEigen(a, d);
    const v = vectors as Float64Array;
    let err = 0;
    let orth = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let r = 0;
        let o = 0;
        for (let k = 0; k < d; k++) {
          r += v[i * d + k] * values[k] * v[j * d + k];
          o += v[k * d + i] * v[k * d + j];
        }
        err = Math.max(err, Math.abs(r - a[i * d + j]));
        orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
      }
    }
    expect(err).toBeLessThan(1e-9);
    expect(orth).toBeLessThan(1e-12);
  });

  it('takes PSD square roots', () => {
    const root = sqrtPsd(Float64Array.from([5, 4, 4, 5]), 2); // eigenvalues 9 and 1
    expect(root[0]).toBeCloseTo(2, 12);
    expect(root[1]).toBeCloseTo(1, 12);
  });
});

describe('Fréchet distance', () => {
  it('matches Σ(√a − √b)² + |Δμ|² for diagonal covariances', () => {
    const a = [4, 1, 0.25, 9];
    const b = [1, 1, 4, 0];
    const identity = Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const diag = (v: number[]) => fromEigen(identity, v);
    const fd = frechetDistance(stats([0, 1, 2, 3], diag(a)), stats([1, 1, 0, 3], diag(b)));
    const exact = 1 + 4 + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    expect(fd).toBeCloseTo(exact, 10);
  });

  it('matches the closed form for commuting covariances rotated in 128 dimensions', () => {
    const d = 128;
    const q = randomOrthogonal(d, 7);
    const a = Array.from({ length: d }, (_, i) => 0.1 + (i % 13));
    const b = Array.from({ length: d }, (_, i) => (i % 5 === 0 ? 0 : 0.5 + (i % 7)));
    const mu = Array.from({ length: d }, (_, i) => Math.sin(i));
    const fd = frechetDistance(stats(mu, fromEigen(q, a)), stats(new Array(d).fill(0), fromEigen(q, b)));
    const exact = mu.reduce((s, m) => s + m * m, 0) + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    // Measured 5e-9: the zero eigenvalues of Σ2 come back as ±1e-15 round-off, whose square roots add up.
    expect(Math.abs(fd - exact) / exact).toBeLessThan(1e-7);
  });

  it('matches tr √M = √(tr M + 2√det M) for non-commuting 2×2 covariances', () => {
    const s1 = Float64Array.from([4, 0, 0, 1]);
    const th = 0.6;
    const [c, s] = [Math.cos(th), Math.sin(th)];
    const r = Float64Array.from([c, -s, s, c]);
    const s2 = fromEigen(r, [9, 0.25]);
    // tr(Σ1 Σ2) and det(Σ1^½ Σ2 Σ1^½) = det Σ1 det Σ2.
    const trProd = s1[0] * s2[0] + s1[3] * s2[3] + 2 * s1[1] * s2[1];
    const trSqrt = Math.sqrt(trProd + 2 * Math.sqrt(4 * 1 * 9 * 0.25));
    const exact = 0.5 ** 2 + 2 ** 2 + 5 + 9.25 - 2 * trSqrt;
    const fd = frechetDistance(stats([0, 0], s1), stats([0.5, -2], s2));
    expect(fd).toBeCloseTo(exact, 12);
    expect(frechetDistance(stats([0.5, -2], s2), stats([0, 0], s1))).toBeCloseTo(exact, 12);
  });

  it('is 0 for a set against itself and symmetric between two sample sets', () => {
    const rng = createRandom(11);
    const make = (shift: number) => ({ n: 300, d: 16, data: rng.fillGaussian(new Float64Array(300 * 16)).map((x, i) => x * (1 + (i % 3)) + shift) });
    const a = featureStats(make(0));
    const b = featureStats(make(0.3));
    expect(frechetDistance(a, a)).toBeLessThan(1e-9);
    const ab = frechetDistance(a, b);
    expect(ab).toBeGreaterThan(0);
    expect(Math.abs(ab - frechetDistance(b, a))).toBeLessThan(1e-9 * ab);
  });
});

describe('KID', () => {
  it('is exact on hand-computed sets: k(x, y) = (xᵀy/2 + 1)³', () => {
    // X = {(1,0), (0,1)}, Y = {(1,1), (0,0)}: k within X 1, within Y 1; across 3.375, 1, 3.375, 1.
    const x = rows([[1, 0], [0, 1]]);
    const kid = kernelInceptionDistance(x, rows([[1, 1], [0, 0]]));
    expect(kid.mean).toBeCloseTo(1 + 1 - (2 * 8.75) / 4, 12); // = −2.375
    expect([kid.subsets, kid.std]).toEqual([1, 0]);
    // Y = {(1,1), (0,0), (2,0)}: within Y (1 + 8 + 1)·2/6 = 10/3; across 3.375, 1, 8, 3.375, 1, 1 → 17.75·2/6.
    const uneven = kernelInceptionDistance(x, rows([[1, 1], [0, 0], [2, 0]]));
    expect(uneven.mean).toBeCloseTo(-19 / 12, 12);
    expect(uneven.subsetSizes).toEqual([2, 3]);
  });

  it('averages over subsets drawn without replacement, the same for the same seed', () => {
    const x = rows([[1, 0], [0, 1]]);
    const y = rows([[1, 1], [0, 0], [2, 0]]);
    const a = kernelInceptionDistance(x, y, { subsetSize: 2, subsets: 4, seed: 3 });
    expect(a.subsetSizes).toEqual([2, 2]);
    expect(a.subsets).toBe(4);
    expect(kernelInceptionDistance(x, y, { subsetSize: 2, subsets: 4, seed: 3 })).toEqual(a);
    // Each subset of Y is one of the three pairs: {y1,y2} −2.375, {y1,y3}, {y2,y3}; the mean lies among them.
    const pair = (i: number, j: number) => kernelInceptionDistance(x, rows([[[1, 1], [0, 0], [2, 0]][i], [[1, 1], [0, 0], [2, 0]][j]])).mean;
    const options = [pair(0, 1), pair(0, 2), pair(1, 2)];
    expect(a.mean).toBeGreaterThanOrEqual(Math.min(...options) - 1e-12);
    expect(a.mean).toBeLessThanOrEqual(Math.max(...options) + 1e-12);
  });

  it('is near 0 for two samples of one distribution and clearly positive for a shifted one', () => {
    const rng = createRandom(5);
    const sample = (shift: number) => ({ n: 400, d: 16, data: rng.fillGaussian(new Float64Array(400 * 16)).map((v) => v + shift) });
    const a = sample(0);
    const same = kernelInceptionDistance(a, sample(0), { subsetSize: 200, subsets: 5, seed: 1 });
    const shifted = kernelInceptionDistance(a, sample(0.5), { subsetSize: 200, subsets: 5, seed: 1 });
    expect(Math.abs(same.mean)).toBeLessThan(0.02);
    expect(shifted.mean).toBeGreaterThan(0.1);
    expect(kernelInceptionDistance(a, sample(0.5), { subsetSize: 200, subsets: 5, seed: 1 }).subsets).toBe(5);
  });
});
