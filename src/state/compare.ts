/**
 * The Compare panel's state: its form (sampler, steps, batch, seed, guidance, repeats, quality
 * samples, the sweep's step counts), the run's status and progress, and the rows measured so far.
 * A store of its own, fed by EngineClient from the worker's 'compare/*' messages. Also the run's
 * duration, estimated before it starts: from the last run's measured time per image when there is
 * one on this backend, else from the pretrained models' FLOPs at a typical rate for the backend.
 */
export { pretrainedFlopsPerImage } from './compare-flops';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CompareReport, CompareRow, CompareSettings } from '../eval/compare-report';
import type { WorkerToPage } from '../protocol/messages';
import type { ModelKind } from '../models/setup/model-setup';
import { pretrainedFlopsPerImage } from './compare-flops';
import { EVALUATION_FAMILIES, evaluationBatch, expectedEvaluations, parseEvaluationCase, planEvaluationCases, type EvaluationFamily, type EvaluationSettings } from '../protocol/compare-evaluations';

export type CompareStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

export interface CompareProgress {
  phase: string;
  unit: 'steps' | 'digits';
  done: number;
  total: number;
  stepsPerSec: number;
  etaSec: number;
}

/** What the last measured rows say about this engine's speed (the estimate's basis). */
export interface CompareSpeed {
  backend: string | null;
  /** The latest row measured per model, with the guidance it ran with. */
  rows: Partial<Record<ModelKind, { msPerImage: number; steps: number; batch: number; guidance: number }>>;
  /** FD reference digits the engine has scored and keeps for the page's later runs. */
  referenceDigits: number | null;
  /** Sampling FLOPs and milliseconds summed over the rows of quality-against-evaluations runs (their estimate's basis). */
  evaluations?: { flops: number; ms: number };
}

export interface CompareState {
  form: CompareSettings;
  status: CompareStatus;
  /** Why the last run failed, in words. */
  message: string | null;
  /** The backend the rows were measured on. */
  backend: string | null;
  progress: CompareProgress | null;
  rows: CompareRow[];
  /** The settings of the run the rows belong to. */
  ranWith: CompareSettings | null;
  /** Stop was pressed and the engine has not yet said the run ended. */
  stopping: boolean;
  /** When the run started and ended (ms since the epoch), for its elapsed time. */
  startedAt: number | null;
  endedAt: number | null;
  /** Measured speed, kept across runs, for estimates. */
  speed: CompareSpeed | null;
  /** The form of the quality-against-evaluations run. */
  evalForm: EvaluationsForm;
}

/** The quality-against-evaluations run's form: the model, samples per configuration, guidance, the methods. */
export type EvaluationsForm = Pick<EvaluationSettings, 'model' | 'n' | 'guidance'> & { families: EvaluationFamily[] };

/** Small by default: it samples on the user's CPU (17 configurations with the LDM); FD at N = 20 is rough. */
export const DEFAULT_EVALUATIONS_FORM: EvaluationsForm = { model: 'latent', n: 20, guidance: 1.3, families: [...EVALUATION_FAMILIES] };

/** The settings the engine gets for the form: its cases planned (the student only with the LDM). */
export function evaluationsSettings(form: EvaluationsForm): EvaluationSettings {
  return { model: form.model, n: form.n, guidance: form.guidance, cases: planEvaluationCases(form.families, form.model) };
}

export type CompareStore = StoreApi<CompareState>;

/** The settings that decide how long a run takes: the quick and the thorough run differ only in these. */
export type CompareSize = Pick<CompareSettings, 'steps' | 'batch' | 'reps' | 'qualityImages' | 'referenceDigits'>;

/**
 * The default, quick run (under a minute on wasm on a 2-core laptop): DDIM-20, batch 4, one timed
 * batch, 8 quality samples against a 200-digit FD reference. Its FD is rough (N = 8): the floor beside
 * it, real digits at the same N, is what makes it readable.
 */
export const QUICK_COMPARE: CompareSize = { steps: 20, batch: 4, reps: 1, qualityImages: 8, referenceDigits: 200 };

/**
 * The thorough run: DDIM-50 (the pretrained models' headline setting) at batch 16, the median of 3
 * timed batches, 200 quality samples against 2,000 training digits (scored once per page, then
 * cached; the CLI's eval uses all 9,000). Minutes on wasm: its estimate is shown before it starts.
 */
export const THOROUGH_COMPARE: CompareSize = { steps: 50, batch: 16, reps: 3, qualityImages: 200, referenceDigits: 2000 };

export const DEFAULT_COMPARE: CompareSettings = {
  sampler: 'ddim',
  seed: 0,
  guidance: 1,
  ...QUICK_COMPARE,
  sweepSteps: [5, 10, 20],
};

/** Whether the form holds these size settings. */
export function hasSize(form: CompareSettings, size: CompareSize): boolean {
  return (Object.keys(size) as (keyof CompareSize)[]).every((k) => form[k] === size[k]);
}

