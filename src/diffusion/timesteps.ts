/**
 * Inference timesteps (diffusers' `set_timesteps`) and sampler-config validation.
 * Timesteps are 0-based (0..T−1) and returned in descending order.
 */
import {
  DDPM_VARIANCES,
  SAMPLER_KINDS,
  TIMESTEP_SPACINGS,
  X0_CLIPPINGS,
  type SamplerConfig,
  type TimestepSpacing,
} from './config';

/** numpy's `round`: halves go to the even neighbour (diffusers rounds its timesteps with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function oneOf(name: string, allowed: readonly string[], got: unknown): void {
  if (!allowed.includes(got as string)) {
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got ${String(got)}.`);
  }
}

/** Throws unless steps is an integer in [1, T]. */
export function validateSteps(steps: number, T: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new Error(`steps must be an integer in [1, T = ${T}], got ${steps}.`);
  }
}

/** Throws an Error naming the offending parameter and its allowed range. */
export function validateSamplerConfig(cfg: SamplerConfig, T: number): void {
  oneOf('sampler kind', SAMPLER_KINDS, cfg.kind);
  validateSteps(cfg.steps, T);
  if (!Number.isFinite(cfg.eta) || cfg.eta < 0 || cfg.eta > 1) {
    throw new Error(`eta must be in [0, 1], got ${cfg.eta}.`);
  }
  oneOf('spacing', TIMESTEP_SPACINGS, cfg.spacing);
  oneOf('ddpmVariance', DDPM_VARIANCES, cfg.ddpmVariance);
  oneOf('clipping', X0_CLIPPINGS, cfg.clipping);
  if (!Number.isFinite(cfg.guidance) || cfg.guidance < 0) {
    throw new Error(`guidance must be a finite number ≥ 0, got ${cfg.guidance}.`);
  }
}

/**
 * The `steps` timesteps a sampler visits, descending (Lin et al. 2024, Table 2; diffusers'
 * `timestep_spacing`):
 * - linspace: round(linspace(0, T−1, steps)), the last one is 0 (its first one is T−1);
 * - leading: k·⌊T/steps⌋ for k = 0..steps−1 (DDIM's original choice; the first is below T−1);
 * - trailing: round(T − k·T/steps) − 1 for k = 0..steps−1 (starts at T−1, as Lin et al. recommend).
 *
 * With `solver: true` (ODE solvers that end at σ = 0, as diffusers' DPMSolverMultistepScheduler),
 * linspace and leading lay out steps + 1 points and drop the smallest (t = 0), so the last step goes
 * from t ≈ T/steps straight to clean data instead of taking a tiny step to t = 0 followed by a jump in
 * λ that second-order extrapolation overshoots; trailing is unchanged.
 */
export function makeTimesteps(T: number, steps: number, spacing: TimestepSpacing, solver = false): Int32Array {
  validateSteps(steps, T);
  const out = new Int32Array(steps);
  // In solver mode the last of `points` (t = 0) is dropped; with steps = T every t is used anyway.
  const points = solver && steps < T ? steps + 1 : steps;
  for (let k = 0; k < steps; k++) {
    let t: number;
    switch (spacing) {
      case 'linspace':
        t = points === 1 ? 0 : roundHalfEven(((points - 1 - k) * (T - 1)) / (points - 1));
        break;
      case 'leading':
        t = (points - 1 - k) * Math.floor(T / points);
        break;
      case 'trailing':
        t = roundHalfEven(T - (k * T) / steps) - 1;
        break;
      default:
        throw new Error(`spacing must be one of ${TIMESTEP_SPACINGS.join(', ')}, got ${String(spacing)}.`);
    }
    out[k] = t;
  }
  return out;
}
