/**
 * Measuring one case of "quality against model evaluations" (issue 20): sample N images with a
 * fixed-step sampler, the adaptive solver, early stopping or the distilled student, count the model
 * evaluations each sampling run took, and score the images with the evaluation classifier (FD against
 * the reference, beside the held-out floor at the same N). The one measurement behind
 * `npm run eval:steps`, `npm run bench`'s rows and the Compare panel's evaluations run.
 *
 * Every case samples from the same seeds (the same x_T and digits 0-9 cycling), so cases differ only
 * in how they sample.
 */
import type { NoiseSchedule } from '../diffusion';
import { DEFAULT_SAMPLER, type PredictionType } from '../diffusion/config';
import type { DiffusionModel } from '../models/diffusion-model';
import type { EvaluationCase, EvaluationRowInfo } from '../protocol/compare-evaluations';
import { generateImages, type GenerateRequest, type StepCallback } from '../sampling/generate';
import type { SetReport } from './evaluate';

/** What a case samples with: a model, its schedule and its prediction. */
export interface SamplingModel {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
}

/** The settings every case shares: samples, batch, seed, guidance (the student's is always 1). */
export interface EvaluationBase {
  n: number;
  batch: number;
  seed: number;
  guidance: number;
}

/** The request a case samples with. The student: DDIM over trailing timesteps, η = 0, guidance 1 (as its manifest says). */
export function evaluationRequest(c: EvaluationCase, base: EvaluationBase): GenerateRequest {
  const common = { ...DEFAULT_SAMPLER, numImages: base.n, batch: base.batch, seed: base.seed, digit: null };
  if (c.student) return { ...common, kind: 'ddim', steps: c.steps, spacing: 'trailing', eta: 0, guidance: 1 };
  return {
    ...common, kind: c.kind, steps: c.steps, guidance: base.guidance,
    adaptive: c.adaptive, rtol: c.rtol, atol: c.atol, earlyStop: c.earlyStop, earlyStopThreshold: c.earlyStopThreshold,
  };
}

/** A measured case: its images' report, cost per sampling run and wall time. */
export interface MeasuredCase {
  info: EvaluationRowInfo;
  report: SetReport;
  /** Wall time of sampling and decoding the N images (one pass, not a timed median) / N. */
  msPerImage: number;
}

/** Mean, least and most evaluations per run, and mean steps. */
export function summarizeCosts(costs: readonly { steps: number; evaluations: number }[]): Pick<EvaluationRowInfo, 'evaluations' | 'evaluationsMin' | 'evaluationsMax' | 'steps'> {
  if (costs.length === 0) return { evaluations: NaN, evaluationsMin: NaN, evaluationsMax: NaN, steps: NaN };
  const evals = costs.map((x) => x.evaluations);
  return {
    evaluations: evals.reduce((a, b) => a + b, 0) / evals.length,
    evaluationsMin: Math.min(...evals),
    evaluationsMax: Math.max(...evals),
    steps: costs.reduce((a, b) => a + b.steps, 0) / costs.length,
  };
}

/**
 * Samples the case's N images and scores them with `score` (the caller's classifier and reference).
 * `onStep` after every reverse step, `stepBoundary` awaited after every one (a cancel point).
 * Leaves no tensor behind, also when it throws.
 */
export async function measureEvaluationCase(
  m: SamplingModel,
  c: EvaluationCase,
  base: EvaluationBase,
  score: (pixels: Uint8Array, n: number) => Promise<SetReport>,
  hooks: { onStep?: StepCallback; stepBoundary?: () => Promise<void> } = {},
): Promise<MeasuredCase> {
  const costs: { steps: number; evaluations: number }[] = [];
  const t0 = performance.now();
  const pixels = await generateImages(m.model, m.schedule, m.prediction, evaluationRequest(c, base), hooks.onStep, hooks.stepBoundary, (cost) => costs.push(cost));
  const msPerImage = (performance.now() - t0) / base.n;
  const report = await score(pixels, base.n);
  return { info: { case: c.text, name: c.name, family: c.family, ...summarizeCosts(costs), skipped: null }, report, msPerImage };
}