export function createCompareStore(form: CompareSettings = DEFAULT_COMPARE): CompareStore {
  return createStore<CompareState>(() => ({
    form,
    status: 'idle',
    message: null,
    backend: null,
    progress: null,
    rows: [],
    ranWith: null,
    stopping: false,
    startedAt: null,
    endedAt: null,
    speed: null,
    evalForm: DEFAULT_EVALUATIONS_FORM,
  }));
}

type CompareMessage = Extract<WorkerToPage, { type: `compare/${string}` }>;

/** Folds one worker message into the store. A new run ('running') starts with no rows; an ended one keeps its rows. */
export function applyCompareMessage(store: CompareStore, msg: CompareMessage, now = Date.now()): void {
  switch (msg.type) {
    case 'compare/state':
      store.setState((s) =>
        msg.state === 'running'
          ? { status: 'running', message: null, backend: msg.backend, progress: null, rows: [], stopping: false, startedAt: now, endedAt: null }
          : { status: msg.state, message: msg.message, backend: msg.backend, progress: msg.state === 'done' ? s.progress : null, stopping: false, endedAt: now },
      );
      break;
    case 'compare/progress':
      store.setState({ progress: { phase: msg.phase, unit: msg.unit, done: msg.done, total: msg.total, stepsPerSec: msg.stepsPerSec, etaSec: msg.etaSec } });
      break;
    case 'compare/row':
      store.setState((s) => ({ rows: [...s.rows, msg.row], speed: withRow(s.speed, s.backend, msg.row, s.ranWith?.guidance ?? 1) }));
      break;
  }
}

/** The page pressed Stop: shows "Stopping…" until the engine says the run ended. */
export function markStopping(store: CompareStore): void {
  if (store.getState().status === 'running') store.setState({ stopping: true });
}

function withRow(speed: CompareSpeed | null, backend: string | null, row: CompareRow, guidance: number): CompareSpeed | null {
  const base: CompareSpeed = speed?.backend === backend ? speed : { backend, rows: {}, referenceDigits: null };
  // An evaluations run's rows are one untimed pass each: the basis of its own estimate, not the timed run's.
  if (row.evaluation != null) {
    if (!(row.msPerImage > 0 && row.flopsPerImage > 0)) return speed;
    const sum = base.evaluations ?? { flops: 0, ms: 0 };
    return { ...base, evaluations: { flops: sum.flops + row.flopsPerImage, ms: sum.ms + row.msPerImage }, referenceDigits: row.quality?.referenceDigits ?? base.referenceDigits };
  }
  return {
    backend,
    rows: { ...base.rows, [row.model]: { msPerImage: row.msPerImage, steps: row.steps, batch: row.batch, guidance } },
    referenceDigits: row.quality?.referenceDigits ?? base.referenceDigits,
  };
}

/** Forward FLOPs of one digit through the evaluation classifier (three small convs and two dense layers). */
const CLASSIFIER_FLOPS = 12e6;

/**
 * Rough forward FLOP rates (FLOP per ms, both models together at batch 4) when nothing has been
 * measured yet. wasm on a 2-core machine ran at 1 to 9 GFLOP/s (busy or idle): the middle is taken;
 * the others are typical figures, far from exact (a GPU's rate depends on the GPU).
 */
const BACKEND_FLOPS_PER_MS: Record<string, number> = { wasm: 3e6, cpu: 0.3e6, webgl: 8e6, webgpu: 10e6 };

/**
 * How much faster per image a bigger batch runs: time per image ∝ batch^−γ (fixed costs per step
 * spread over more images). γ ≈ 0.5 on wasm from batch 4 to 16; GPUs gain more.
 */
function batchExponent(backend: string | null): number {
  return backend === 'webgl' || backend === 'webgpu' ? 0.75 : 0.5;
}


/** Loading the pretrained models and the classifier, about. */
const LOADING_SECONDS = 2;

export interface CompareEstimate {
  seconds: number;
  /** 'measured': scaled from this page's last run on this backend; 'flops': the models' FLOPs at a typical rate. */
  basis: 'measured' | 'flops';
}

/** The cases a run measures: the main one, then every sampler at every sweep step count (as the engine does). */
function runCases(settings: CompareSettings, withSweep: boolean): { steps: number }[] {
  const sweep = withSweep ? [...new Set(settings.sweepSteps.filter((s) => Number.isInteger(s) && s >= 1))] : [];
  return [{ steps: settings.steps }, ...sweep.flatMap((steps) => [0, 1, 2].map(() => ({ steps })))];
}

/**
 * How long a run with these settings will take on `backend`: per model and case, the images sampled
 * (a warm-up batch, the timed batches, the quality samples) × the time per image, plus the
 * classifier's digits (the FD reference unless the engine has it, the floor, the samples) and a few
 * seconds of loading. The time per image comes from the last measured row of each model when it ran
 * on this backend, scaled by FLOPs to the new steps and by batch^−γ to the new batch; else from FLOPs.
 */
