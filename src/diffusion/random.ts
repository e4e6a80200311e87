/**
 * The project's one seeded uniform generator (mulberry32) and its seed derivations. Plain numbers,
 * no TensorFlow.js, so every layer can use it: the math, the models' weight init, the data pipeline
 * (src/data/random.ts builds its Gaussian generator on it) and the page.
 *
 * mulberry32 has 32-bit state and period 2^32: fast and good enough for shuffling, weight init and
 * noise in a playground, not cryptographic. Everything is deterministic for a given seed, on every
 * platform.
 */

/** A source of uniform numbers in [0, 1). */
export type UniformSource = () => number;

const TWO_POW_32 = 4294967296;
const MULBERRY_INCREMENT = 0x6d2b79f5;

/** Turns any finite number (negatives and fractions included) into a uint32 seed. */
export function toSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`Seed must be a finite number, got ${seed}`);
  return Math.trunc(seed) >>> 0;
}

/** mulberry32's state transition: the counter after `a` (a uint32). */
export function mulberry32Next(a: number): number {
  return (a + MULBERRY_INCREMENT) >>> 0;
}

/** mulberry32's output function: scrambles the counter `a` into a uniform in [0, 1), a multiple of 2^-32. */
export function mulberry32Output(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
}

/** The bare mulberry32 generator: uniforms in [0, 1). The same seed always gives the same sequence. */
export function mulberry32(seed: number): UniformSource {
  let a = toSeed(seed);
  return () => {
    a = mulberry32Next(a);
    return mulberry32Output(a);
  };
}

/**
 * Derives a well-scrambled uint32 seed from a base seed and a stream number (a 32-bit hash mix), so
 * one user seed can drive several generators (data order, training noise, timesteps, x_T) that do
 * not start next to each other. (All mulberry32 seeds walk the same 2^32 cycle at different
 * offsets, so the streams are far apart in practice, not provably disjoint.)
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (toSeed(seed) ^ Math.imul(toSeed(stream) + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The 31-bit seed of the k-th noise draw of a sampling run seeded with `seed` (an integer hash,
 * splitmix-like), used by `seededNoise` (./sample-loop.ts). A different function from
 * {@link deriveSeed} (other constants, 31 bits): it fixes every stochastic sampler's noise, so
 * replacing it with deriveSeed would change every sample drawn from a given seed.
 */
export function noiseDrawSeed(seed: number, k: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}
