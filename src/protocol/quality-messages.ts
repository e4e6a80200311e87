/**
 * The live quality curve's messages (issue 18): while training, the worker samples a few hundred
 * digits at few steps now and then and scores them with the evaluation classifier; each check is a
 * point of the Training panel's "Quality while training" chart. Plain data, no TensorFlow.js.
 */

/** What a quality check does, and how much of the training time the checks may take. */
export interface QualitySettings {
  /** Samples per check (and the held-out digits of the floor at the same N). */
  samples: number;
  /** DDIM steps per sample. */
  steps: number;
  /**
   * The checks' share of wall time at most. 0.05, not the 0.10 the target allows: at 0.08 the
   * measured loss of steps/s ranged from 2.4 to 13.2 % between runs on a shared machine
   * (src/cli/bench-quality-curve.ts), so the budget keeps room for what a check costs around it.
   */
  share: number;
}

export const DEFAULT_QUALITY: QualitySettings = { samples: 200, steps: 10, share: 0.05 };
export const QUALITY_LIMITS = { minSamples: 10, maxSamples: 1000, minSteps: 1, maxSteps: 50, maxShare: 0.5 } as const;

/** One check: the classifier's figures for the samples the model made after `step` training steps. */
export interface QualityPoint {
  step: number;
  /** Training time so far (the checks' time included, pauses not), seconds. */
  trainingSec: number;
  n: number;
  /** Mean max-softmax confidence of the classifier over the samples. */
  confidence: number;
  /** Entropy of the predicted-label histogram, nats (ln 10 ≈ 2.303 is uniform). */
  labelEntropy: number;
  histogram: number[];
  /** Fréchet distance of the samples' classifier features to the reference digits. */
  fd: number;
  /** The floor: FD of N held-out real digits to the same reference. */
  floorFd: number;
  /** Wall time of this check (sampling and scoring), ms. */
  checkMs: number;
}

export type QualityToWorker =
  /** Turn the curve on (with its settings) or off; it takes effect at the next training step. */
  { type: 'quality/set'; settings: QualitySettings | null };

export type QualityToPage =
  | { type: 'quality/point'; point: QualityPoint }
  /** The classifier and the FD reference are loading, ready, or could not be loaded (the curve turns itself off). */
  | { type: 'quality/status'; status: 'loading' | 'ready' | 'failed'; message: string | null };

export function isQualityMessage<M extends { type: string }>(message: M | QualityToPage): message is QualityToPage {
  return message.type.startsWith('quality/');
}

/** Settings clamped to their limits (integers where they must be). */
export function clampQuality(s: QualitySettings): QualitySettings {
  const clamp = (x: number, lo: number, hi: number, fallback: number) => (Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : fallback);
  return {
    samples: Math.round(clamp(s.samples, QUALITY_LIMITS.minSamples, QUALITY_LIMITS.maxSamples, DEFAULT_QUALITY.samples)),
    steps: Math.round(clamp(s.steps, QUALITY_LIMITS.minSteps, QUALITY_LIMITS.maxSteps, DEFAULT_QUALITY.steps)),
    share: clamp(s.share, 0.001, QUALITY_LIMITS.maxShare, DEFAULT_QUALITY.share),
  };
}
