/**
 * The engine's side of the Compare panel's "quality against model evaluations" run (issue 20): for
 * one pretrained model, every case the page asked for (fixed-step DDIM and DPM-Solver++, the
 * adaptive solver at several tolerances, early stopping at several thresholds, the distilled student
 * at 1, 2, 4 and 8 steps) samples N images and is scored with the evaluation classifier against the
 * FD reference, beside the held-out floor at the same N (src/eval/compare-evaluations.ts, the code
 * `npm run eval:steps` and `npm run bench` measure with). A row per case, as it is measured.
 *
 * The student cases need the distilled LDM (models/latent-distilled/, made by `npm run distill`):
 * when it is not there its rows come back marked as skipped, with the reason.
 */
import { makeSchedule } from '../diffusion';
import type { CompareRow, CompareSettings } from '../eval/compare-report';
import { SCORE_BATCH, type CompareModel, type QualityContext } from '../eval/compare';
import { measureEvaluationCase, type SamplingModel } from '../eval/compare-evaluations';
import { compareToReference, scoreImages } from '../eval/evaluate';
import { loadModel } from '../io/model-files';
import type { PretrainedReader } from '../io/pretrained';
import { setupStats } from '../models/factory';
import type { ModelKind } from '../models/setup/model-setup';
import { DISTILLED_MODEL_PATH, evaluationBatch, expectedEvaluations, parseEvaluationCase, type EvaluationCase, type EvaluationSettings } from '../protocol/compare-evaluations';
import type { RunControl } from './run-control';

/** Progress as the compare run reports it (./compare-run.ts). */
export interface EvaluationsProgress {
  phase: (name: string, unit?: 'steps' | 'digits', total?: number) => void;
  label: (name: string) => void;
  total: (n: number) => void;
  set: (done: number) => void;
  step: () => void;
}

export interface EvaluationsContext {
  settings: CompareSettings & { evaluations: EvaluationSettings };
  control: RunControl;
  progress: EvaluationsProgress;
  read: PretrainedReader;
  loadPretrained: (kind: ModelKind) => Promise<CompareModel>;
  quality: QualityContext;
  postRow: (row: CompareRow) => void;
}

export const EVALUATION_LIMITS = { maxN: 1000, maxCases: 40 } as const;

/** Throws a message naming the first bad setting of an evaluations run; returns its cases read. */
export function validateEvaluations(e: EvaluationSettings): EvaluationCase[] {
  if (e.model !== 'pixel' && e.model !== 'latent') throw new Error(`Compare: unknown model '${String(e.model)}'.`);
  if (!(Number.isInteger(e.n) && e.n >= 2 && e.n <= EVALUATION_LIMITS.maxN)) throw new Error(`Compare: samples per configuration must be a whole number from 2 to ${EVALUATION_LIMITS.maxN}, got ${e.n}.`);
  if (!(Number.isFinite(e.guidance) && e.guidance >= 0 && e.guidance <= 20)) throw new Error(`Compare: guidance must be a number from 0 to 20, got ${e.guidance}.`);
  if (!Array.isArray(e.cases) || e.cases.length === 0 || e.cases.length > EVALUATION_LIMITS.maxCases) throw new Error(`Compare: from 1 to ${EVALUATION_LIMITS.maxCases} configurations, got ${e.cases?.length}.`);
  return e.cases.map((text) => {
    try {
      return parseEvaluationCase(text);
    } catch (err) {
      throw new Error(`Compare: ${err instanceof Error ? err.message : String(err)}.`, { cause: err });
    }
  });
}

/** Reverse steps a case will take per batch, for progress before it runs (DPM-Solver-12's and the SDE's steps cost 2 evaluations, -23's 3). */
export function expectedSteps(c: EvaluationCase): number {
  if (c.adaptive === 'off') return c.steps;
  return Math.max(1, Math.round(expectedEvaluations(c) / (c.adaptive === '23' ? 3 : 2)));
}

