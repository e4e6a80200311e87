/**
 * The learning rate of a training step: constant, or with a linear warm-up and a cosine decay
 * (Loshchilov & Hutter 2017, "SGDR"; the warm-up as in Goyal et al. 2017), the schedule most
 * diffusion codebases use:
 *
 *   warm(s)   = min(1, (s + 1) / W)                          (W = warm-up steps; 1 when W = 0)
 *   p(s)      = clamp((s − W) / (S − W), 0, 1)               (S = the run's total steps)
 *   cosine(s) = f + (1 − f) · ½ · (1 + cos(π · p(s)))        (f = COSINE_FLOOR)
 *   lr(s)     = base · warm(s) · (cosine(s) for 'cosine', 1 for 'constant')
 *
 * s counts the steps taken before this one (0 for the first). The decay ends at f · base rather than
 * 0, so a run continued past S (Start again with more steps) still learns. Pure: the page reads it
 * and the engine applies it before every step.
 */

export const LR_SCHEDULES = ['constant', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** The cosine decay ends at this fraction of the base rate. */
export const COSINE_FLOOR = 0.1;

export interface LrScheduleConfig {
  learningRate: number;
  /** The run's total steps (S). */
  steps: number;
  lrSchedule?: LrSchedule;
  /** Linear warm-up over this many steps (0 or absent: none). */
  warmupSteps?: number;
}

/** The learning rate of the step taken after `step` steps. */
export function learningRateAt(config: LrScheduleConfig, step: number): number {
  const warmup = Math.max(0, Math.floor(config.warmupSteps ?? 0));
  const warm = warmup > 0 ? Math.min(1, (step + 1) / warmup) : 1;
  if ((config.lrSchedule ?? 'constant') === 'constant') return config.learningRate * warm;
  const span = Math.max(1, config.steps - warmup);
  const p = Math.min(1, Math.max(0, (step - warmup) / span));
  return config.learningRate * warm * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** True when the rate changes from step to step (the engine then sets it before each step). */
export function isScheduled(config: LrScheduleConfig): boolean {
  return (config.lrSchedule ?? 'constant') !== 'constant' || (config.warmupSteps ?? 0) > 0;
}