export function estimateCompare(settings: CompareSettings, withSweep: boolean, backend: string | null, speed: CompareSpeed | null): CompareEstimate {
  const { msPerImage, rate, measured } = speedModel(backend, speed);
  const quality = settings.qualityImages > 0 ? Math.min(settings.qualityImages, 1000) : 0;
  const images = settings.batch * (1 + settings.reps) + quality;
  let ms = 0;
  for (const c of runCases(settings, withSweep)) {
    for (const kind of ['pixel', 'latent'] as const) ms += images * msPerImage(kind, c.steps, settings.guidance, settings.batch) + (quality * 2 * CLASSIFIER_FLOPS) / rate;
  }
  if (quality > 0 && speed?.referenceDigits !== settings.referenceDigits) ms += (settings.referenceDigits * CLASSIFIER_FLOPS) / rate;
  return { seconds: ms / 1000 + LOADING_SECONDS, basis: measured ? 'measured' : 'flops' };
}

/**
 * Time per image of a pretrained model at `steps` denoiser evaluations: from the last measured row of
 * each model on this backend (scaled by FLOPs and batch^−γ), else from FLOPs at a typical rate; and
 * the classifier's rate (FLOPs per ms) the same way.
 */
function speedModel(backend: string | null, speed: CompareSpeed | null) {
  const gamma = batchExponent(backend);
  const measured = speed != null && speed.backend === backend && speed.rows.pixel != null && speed.rows.latent != null ? speed.rows : null;
  const fallbackRate = BACKEND_FLOPS_PER_MS[backend ?? 'wasm'] ?? BACKEND_FLOPS_PER_MS.wasm;
  const msPerImage = (kind: ModelKind, steps: number, guidance: number, batch: number): number => {
    const flops = pretrainedFlopsPerImage(kind, steps, guidance);
    const row = measured?.[kind];
    if (row) return row.msPerImage * (flops / pretrainedFlopsPerImage(kind, row.steps, row.guidance)) * (row.batch / batch) ** gamma;
    return (flops / fallbackRate) * (4 / batch) ** gamma;
  };
  // The classifier at the measured rate of both models together (FLOPs per ms), else the typical one.
  const rate = measured
    ? (['pixel', 'latent'] as const).reduce((f, k) => f + pretrainedFlopsPerImage(k, measured[k]!.steps, measured[k]!.guidance), 0) /
      (['pixel', 'latent'] as const).reduce((t, k) => t + measured[k]!.msPerImage, 0)
    : fallbackRate;
  return { msPerImage, rate, measured };
}

/**
 * How long a quality-against-evaluations run will take: per configuration, N images at its expected
 * evaluations (the student: guidance 1, costed as the pretrained LDM), the classifier on them, the
 * floor and (unless the engine has it) the FD reference.
 */
export function estimateEvaluations(form: EvaluationsForm, referenceDigits: number, backend: string | null, speed: CompareSpeed | null): CompareEstimate & { evaluations: number } {
  const timed = speedModel(backend, speed);
  const own = speed?.backend === backend && speed.evaluations != null ? speed.evaluations.flops / speed.evaluations.ms : null; // FLOPs/ms of the last evaluations run
  const msPerImage = own != null ? (kind: ModelKind, steps: number, guidance: number) => pretrainedFlopsPerImage(kind, steps, guidance) / own : timed.msPerImage;
  const { rate } = timed;
  const measured = own != null || timed.measured != null;
  const cases = evaluationsSettings(form).cases.map(parseEvaluationCase);
  const batch = evaluationBatch(form.n);
  let ms = ((form.n + (speed?.referenceDigits === referenceDigits ? 0 : referenceDigits)) * CLASSIFIER_FLOPS) / rate;
  let evaluations = 0;
  for (const c of cases) {
    const e = expectedEvaluations(c);
    evaluations += e;
    ms += form.n * msPerImage(form.model, e, c.student ? 1 : form.guidance, batch) + (form.n * CLASSIFIER_FLOPS) / rate;
  }
  return { seconds: ms / 1000 + LOADING_SECONDS, basis: measured ? 'measured' : 'flops', evaluations };
}

/** "1, 20, 50" → [1, 20, 50]; an entry that is not a whole number ≥ 1 is an error naming it. */
export function parseStepList(text: string): { steps: number[] } | { error: string } {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  const steps: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!(Number.isInteger(n) && n >= 1 && n <= 1000)) return { error: `"${p}" is not a step count from 1 to 1000.` };
    steps.push(n);
  }
  if (steps.length > 12) return { error: `At most 12 step counts, got ${steps.length}.` };
  return { steps };
}

/** The ratios the article is about, from the rows of the main case: pixel over LDM. */
export function compareRatios(rows: CompareRow[]): { speedup: number; memory: number } | null {
  const main = rows.filter((r) => !r.sweep);
  const pixel = main.find((r) => r.model === 'pixel');
  const latent = main.find((r) => r.model === 'latent');
  if (!pixel || !latent) return null;
  return { speedup: pixel.msPerImage / latent.msPerImage, memory: latent.peakBytes / pixel.peakBytes };
}

export function compareReport(state: CompareState, userAgent: string, date = new Date()): CompareReport {
  return { format: 'diffusion-playground/compare', version: 1, date: date.toISOString(), backend: state.backend, userAgent, settings: state.ranWith, rows: state.rows };
}
