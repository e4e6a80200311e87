/**
 * Quality against model evaluations (issue 20), the vocabulary the Compare panel, the engine and
 * `npm run eval:steps` / `npm run bench` share: which configurations a run measures (one case
 * string each, in eval:steps' syntax), how a case is read and named, and how measured rows become
 * one series per method for the chart. Pure: no tensors, so the page may use it.
 *
 * A case: `ddim-20`, `dpmpp-10` (fixed steps); `adaptive12@R/A`, `adaptive23@R/A`, `sde@R/A`
 * (adaptive step size with rtol R, atol A); either followed by `+noise@X` or `+change@X` (early
 * stopping at threshold X); `student-K`: the distilled LDM (public/models/latent-distilled) with DDIM
 * over K trailing steps, η = 0, guidance 1 (the teacher's guidance is built into the student).
 */
import type { AdaptiveChoice, EarlyStopChoice, SamplerKind } from '../diffusion/config';
import type { ModelKind } from '../models/setup/model-setup';

/** The methods a run compares, each a series of the chart. */
export const EVALUATION_FAMILIES = ['ddim', 'dpmpp', 'adaptive', 'early-stop', 'student'] as const;
export type EvaluationFamily = (typeof EVALUATION_FAMILIES)[number];

export const FAMILY_LABELS: Readonly<Record<EvaluationFamily, string>> = {
  ddim: 'DDIM, fixed steps',
  dpmpp: 'DPM-Solver++, fixed steps',
  adaptive: 'Adaptive DPM-Solver-12, by tolerance',
  'early-stop': 'DPM-Solver++-20 + early stop, by threshold',
  student: 'Distilled student (DDIM, trailing)',
};

/**
 * Each method's configurations: step counts around the FD plateau of the pretrained LDM
 * (README, "Fewer steps, measured"), tolerances from loose to the paper's, early-stop thresholds
 * ("noise left") from the one that saves most to the one that changes nothing, and the student at
 * 1, 2, 4 and 8 steps.
 */
export const FAMILY_CASES: Readonly<Record<EvaluationFamily, readonly string[]>> = {
  ddim: ['ddim-5', 'ddim-10', 'ddim-20'],
  dpmpp: ['dpmpp-3', 'dpmpp-5', 'dpmpp-10', 'dpmpp-20'],
  adaptive: ['adaptive12@0.4/0.2', 'adaptive12@0.2/0.1', 'adaptive12@0.05/0.0078'],
  'early-stop': ['dpmpp-20+noise@2', 'dpmpp-20+noise@1', 'dpmpp-20+noise@0.5'],
  student: ['student-1', 'student-2', 'student-4', 'student-8'],
};

/** Where the distilled LDM lives under the models folder (what `npm run distill` writes). */
export const DISTILLED_MODEL_PATH = 'latent-distilled';

/** The quality-against-evaluations run: which model, how many samples per case, which cases. */
export interface EvaluationSettings {
  /** The pretrained model the fixed, adaptive and early-stopped cases sample (student cases: the distilled LDM). */
  model: ModelKind;
  /** Samples per case, scored against the FD reference, beside the held-out floor at the same N. */
  n: number;
  /** Guidance of every case but the student's (which samples with 1: its teacher's guidance is built in). */
  guidance: number;
  cases: string[];
}

/** One case read. */
export interface EvaluationCase {
  text: string;
  name: string;
  family: EvaluationFamily;
  kind: Exclude<SamplerKind, 'ddpm'>;
  steps: number;
  adaptive: AdaptiveChoice;
  rtol?: number;
  atol?: number;
  earlyStop: EarlyStopChoice;
  earlyStopThreshold?: number;
  /** Samples the distilled model (DDIM, trailing spacing, η = 0, guidance 1). */
  student: boolean;
}

/** What a measured row adds to a Compare row. */
export interface EvaluationRowInfo {
  case: string;
  name: string;
  family: EvaluationFamily;
  /** Model evaluations per sampling run (a guided one counts once), mean over the batches, and their range. */
  evaluations: number;
  evaluationsMin: number;
  evaluationsMax: number;
  /** Solver steps per run (mean). */
  steps: number;
  /** Why the case was not measured (e.g. the distilled model is not there), else null. */
  skipped: string | null;
}

/** The cases of these methods, in the families' order; the student only with the LDM. */
export function planEvaluationCases(families: readonly EvaluationFamily[], model: ModelKind): string[] {
  return EVALUATION_FAMILIES.filter((f) => families.includes(f) && (f !== 'student' || model === 'latent')).flatMap((f) => [...FAMILY_CASES[f]]);
}

/** Images per sampling run of a quality-against-evaluations run: all N up to 50 (early stopping waits for a batch's worst image). */
export function evaluationBatch(n: number): number {
  return Math.max(1, Math.min(n, 50));
}

const FIXED_LABELS = { ddim: 'DDIM', dpmpp: 'DPM-Solver++' } as const;

