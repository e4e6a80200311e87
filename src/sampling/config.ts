import type { SamplerConfig } from '../diffusion/config';

/** What to sample: the sampler's settings plus how many images, from which seed, of which digit. */
export interface SamplingRequest extends SamplerConfig {
  numImages: number;
  seed: number;
  /** Class-conditional models: the digit to draw, or null for every digit across the grid (i mod 10). */
  digit: number | null;
}

/** The page's sampling run: a request, and whether to sample with the EMA weights when the model keeps them. */
export interface SamplingConfig extends SamplingRequest {
  useEma: boolean;
}
