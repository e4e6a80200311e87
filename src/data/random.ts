/**
 * A small seeded pseudo-random number generator, shared by the data pipeline and the engine.
 *
 * Uniform numbers come from mulberry32 (32-bit state, period 2^32, fast, good enough for
 * shuffling and noise in a playground; not cryptographic). Gaussians come from the Box-Muller
 * transform, which turns two uniforms into two independent N(0, 1) values; the second one is
 * kept for the next call. Everything is deterministic for a given seed, on every platform.
 */

/** A source of uniform numbers in [0, 1). */
export type UniformSource = () => number;

/** A seeded generator; see {@link createRandom}. */
export interface Random {
  /** Uniform in [0, 1), a multiple of 2^-32. */
  uniform(): number;
  /** Uniform integer in [0, n); `n` must be a positive integer up to 2^32. */
  int(n: number): number;
  /** One standard normal N(0, 1) sample. */
  gaussian(): number;
  /** Fills `out` with N(mean, std^2) samples and returns it. */
  fillGaussian<T extends Float32Array | Float64Array>(out: T, mean?: number, std?: number): T;
  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(array: T): T;
  /** The generator's full state, to save with a checkpoint. */
  getState(): RandomState;
  /** Restores a state returned by {@link Random.getState}. */
  setState(state: RandomState): void;
}

/** Everything needed to resume a {@link Random} exactly where it was. */
export interface RandomState {
  /** mulberry32's 32-bit counter. */
  readonly a: number;
  /** The Box-Muller value kept for the next gaussian() call, or null. */
  readonly spare: number | null;
}

const TWO_POW_32 = 4294967296;
const MULBERRY_INCREMENT = 0x6d2b79f5;

/** mulberry32's output function: scrambles the counter `a` into a uniform in [0, 1). */
function mulberryOutput(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
}

/** Turns any number (including negatives and fractions) into a uint32 seed. */
export function toSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`Seed must be a finite number, got ${seed}`);
  return Math.trunc(seed) >>> 0;
}

/**
 * Derives a well-scrambled seed from a base seed and a stream number (a 32-bit hash mix), so one
 * user seed can drive several generators (data order, noise, timesteps) that do not start next
 * to each other. (All mulberry32 seeds walk the same 2^32 cycle at different offsets, so the
 * streams are far apart in practice, not provably disjoint.)
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (toSeed(seed) ^ Math.imul(toSeed(stream) + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The bare mulberry32 generator: returns uniforms in [0, 1). */
export function mulberry32(seed: number): UniformSource {
  let a = toSeed(seed);
  return () => {
    a = (a + MULBERRY_INCREMENT) >>> 0;
    return mulberryOutput(a);
  };
}


/** Creates a seeded {@link Random}. The same seed always gives the same sequence. */
export function createRandom(seed: number): Random {
  let a = toSeed(seed);
  let spare: number | null = null;

  const uniform = (): number => {
    a = (a + MULBERRY_INCREMENT) >>> 0;
    return mulberryOutput(a);
  };

  const gaussian = (): number => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new Error(`int(n) needs a positive integer n up to 2^32, got ${n}`);
    }
    return Math.floor(uniform() * n);
  };

  return {
    uniform,
    int,
    gaussian,
    fillGaussian(out, mean = 0, std = 1) {
      for (let i = 0; i < out.length; i++) out[i] = mean + std * gaussian();
      return out;
    },
    shuffle(array) {
      for (let i = array.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = array[i];
        array[i] = array[j];
        array[j] = tmp;
      }
      return array;
    },
    getState: () => ({ a, spare }),
    setState(state) {
      a = toSeed(state.a);
      spare = state.spare;
    },
  };
}