/** "DDIM-20", "adaptive DPM-Solver-12 (rtol 0.05, atol 0.0078)", "DPM-Solver++-20 + early stop (noise ≤ 0.5)", "distilled student, 4 steps". */
export function evaluationCaseLabel(c: Omit<EvaluationCase, 'name' | 'family' | 'text'>): string {
  if (c.student) return `distilled student, ${c.steps} step${c.steps === 1 ? '' : 's'}`;
  const base = c.adaptive !== 'off' ? `${c.adaptive === 'sde' ? 'adaptive SDE (Gotta Go Fast)' : `adaptive DPM-Solver-${c.adaptive}`} (rtol ${c.rtol}, atol ${c.atol})` : `${FIXED_LABELS[c.kind]}-${c.steps}`;
  return c.earlyStop !== 'off' ? `${base} + early stop (${c.earlyStop} ≤ ${c.earlyStopThreshold})` : base;
}

function familyOf(c: Omit<EvaluationCase, 'name' | 'family' | 'text'>): EvaluationFamily {
  if (c.student) return 'student';
  if (c.earlyStop !== 'off') return 'early-stop';
  if (c.adaptive !== 'off') return 'adaptive';
  return c.kind;
}

/** Reads one case (see the module doc); throws an Error starting "unknown case". */
export function parseEvaluationCase(text: string): EvaluationCase {
  const bad = () => new Error(`unknown case '${text}' (e.g. ddim-20, dpmpp-10, adaptive12@0.05/0.0078, dpmpp-20+noise@0.5, student-4)`);
  const [base, stop, extra] = text.trim().split('+');
  if (extra !== undefined) throw bad();
  let c: Omit<EvaluationCase, 'name' | 'family' | 'text'>;
  const fixed = /^(ddim|dpmpp)-(\d+)$/.exec(base);
  const adaptive = /^(?:adaptive(12|23)|(sde))@([\d.e-]+)\/([\d.e-]+)$/.exec(base);
  const student = /^student-(\d+)$/.exec(base);
  if (fixed) c = { kind: fixed[1] as 'ddim' | 'dpmpp', steps: Number(fixed[2]), adaptive: 'off', earlyStop: 'off', student: false };
  else if (adaptive) c = { kind: 'dpmpp', steps: 20, adaptive: (adaptive[1] ?? adaptive[2]) as AdaptiveChoice, rtol: Number(adaptive[3]), atol: Number(adaptive[4]), earlyStop: 'off', student: false };
  else if (student && stop === undefined) c = { kind: 'ddim', steps: Number(student[1]), adaptive: 'off', earlyStop: 'off', student: true };
  else throw bad();
  if (!(c.steps >= 1 && c.steps <= 1000) || (c.rtol !== undefined && !(c.rtol > 0 && c.atol! > 0))) throw bad();
  if (stop !== undefined) {
    const m = /^(noise|change)@([\d.e-]+)$/.exec(stop);
    if (!m || !(Number(m[2]) > 0)) throw bad();
    c = { ...c, earlyStop: m[1] as EarlyStopChoice, earlyStopThreshold: Number(m[2]) };
  }
  return { ...c, text: text.trim(), name: evaluationCaseLabel(c), family: familyOf(c) };
}

/**
 * Model evaluations a case will take per sampling run, guessed before it runs (for progress and the
 * page's estimate): the step count for fixed steps and early stopping (an upper bound); for the
 * adaptive solvers, what the README measured on the pretrained LDM at about that tolerance.
 */
export function expectedEvaluations(c: Pick<EvaluationCase, 'adaptive' | 'steps' | 'rtol'>): number {
  if (c.adaptive === 'off') return c.steps;
  if (c.adaptive === 'sde') return 56;
  const rtol = c.rtol ?? 0.05;
  return rtol >= 0.3 ? 12 : rtol >= 0.15 ? 15 : rtol >= 0.08 ? 19 : 35;
}

/** A point of the chart: a case's evaluations and its FD over the floor at the same N. */
export interface EvaluationPoint {
  evaluations: number;
  ratio: number;
  name: string;
}

export interface EvaluationSeries {
  family: EvaluationFamily;
  label: string;
  points: EvaluationPoint[];
}

/**
 * One series per method, in the families' order, points in order of evaluations; rows without
 * quality (skipped, or timing only) are left out, and so is a method with no point.
 */
export function evaluationSeries(rows: readonly { evaluation?: EvaluationRowInfo; quality: { fd: number; floorFd: number } | null }[]): EvaluationSeries[] {
  const out: EvaluationSeries[] = [];
  for (const family of EVALUATION_FAMILIES) {
    const points = rows
      .filter((r) => r.evaluation?.family === family && r.evaluation.skipped == null && r.quality != null)
      .map((r) => ({ evaluations: r.evaluation!.evaluations, ratio: r.quality!.fd / r.quality!.floorFd, name: r.evaluation!.name }))
      .sort((a, b) => a.evaluations - b.evaluations);
    if (points.length > 0) out.push({ family, label: FAMILY_LABELS[family], points });
  }
  return out;
}
