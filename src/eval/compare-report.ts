/** The Compare panel's settings and results, as the page shows them and `npm run bench` reads them back. */
import type { SamplerConfig } from '../diffusion/config';
import type { ModelKind } from '../models/setup/model-setup';
import type { EvaluationRowInfo, EvaluationSettings } from '../protocol/compare-evaluations';

/**
 * The Compare panel's request: the pretrained pixel DDPM and LDM, each sampled with the same
 * sampler, steps, batch and seed on the engine's backend; timed over `reps` batches after a warm-up,
 * and (when `qualityImages` > 0) scored by the evaluation classifier against real digits.
 */
export interface CompareSettings {
  sampler: SamplerConfig['kind'];
  steps: number;
  batch: number;
  seed: number;
  guidance: number;
  /** Timed batches per case (median), after one warm-up batch that also measures peak memory. */
  reps: number;
  /** Samples scored per case for confidence and FD (0: timing only). */
  qualityImages: number;
  /** Digits of the training split the FD reference is computed from (the CLI's eval uses all 9,000). */
  referenceDigits: number;
  /** Step counts of the quality-against-time sweep (every sampler, both models); empty: no sweep. */
  sweepSteps: number[];
  /**
   * When set, the run is "quality against model evaluations" instead of pixel DDPM against LDM:
   * every case of `evaluations.cases` on one model, `evaluations.n` samples each, scored against
   * `referenceDigits` (`seed` is the form's; sampler, steps, batch and repeats are not used).
   */
  evaluations?: EvaluationSettings | null;
}

/** One measured case of a comparison. */
export interface CompareRow {
  model: ModelKind;
  sampler: SamplerConfig['kind'];
  steps: number;
  batch: number;
  /** Median wall time of a batch / batch size, ms (sampling + decoding + reading the images back). */
  msPerImage: number;
  imagesPerSec: number;
  /** Peak tensor bytes during one whole batch (weights included). */
  peakBytes: number;
  /** Forward FLOPs per image: denoiser passes × steps + the decoder (LDM). */
  flopsPerImage: number;
  /** The evaluation classifier's figures for `quality.n` samples, with the real-digit floor at the same N. */
  quality: { n: number; meanConfidence: number; labelEntropy: number; fd: number; floorFd: number; referenceDigits: number } | null;
  /** Part of the quality-against-time sweep rather than the main table (rows of an evaluations run are too). */
  sweep: boolean;
  /**
   * A row of the quality-against-evaluations run: its case, model evaluations and steps. Its
   * msPerImage is one untimed pass of N samples (sampling and decoding), its peakBytes 0 (not measured).
   */
  evaluation?: EvaluationRowInfo;
}

/** The Compare panel's results as a file ("Download results (JSON)"): what `npm run bench` reads back. */
export interface CompareReport {
  format: 'diffusion-playground/compare';
  version: 1;
  date: string;
  backend: string | null;
  userAgent: string;
  settings: CompareSettings | null;
  rows: CompareRow[];
}
