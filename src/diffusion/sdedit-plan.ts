/**
 * Which part of a sampler's trajectory SDEdit of strength s runs (see ./sdedit.ts). Plain numbers,
 * no tensors, so the page can show t0 and ᾱ_t0 beside its strength slider.
 */
import type { NoiseSchedule } from './schedule';

export interface SdeditPlan {
  /** Reverse steps that run: k = round(s·N). */
  steps: number;
  /** Index in the sampler's full timesteps of the first step that runs (N − k). */
  startIndex: number;
  /** The timestep the input is noised to (the first that runs), or −1 when nothing runs (s = 0). */
  t0: number;
  /** ᾱ_{t0} (1 when nothing runs; 0 stands for "pure noise" when the whole trajectory runs). */
  alphaBar: number;
  /** The whole trajectory runs: the start is the noise itself, as in plain sampling. */
  full: boolean;
}

/** Throws unless s is a number in [0, 1]. */
export function validateStrength(strength: number): void {
  if (!(Number.isFinite(strength) && strength >= 0 && strength <= 1)) throw new Error(`strength must be in [0, 1], got ${strength}.`);
}

/** The part of `timesteps` (descending, N of them) that SDEdit of strength s runs (see the module doc). */
export function sdeditPlan(schedule: NoiseSchedule, timesteps: Int32Array, strength: number): SdeditPlan {
  validateStrength(strength);
  const n = timesteps.length;
  const steps = Math.min(n, Math.round(strength * n));
  const startIndex = n - steps;
  if (steps === 0) return { steps, startIndex, t0: -1, alphaBar: 1, full: false };
  const t0 = timesteps[startIndex];
  const full = steps === n;
  return { steps, startIndex, t0, alphaBar: full ? 0 : schedule.alphasCumprod[t0], full };
}

