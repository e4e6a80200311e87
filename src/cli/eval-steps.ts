/**
 * `npm run eval:steps`: quality against model evaluations for the ways of taking fewer steps (issue
 * 20): fixed-step DDIM and DPM-Solver++ at several step counts, the adaptive DPM-Solver-12 / -23 at
 * several tolerances, and early stopping at several thresholds. Every case samples the same N images
 * from the same seeds (the same x_T and digits), and is scored with the evaluation classifier's FD
 * against the training-split reference, beside the held-out floor at the same N (src/eval/evaluate.ts).
 *
 *   npm run eval:steps -- [--model latent|pixel] [--n 500] [--guidance 1.3] [--batch 50] [--seed 0]
 *                         [--cases LIST] [--json FILE] [--model-dir DIR] [--classifier-dir DIR]
 *                         [--student-dir DIR]
 *
 * A case: `ddim-20`, `dpmpp-10` (fixed steps); `adaptive12@R/A`, `adaptive23@R/A` or `sde@R/A` (rtol R, atol A);
 * any of them followed by `+noise@X` or `+change@X` (early stopping at threshold X), e.g.
 * `dpmpp-20+noise@0.5`; `student-K`: the distilled LDM (--student-dir, default
 * public/models/latent-distilled) with DDIM over K trailing steps, guidance 1 (a case whose model is
 * not there is reported as not measured). Evaluations are per sampling run (a batch), averaged over
 * the batches. The cases' grammar and the measurement are shared with the Compare panel and
 * `npm run bench` (src/protocol/compare-evaluations.ts, src/eval/compare-evaluations.ts).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadMnistNode } from '../data/load-node';
import { compareToReference, makeReference, realDigits, scoreImages, type SetReport } from '../eval/evaluate';
import { initNodeBackend, machineWasmThreads, nodeWasmThreadsInfo, setDefaultWasmThreads } from '../backends/node';
import { measureEvaluationCase, type EvaluationBase, type SamplingModel } from '../eval/compare-evaluations';
import { DISTILLED_MODEL_PATH, evaluationCaseLabel, parseEvaluationCase, type EvaluationCase } from '../protocol/compare-evaluations';
import type { ModelKind } from '../models/setup/model-setup';
import { UsageError } from './args';
import { defaultModelDir, isMainModule, loadClassifierDir, loadSpecModel, parseOptions, runTool, samplingSpec, SAMPLING_DEFAULTS, type ToolIO } from './sampling-options';

const USAGE = 'npm run eval:steps -- [--model latent|pixel] [--n N] [--guidance W] [--batch B] [--seed S] [--cases LIST] [--json FILE] [--model-dir DIR] [--classifier-dir DIR] [--student-dir DIR]';

export const DEFAULT_CASES = [
  'ddim-5', 'ddim-10', 'ddim-20', 'ddim-50',
  'dpmpp-5', 'dpmpp-8', 'dpmpp-10', 'dpmpp-20',
  'adaptive12@0.2/0.1', 'adaptive12@0.1/0.05', 'adaptive12@0.05/0.0078',
  'adaptive23@0.2/0.1', 'adaptive23@0.05/0.0078',
  'dpmpp-20+noise@0.3', 'dpmpp-20+noise@0.6', 'dpmpp-20+change@0.05', 'dpmpp-20+change@0.1',
  'ddim-50+noise@0.3', 'ddim-50+noise@0.6', 'ddim-50+change@0.02',
].join(',');

const DEFAULTS = { ...SAMPLING_DEFAULTS, model: 'latent', n: 500, guidance: 1.3, batch: 50, cases: DEFAULT_CASES, json: '', 'classifier-dir': '', 'student-dir': '' };

export type StepsCase = EvaluationCase;

/** Reads one case (see the module doc); throws a UsageError naming it. */
export function parseCase(text: string): StepsCase {
  try {
    return parseEvaluationCase(text);
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\nusage: ${USAGE}`, { cause: err });
  }
}

/** "DDIM-20", "adaptive DPM-Solver-12 (rtol 0.05, atol 0.0078)", "DPM-Solver++-20 + early stop (noise ≤ 0.5)". */
export const caseLabel = (c: StepsCase): string => evaluationCaseLabel(c);

export interface StepsRow {
  name: string;
  /** The case as given (e.g. dpmpp-20+noise@1). */
  case?: string;
  n: number;
  /** Model evaluations per sampling run (mean over batches, min and max), and steps. */
  evaluations: number;
  evaluationsMin: number;
  evaluationsMax: number;
  steps: number;
  fd: number;
  fdOverFloor: number;
  meanConfidence: number;
  msPerImage: number;
  /** Why the case was not measured (its model is not there), else absent. */
  skipped?: string;
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export function formatRows(rows: StepsRow[], floor: SetReport): string {
  const lines = ['| case | N | model evaluations (mean, min-max per run) | steps | FD | FD / floor | mean confidence | ms / image |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.name} | | not measured: ${r.skipped} | | | | | |`);
      continue;
    }
    const range = r.evaluationsMin === r.evaluationsMax ? '' : ` (${r.evaluationsMin}-${r.evaluationsMax})`;
    lines.push(`| ${r.name} | ${r.n} | ${fmt(r.evaluations, 1)}${range} | ${fmt(r.steps, 1)} | ${fmt(r.fd, 2)} | ${fmt(r.fdOverFloor, 3)} | ${fmt(r.meanConfidence, 3)} | ${fmt(r.msPerImage, 1)} |`);
  }
  lines.push(`| held-out real (floor) | ${floor.n} | | | ${fmt(floor.fd, 2)} | 1.000 | ${fmt(floor.meanConfidence, 3)} | |`);
  return lines.join('\n') + '\n';
}

