/**
 * A small seeded pseudo-random number generator, shared by the data pipeline and the engine.
 *
 * Uniform numbers come from mulberry32 and seeds from deriveSeed, both defined once in
 * src/diffusion/random.ts (re-exported here). Gaussians come from the Box-Muller transform, which
 * turns two uniforms into two independent N(0, 1) values; the second one is kept for the next call.
 * The generator's state can be saved and restored, so training resumes with the same draws.
 */
import { mulberry32Next, mulberry32Output, toSeed } from '../diffusion/random';

export { deriveSeed, mulberry32, toSeed, type UniformSource } from '../diffusion/random';

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

/** Creates a seeded {@link Random}. The same seed always gives the same sequence. */
export function createRandom(seed: number): Random {
  let a = toSeed(seed);
  let spare: number | null = null;

  const uniform = (): number => {
    a = mulberry32Next(a);
    return mulberry32Output(a);
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
