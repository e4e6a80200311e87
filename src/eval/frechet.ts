/**
 * The Fréchet distance between two sets of feature rows, each summarised by its mean μ and
 * covariance Σ as a Gaussian (Heusel et al. 2017, "FID"; Dowson & Landau 1982 for the closed form):
 *
 *   FD = ||μ1 − μ2||² + tr(Σ1) + tr(Σ2) − 2 tr((Σ1^½ Σ2 Σ1^½)^½)
 *
 * Everything is float64 in plain TypeScript (no TensorFlow.js): the covariances are 128×128 for the
 * evaluation classifier, small enough for a cyclic Jacobi eigendecomposition. Σ1^½ comes from
 * Σ1 = V Λ Vᵀ as V Λ^½ Vᵀ; the trace term is Σ_i √λ_i of the symmetric PSD matrix Σ1^½ Σ2 Σ1^½.
 * Eigenvalues below zero (round-off, or rank-deficient covariances such as features that are
 * always 0 after the ReLU) are clamped to 0.
 */

/** n feature rows of dimension d, row-major (row i is data[i*d .. i*d + d)). */
export interface FeatureRows {
  n: number;
  d: number;
  data: Float32Array | Float64Array;
}

/** The Gaussian summary of a set of feature rows: mean μ [d] and covariance Σ [d, d] (row-major). */
export interface FeatureStats {
  n: number;
  d: number;
  mu: Float64Array;
  sigma: Float64Array;
}

/** Mean and unbiased covariance (divided by n − 1, as numpy.cov and pytorch-fid) of the rows, in float64. */
export function featureStats(rows: FeatureRows): FeatureStats {
  const { n, d, data } = rows;
  if (n < 2) throw new Error(`feature statistics need at least 2 rows, got ${n}.`);
  if (data.length !== n * d) throw new Error(`feature rows: expected ${n}×${d} = ${n * d} values, got ${data.length}.`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const sigma = new Float64Array(d * d);
  const centered = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centered[j] = data[i * d + j] - mu[j];
    for (let j = 0; j < d; j++) {
      const cj = centered[j];
      if (cj === 0) continue;
      const row = j * d;
      for (let k = j; k < d; k++) sigma[row + k] += cj * centered[k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = sigma[j * d + k] / (n - 1);
      sigma[j * d + k] = v;
      sigma[k * d + j] = v;
    }
  }
  return { n, d, mu, sigma };
}

/** Eigenvalues (ascending is not promised) and, when asked, eigenvectors as the columns of a d×d row-major matrix. */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array | null;
}

/**
 * Eigendecomposition of a symmetric d×d matrix (row-major) by the cyclic Jacobi method: plane
 * rotations P chosen to zero one off-diagonal entry at a time, A ← Pᵀ A P, V ← V P, sweeping all
 * pairs until the off-diagonal mass is negligible. Then A = V diag(values) Vᵀ. The input is not changed.
 */
export function symmetricEigen(matrix: Float64Array, d: number, wantVectors = true): SymmetricEigen {
  if (matrix.length !== d * d) throw new Error(`symmetricEigen: expected ${d}×${d} values, got ${matrix.length}.`);
  const a = Float64Array.from(matrix);
  const v = wantVectors ? new Float64Array(d * d) : null;
  if (v) for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let total = 0;
  for (let i = 0; i < d * d; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // Zero entries already negligible next to both diagonal entries (Numerical Recipes' test).
        const g = 100 * Math.abs(apq);
        if (sweep > 3 && Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          a[p * d + q] = 0;
          a[q * d + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // Columns p and q: A ← A P.
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          // Rows p and q: A ← Pᵀ A.
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        a[p * d + q] = 0;
        a[q * d + p] = 0;
        if (v) {
          for (let k = 0; k < d; k++) {
            const vkp = v[k * d + p];
            const vkq = v[k * d + q];
            v[k * d + p] = c * vkp - s * vkq;
            v[k * d + q] = s * vkp + c * vkq;
          }
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

/** The PSD square root V Λ^½ Vᵀ of a symmetric matrix (negative eigenvalues clamped to 0). */
export function sqrtPsd(matrix: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, d, true);
  const v = vectors as Float64Array;
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const r = Math.sqrt(Math.max(0, values[k]));
    if (r === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = v[i * d + k] * r;
      if (vik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * v[j * d + k];
    }
  }
  return out;
}

/** C = A B for d×d row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
    }
  }
  return c;
}

/** tr((Σ1^½ Σ2 Σ1^½)^½): the sum of the square roots of that PSD matrix's eigenvalues. */
export function traceSqrtProduct(sigma1: Float64Array, sigma2: Float64Array, d: number): number {
  const root1 = sqrtPsd(sigma1, d);
  const m = matmul(matmul(root1, sigma2, d), root1, d);
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const s = 0.5 * (m[i * d + j] + m[j * d + i]); // symmetric up to round-off
      m[i * d + j] = s;
      m[j * d + i] = s;
    }
  }
  const { values } = symmetricEigen(m, d, false);
  let sum = 0;
  for (const lambda of values) sum += Math.sqrt(Math.max(0, lambda));
  return sum;
}

/** The Fréchet distance between two Gaussian summaries of the same dimension. */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.d !== b.d) throw new Error(`Fréchet distance: feature dimensions differ (${a.d} and ${b.d}).`);
  const d = a.d;
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (a.mu[j] - b.mu[j]) ** 2;
  let traces = 0;
  for (let j = 0; j < d; j++) traces += a.sigma[j * d + j] + b.sigma[j * d + j];
  const fd = meanTerm + traces - 2 * traceSqrtProduct(a.sigma, b.sigma, d);
  // Round-off can make FD(A, A) a tiny negative number; the distance itself is ≥ 0.
  return Math.max(0, fd);
}