/** What `measureSteps` runs: the model, its cases, and where the files are. */
export interface StepsRun extends EvaluationBase {
  model: ModelKind;
  modelDir: string;
  classifierDir: string;
  /** The distilled LDM's folder, for student-K cases. */
  studentDir: string;
  cases: StepsCase[];
}

/** Loads a model folder for sampling (the pretrained model or the distilled student). */
async function loadSampling(model: ModelKind, modelDir: string): Promise<SamplingModel> {
  const spec = samplingSpec({ ...DEFAULTS, model, 'model-dir': modelDir, steps: 1 }, USAGE);
  return loadSpecModel(spec, USAGE);
}

/**
 * Measures every case of `run` (the model and classifier loaded here, freed after): the floor at N
 * and one row per case, in order; student cases are skipped with a reason when the distilled model
 * is not there or the model is not the LDM. `log` gets a line per case as it is measured.
 */
export async function measureSteps(run: StepsRun, log: (line: string) => void): Promise<{ rows: StepsRow[]; floor: SetReport }> {
  const { classifier } = await loadClassifierDir(run.classifierDir);
  const loaded: { main: SamplingModel | null; student: SamplingModel | null } = { main: null, student: null };
  try {
    const real = realDigits(await loadMnistNode(), run.n);
    const reference = makeReference((await scoreImages(classifier, real.reference.pixels, real.reference.n)).features);
    const floor = compareToReference(await scoreImages(classifier, real.floor.pixels, real.floor.n), reference);
    log(`floor FD ${fmt(floor.fd, 2)} (N = ${floor.n})`);
    const score = async (pixels: Uint8Array, n: number) => compareToReference(await scoreImages(classifier, pixels, n), reference);
    const rows: StepsRow[] = [];
    for (const c of run.cases) {
      const missing = c.student && run.model !== 'latent' ? 'the distilled model is an LDM' : c.student && !existsSync(join(run.studentDir, 'model.json')) ? `no distilled model at ${run.studentDir} (npm run distill makes it)` : null;
      if (missing) {
        rows.push({ name: c.name, case: c.text, n: 0, evaluations: NaN, evaluationsMin: NaN, evaluationsMax: NaN, steps: NaN, fd: NaN, fdOverFloor: NaN, meanConfidence: NaN, msPerImage: NaN, skipped: missing });
        log(`${c.name}: not measured (${missing})`);
        continue;
      }
      const m = c.student ? (loaded.student ??= await loadSampling('latent', run.studentDir)) : (loaded.main ??= await loadSampling(run.model, run.modelDir));
      const { info, report, msPerImage } = await measureEvaluationCase(m, c, run, score);
      const row: StepsRow = {
        name: c.name, case: c.text, n: run.n, evaluations: info.evaluations, evaluationsMin: info.evaluationsMin, evaluationsMax: info.evaluationsMax, steps: info.steps,
        fd: report.fd, fdOverFloor: report.fd / floor.fd, meanConfidence: report.meanConfidence, msPerImage,
      };
      rows.push(row);
      log(`${row.name}: ${fmt(row.evaluations, 1)} evaluations, FD ${fmt(row.fd, 2)} (${fmt(row.fdOverFloor, 3)}× floor), ${fmt(msPerImage, 1)} ms/image`);
    }
    return { rows, floor };
  } finally {
    loaded.main?.model.dispose();
    loaded.student?.model.dispose();
    classifier.dispose();
  }
}

export async function evalStepsMain(argv: string[], io: ToolIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  return runTool('eval:steps', io.err, async () => {
    const args = parseOptions(argv, DEFAULTS, USAGE);
    const cases = args.cases.split(',').filter((s) => s.trim() !== '').map(parseCase);
    const spec = samplingSpec({ ...args, sampler: 'ddim', steps: 20 }, USAGE);
    await initNodeBackend('wasm');
    io.err.write(`wasm backend: ${nodeWasmThreadsInfo()?.actual ?? 1} thread(s); ${cases.length} cases, N = ${spec.request.numImages}\n`);
    const { request } = spec;
    const run: StepsRun = {
      model: spec.model, modelDir: spec.modelDir, classifierDir: args['classifier-dir'] || defaultModelDir('classifier'), studentDir: args['student-dir'] || defaultModelDir(DISTILLED_MODEL_PATH),
      cases, n: request.numImages, batch: request.batch, seed: request.seed, guidance: request.guidance,
    };
    const { rows, floor } = await measureSteps(run, (line) => io.err.write(`${line}\n`));
    const student = cases.some((c) => c.student) ? `; student: ${run.studentDir} (DDIM, trailing, guidance 1)` : '';
    io.out.write(`model: ${spec.model} (${spec.modelDir}), guidance ${request.guidance}, seed ${request.seed}, batch ${request.batch}, digits cycling 0-9${student}\n\n`);
    io.out.write(formatRows(rows, floor));
    if (args.json) await writeFile(args.json, `${JSON.stringify({ model: spec.model, guidance: request.guidance, n: run.n, seed: request.seed, floor: { n: floor.n, fd: floor.fd }, rows }, null, 2)}\n`);
  });
}

if (isMainModule(import.meta.url)) {
  setDefaultWasmThreads(machineWasmThreads());
  void evalStepsMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
