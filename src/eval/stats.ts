/** Small statistics shared by the benchmarks and the Compare panel's timings (plain numbers, no tfjs). */

/**
 * The median of `xs`: the middle value, or the mean of the two middle values when the count is even
 * (so a pair of timings reports their mean, not the slower one). NaN for an empty list.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
