import type { SamplerConfig } from '../diffusion/config';

/** A sampling run's request: the sampler's settings plus how many images, from which seed, of which digit. */
export interface SamplingConfig extends SamplerConfig {
  numImages: number;
  seed: number;
  /** Class-conditional models: the digit to draw, or null for every digit across the grid (i mod 10). */
  digit: number | null;
  /** Sample with the EMA weights when the model keeps them. */
  useEma: boolean;
}