/** The distilled LDM, or why it cannot be used. */
async function loadStudent(read: PretrainedReader): Promise<CompareModel | string> {
  const [json, bin] = await Promise.all([read(`${DISTILLED_MODEL_PATH}/model.json`), read(`${DISTILLED_MODEL_PATH}/weights.bin`)]);
  if (json == null || bin == null) return `the distilled LDM is not there (models/${DISTILLED_MODEL_PATH}/: npm run distill makes it)`;
  const { model, info } = loadModel(JSON.parse(new TextDecoder().decode(json)), bin);
  if (info.setup.kind !== 'latent') {
    model.dispose();
    return `models/${DISTILLED_MODEL_PATH}/ holds a ${info.setup.kind} model, not an LDM`;
  }
  return { kind: 'latent', model, setup: info.setup, schedule: makeSchedule(info.setup.schedule) };
}

/** A row that was not measured, with the reason. */
function skippedRow(c: EvaluationCase, kind: ModelKind, reason: string): CompareRow {
  return {
    model: kind, sampler: c.kind, steps: c.steps, batch: 0, msPerImage: NaN, imagesPerSec: NaN, peakBytes: 0, flopsPerImage: NaN, quality: null, sweep: true,
    evaluation: { case: c.text, name: c.name, family: c.family, evaluations: NaN, evaluationsMin: NaN, evaluationsMax: NaN, steps: NaN, skipped: reason },
  };
}

/** Measures every case in order, posting a row per case; frees the models it loaded, also when stopped. */
export async function runEvaluations(ctx: EvaluationsContext): Promise<void> {
  const { settings, control, progress, quality } = ctx;
  const e = settings.evaluations;
  const cases = validateEvaluations(e);
  const batch = evaluationBatch(e.n);
  const batches = Math.ceil(e.n / batch);
  const base = { n: e.n, batch, seed: settings.seed, guidance: e.guidance };
  let main: CompareModel | null = null;
  let student: CompareModel | string | null = null;
  try {
    const stepsOf = (list: EvaluationCase[]) => list.reduce((sum, c) => sum + expectedSteps(c) * batches, 0);
    let done = 0;
    progress.phase('sampling', 'steps', stepsOf(cases));
    for (const [i, c] of cases.entries()) {
      let m: CompareModel | string;
      if (c.student) m = e.model !== 'latent' ? 'the distilled model is an LDM' : (student ??= await loadStudent(ctx.read));
      else m = main ??= await ctx.loadPretrained(e.model);
      await control.stepBoundary();
      if (typeof m === 'string') {
        ctx.postRow(skippedRow(c, e.model, m));
        progress.total(done + stepsOf(cases.slice(i + 1)));
        continue;
      }
      progress.label(`${c.name} (${i + 1} of ${cases.length})`);
      const model: SamplingModel = { model: m.model, schedule: m.schedule, prediction: m.setup.prediction };
      const n = Math.min(e.n, quality.floor.n);
      const score = async (pixels: Uint8Array) => compareToReference(await scoreImages(quality.classifier, pixels, n, SCORE_BATCH, () => control.stepBoundary()), quality.reference);
      const measured = await measureEvaluationCase(model, c, { ...base, n }, score, { onStep: () => progress.step(), stepBoundary: () => control.stepBoundary() });
      let floorFd = quality.floorFd.get(n);
      if (floorFd == null) {
        floorFd = (await score(quality.floor.pixels)).fd;
        quality.floorFd.set(n, floorFd);
      }
      const stats = setupStats(m.setup);
      const passes = m.setup.classConditional && !c.student && e.guidance !== 0 && e.guidance !== 1 ? 2 : 1;
      ctx.postRow({
        model: e.model, sampler: c.kind, steps: measured.info.steps, batch, msPerImage: measured.msPerImage, imagesPerSec: 1000 / measured.msPerImage, peakBytes: 0,
        flopsPerImage: stats.flopsPerStep * passes * measured.info.evaluations + stats.decodeFlops,
        quality: { n, meanConfidence: measured.report.meanConfidence, labelEntropy: measured.report.labelEntropy, fd: measured.report.fd, floorFd, referenceDigits: quality.reference.n },
        sweep: true,
        evaluation: measured.info,
      });
      done += measured.info.steps * batches;
      progress.total(done + stepsOf(cases.slice(i + 1)));
      progress.set(done);
    }
  } finally {
    main?.model.dispose();
    if (student != null && typeof student !== 'string') student.model.dispose();
  }
}
