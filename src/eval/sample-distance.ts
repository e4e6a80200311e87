/**
 * Distances between two samples of 2-D points, for the 2D lab's quality numbers (issue 17).
 *
 * The energy distance (Székely & Rizzo 2013, Eq. 2.3 and §3 for the U-statistic):
 *   D²(X, Y) = 2·E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖,
 * zero iff the distributions are equal; it is the squared MMD with the distance-induced kernel
 * k(x, y) = ‖x‖ + ‖y‖ − ‖x − y‖ (Sejdinovic et al. 2013; Gretton et al. 2012, Lemma 6 for the
 * unbiased estimator). The within-sample means here are over distinct pairs, so the estimate is
 * unbiased: its expectation is exactly 0 when both samples come from one distribution, and it may
 * then be slightly negative. It needs no bandwidth.
 *
 * The floor is what that statistic scatters by when nothing is wrong: the root mean square of the
 * unbiased estimate between pairs of independent data samples of the same size. A model's distance
 * within a small multiple of the floor cannot be told from the data at that sample size.
 */

/** Mean Euclidean distance between the points of a and b ([n, 2] each), or over distinct pairs of a when b is a. */
function meanDistance(a: ArrayLike<number>, b: ArrayLike<number>, same: boolean): number {
  const n = a.length >> 1;
  const m = b.length >> 1;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = a[2 * i];
    const y = a[2 * i + 1];
    // Each unordered pair once within a sample: E over distinct pairs.
    for (let j = same ? i + 1 : 0; j < m; j++) {
      const dx = x - b[2 * j];
      const dy = y - b[2 * j + 1];
      sum += Math.sqrt(dx * dx + dy * dy);
    }
  }
  return same ? sum / ((n * (n - 1)) / 2) : sum / (n * m);
}

function checkSample(name: string, p: ArrayLike<number>): void {
  if (p.length % 2 !== 0 || p.length < 4) throw new Error(`${name} must hold at least 2 points laid out [n, 2].`);
}

/** The unbiased energy distance D²(X, Y) between samples a and b ([n, 2] and [m, 2], n, m ≥ 2). */
export function energyDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSample('the first sample', a);
  checkSample('the second sample', b);
  return 2 * meanDistance(a, b, false) - meanDistance(a, a, true) - meanDistance(b, b, true);
}

/**
 * The floor: √(mean of D²(X_k, X′_k)²) over the given pairs of independent data samples (each
 * [n, 2], the size the measured samples have).
 */
export function energyDistanceFloor(pairs: ReadonlyArray<readonly [ArrayLike<number>, ArrayLike<number>]>): number {
  if (pairs.length === 0) throw new Error('the floor needs at least one pair of data samples.');
  const sq = pairs.reduce((s, [a, b]) => s + energyDistance(a, b) ** 2, 0);
  return Math.sqrt(sq / pairs.length);
}

/** Share of the points nearest each of the given means (mode coverage of a mixture). */
export function modeShares(points: ArrayLike<number>, means: ReadonlyArray<readonly [number, number]>): number[] {
  const n = points.length >> 1;
  const counts = new Array<number>(means.length).fill(0);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let k = 0;
    means.forEach((m, j) => {
      const d = (points[2 * i] - m[0]) ** 2 + (points[2 * i + 1] - m[1]) ** 2;
      if (d < best) {
        best = d;
        k = j;
      }
    });
    counts[k] += 1;
  }
  return counts.map((c) => (n > 0 ? c / n : 0));
}

/** Whether every mode holds at least `fraction` (default half) of its weight's share of the points. */
export function everyModeCovered(shares: readonly number[], weights: readonly number[], fraction = 0.5): boolean {
  const total = weights.reduce((a, b) => a + b, 0);
  return shares.length === weights.length && shares.every((s, k) => s >= (fraction * weights[k]) / total);
}
