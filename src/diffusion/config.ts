/**
 * Configuration vocabulary of the diffusion math core, shared by the worker, the UI's store and the CLI.
 * Names follow diffusers' config strings and the papers' symbols.
 */

export const SCHEDULE_KINDS = ['linear', 'cosine', 'sigmoid', 'quadratic'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const PREDICTION_TYPES = ['epsilon', 'x0', 'v'] as const;
/** What the network predicts: the noise ε, the clean sample x0, or the velocity v (Salimans & Ho 2022). */
export type PredictionType = (typeof PREDICTION_TYPES)[number];

export const SAMPLER_KINDS = ['ddpm', 'ddim', 'dpmpp'] as const;
/** DDPM ancestral (Ho et al. 2020), DDIM (Song et al. 2021), DPM-Solver++(2M) (Lu et al. 2022). */
export type SamplerKind = (typeof SAMPLER_KINDS)[number];

/** The samplers' display names, the one table that the page, the CLI's output and the reports use. */
export const SAMPLER_LABELS: Readonly<Record<SamplerKind, string>> = { ddpm: 'DDPM', ddim: 'DDIM', dpmpp: 'DPM-Solver++' };

/** A sampler and its step count as tables and logs name a run, e.g. "DDIM-20", "DPM-Solver++-20". */
export function samplerStepsLabel(kind: SamplerKind, steps: number): string {
  return `${SAMPLER_LABELS[kind]}-${steps}`;
}

/**
 * Adaptive step size as the page and the CLI choose it: off, the probability-flow ODE with
 * DPM-Solver-12 or -23 (./adaptive-dpm-solver.ts), or the reverse SDE with "Gotta Go Fast" (./adaptive-sde.ts).
 */
export const ADAPTIVE_CHOICES = ['off', '12', '23', 'sde'] as const;
export type AdaptiveChoice = (typeof ADAPTIVE_CHOICES)[number];
/** Lu et al. 2022's tolerances for images in [−1, 1] (rtol 0.05, atol 0.0078 ≈ 1/128). */
export const DEFAULT_RTOL = 0.05;
export const DEFAULT_ATOL = 0.0078;

/** "Adaptive DPM-Solver-12 (rtol 0.05, atol 0.0078)", "Adaptive SDE, Gotta Go Fast (rtol 0.05, atol 0.0078)". */
export function adaptiveLabel(choice: Exclude<AdaptiveChoice, 'off'>, rtol: number, atol: number): string {
  return `${choice === 'sde' ? 'Adaptive SDE, Gotta Go Fast' : `Adaptive DPM-Solver-${choice}`} (rtol ${rtol}, atol ${atol})`;
}

/** Early stopping's criteria (./early-stop.ts): the change of x̂0 in a step, or the noise left in x_t. */
export const EARLY_STOP_CRITERIA = ['change', 'noise'] as const;
export type EarlyStopCriterion = (typeof EARLY_STOP_CRITERIA)[number];
export const EARLY_STOP_CHOICES = ['off', ...EARLY_STOP_CRITERIA] as const;
export type EarlyStopChoice = (typeof EARLY_STOP_CHOICES)[number];
export const DEFAULT_EARLY_STOP_THRESHOLD = 0.1;

export const TIMESTEP_SPACINGS = ['linspace', 'leading', 'trailing'] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

/** Variance of DDPM's reverse step: σ_t² = β_t or β̃_t (Ho et al. 2020, §3.2). */
export const DDPM_VARIANCES = ['beta', 'betaTilde'] as const;
export type DdpmVariance = (typeof DDPM_VARIANCES)[number];

/** What happens to the predicted x0 before it is used: nothing, clip to [-1, 1], or dynamic thresholding (Saharia et al. 2022). */
export const X0_CLIPPINGS = ['none', 'clip', 'dynamic'] as const;
export type X0Clipping = (typeof X0_CLIPPINGS)[number];

export interface ScheduleConfig {
  kind: ScheduleKind;
  /** Number of diffusion steps T, an integer in [10, 1000]. */
  T: number;
  /** β_1 and β_T for the kinds that have a β range (linear, sigmoid, quadratic), given for T = 1000 and scaled by 1000 / T. */
  betaStart: number;
  betaEnd: number;
  /** Rescale to zero terminal SNR (Lin et al. 2024, Algorithm 1). */
  rescaleZeroTerminalSnr: boolean;
}

export interface SamplerConfig {
  kind: SamplerKind;
  /** Number of reverse steps, 1..T. */
  steps: number;
  /** DDIM's η in [0, 1]: 0 is deterministic DDIM, 1 matches DDPM's variance. */
  eta: number;
  spacing: TimestepSpacing;
  ddpmVariance: DdpmVariance;
  clipping: X0Clipping;
  /** Classifier-free guidance scale w; 1 means conditional only, 0 unconditional only. */
  guidance: number;
}

export const DEFAULT_SCHEDULE: ScheduleConfig = {
  kind: 'linear',
  T: 1000,
  betaStart: 1e-4,
  betaEnd: 0.02,
  rescaleZeroTerminalSnr: false,
};

export const DEFAULT_SAMPLER: SamplerConfig = {
  kind: 'ddim',
  steps: 50,
  eta: 0,
  spacing: 'leading',
  ddpmVariance: 'betaTilde',
  clipping: 'clip',
  guidance: 1,
};
