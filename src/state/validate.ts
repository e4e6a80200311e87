/** Validation of the numeric settings: each returns a message for the user, or null when valid. */

export type Validator = (value: number) => string | null;

export function integerIn(min: number, max: number, what = 'Value'): Validator {
  return (v) => {
    if (!Number.isFinite(v)) return `${what} must be a number.`;
    if (!Number.isInteger(v)) return `${what} must be a whole number.`;
    if (v < min || v > max) return `${what} must be between ${min} and ${max}.`;
    return null;
  };
}

export function numberIn(min: number, max: number, what = 'Value', opts: { minExclusive?: boolean } = {}): Validator {
  return (v) => {
    if (!Number.isFinite(v)) return `${what} must be a number.`;
    if (opts.minExclusive ? v <= min : v < min) return `${what} must be ${opts.minExclusive ? 'greater than' : 'at least'} ${min}.`;
    if (v > max) return `${what} must be at most ${max}.`;
    return null;
  };
}

export const validateT = integerIn(10, 1000, 'T');
export const validateBeta = numberIn(0, 0.999, 'β', { minExclusive: true });
export const validateLearningRate = numberIn(0, 1, 'Learning rate', { minExclusive: true });
export const validateBatchSize = integerIn(1, 256, 'Batch size');
export const validateTrainSteps = integerIn(1, 1_000_000, 'Steps');
export const validatePreviewEvery = integerIn(0, 1_000_000, 'Preview interval');
export const validateWarmupSteps = integerIn(0, 1_000_000, 'Warm-up steps');
export const validateNumImages = integerIn(1, 64, 'Number of images');
export const validateSeed = integerIn(0, 2 ** 31 - 1, 'Seed');
export const validateEta = numberIn(0, 1, 'η');
export const sampleStepsValidator = (T: number): Validator => integerIn(1, T, 'Sampling steps');

/** Cross-field checks of a schedule; null when fine. */
export function scheduleProblem(betaStart: number, betaEnd: number): string | null {
  if (betaStart >= betaEnd) return 'β start must be smaller than β end.';
  return null;
}

/** A problem with a whole model setup that blocks training and sampling; null when fine. */
export function setupProblem(setup: { schedule: { kind: string; T: number; betaStart: number; betaEnd: number } }): string | null {
  const { schedule } = setup;
  const t = validateT(schedule.T);
  if (t) return t;
  if (schedule.kind === 'cosine') return null;
  return validateBeta(schedule.betaStart) ?? validateBeta(schedule.betaEnd) ?? scheduleProblem(schedule.betaStart, schedule.betaEnd);
}
