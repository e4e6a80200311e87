import {
  DEFAULT_ATOL,
  DEFAULT_EARLY_STOP_THRESHOLD,
  DEFAULT_RTOL,
  type AdaptiveChoice,
  type EarlyStopChoice,
  type SamplerConfig,
} from '../diffusion/config';

/** What to sample: the sampler's settings plus how many images, from which seed, of which digit. */
export interface SamplingRequest extends SamplerConfig {
  numImages: number;
  seed: number;
  /** Class-conditional models: the digit to draw, or null for every digit across the grid (i mod 10). */
  digit: number | null;
  /**
   * Adaptive step size instead of `kind` and `steps` (absent: 'off'): DPM-Solver-12 or -23
   * (src/diffusion/adaptive-dpm-solver.ts, data form) or the SDE's Gotta Go Fast
   * (src/diffusion/adaptive-sde.ts), with its relative and absolute tolerances.
   */
  adaptive?: AdaptiveChoice;
  rtol?: number;
  atol?: number;
  /** Early stopping (absent: 'off') and its threshold (RMS per element, in the denoiser's space). */
  earlyStop?: EarlyStopChoice;
  earlyStopThreshold?: number;
}

/** The page's sampling run: a request, and whether to sample with the EMA weights when the model keeps them. */
export interface SamplingConfig extends SamplingRequest {
  useEma: boolean;
}

/** Model evaluations an adaptive run may take (the solver throws past it). */
export const ADAPTIVE_MAX_EVALUATIONS = 500;

/** The adaptive solver's order (2 or 3), or null for a fixed-step request. */
export function adaptiveOrder(r: Pick<SamplingRequest, 'adaptive'>): 2 | 3 | null {
  return r.adaptive === '12' ? 2 : r.adaptive === '23' ? 3 : null;
}

/** Whether the run chooses its own steps (the adaptive ODE or SDE solver). */
export function isAdaptive(r: Pick<SamplingRequest, 'adaptive'>): boolean {
  return r.adaptive !== undefined && r.adaptive !== 'off';
}

/** The most steps a run can take: `steps`, or for an adaptive solver its evaluation budget over its evaluations per step (the SDE's: 2). */
export function maxRunSteps(r: Pick<SamplingRequest, 'adaptive' | 'steps'>): number {
  if (!isAdaptive(r)) return r.steps;
  return Math.floor(ADAPTIVE_MAX_EVALUATIONS / (adaptiveOrder(r) ?? 2));
}

/** The request's tolerances and early-stop settings with their defaults filled in. */
export function requestExtras(r: SamplingRequest) {
  return {
    rtol: r.rtol ?? DEFAULT_RTOL,
    atol: r.atol ?? DEFAULT_ATOL,
    earlyStop: r.earlyStop && r.earlyStop !== 'off' ? { criterion: r.earlyStop, threshold: r.earlyStopThreshold ?? DEFAULT_EARLY_STOP_THRESHOLD } : null,
  };
}
