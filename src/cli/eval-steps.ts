/**
 * `npm run eval:steps`: quality against model evaluations for the ways of taking fewer steps (issue
 * 20): fixed-step DDIM and DPM-Solver++ at several step counts, the adaptive DPM-Solver-12 / -23 at
 * several tolerances, and early stopping at several thresholds. Every case samples the same N images
 * from the same seeds (the same x_T and digits), and is scored with the evaluation classifier's FD
 * against the training-split reference, beside the held-out floor at the same N (src/eval/evaluate.ts).
 *
 *   npm run eval:steps -- [--model latent|pixel] [--n 500] [--guidance 1.3] [--batch 50] [--seed 0]
 *                         [--cases LIST] [--json FILE] [--model-dir DIR] [--classifier-dir DIR]
 *
 * A case: `ddim-20`, `dpmpp-10` (fixed steps); `adaptive12@R/A`, `adaptive23@R/A` or `sde@R/A` (rtol R, atol A);
 * any of them followed by `+noise@X` or `+change@X` (early stopping at threshold X), e.g.
 * `dpmpp-20+noise@0.5`. Evaluations are per sampling run (a batch), averaged over the batches.
 */
import { writeFile } from 'node:fs/promises';
import { loadMnistNode } from '../data/load-node';
import { compareToReference, makeReference, realDigits, scoreImages, type SetReport } from '../eval/evaluate';
import { initNodeBackend, machineWasmThreads, nodeWasmThreadsInfo, setDefaultWasmThreads } from '../backends/node';
import { samplerStepsLabel, type AdaptiveChoice, type EarlyStopChoice, type SamplerKind } from '../diffusion/config';
import { generateImages, type GenerateRequest } from '../sampling/generate';
import { UsageError } from './args';
import { defaultModelDir, isMainModule, loadClassifierDir, loadSpecModel, parseOptions, runTool, samplingSpec, SAMPLING_DEFAULTS, type ToolIO } from './sampling-options';

const USAGE = 'npm run eval:steps -- [--model latent|pixel] [--n N] [--guidance W] [--batch B] [--seed S] [--cases LIST] [--json FILE] [--model-dir DIR] [--classifier-dir DIR]';

export const DEFAULT_CASES = [
  'ddim-5', 'ddim-10', 'ddim-20', 'ddim-50',
  'dpmpp-5', 'dpmpp-8', 'dpmpp-10', 'dpmpp-20',
  'adaptive12@0.2/0.1', 'adaptive12@0.1/0.05', 'adaptive12@0.05/0.0078',
  'adaptive23@0.2/0.1', 'adaptive23@0.05/0.0078',
  'dpmpp-20+noise@0.3', 'dpmpp-20+noise@0.6', 'dpmpp-20+change@0.05', 'dpmpp-20+change@0.1',
  'ddim-50+noise@0.3', 'ddim-50+noise@0.6', 'ddim-50+change@0.02',
].join(',');

const DEFAULTS = { ...SAMPLING_DEFAULTS, model: 'latent', n: 500, guidance: 1.3, batch: 50, cases: DEFAULT_CASES, json: '', 'classifier-dir': '' };

export interface StepsCase {
  name: string;
  kind: SamplerKind;
  steps: number;
  adaptive: AdaptiveChoice;
  rtol?: number;
  atol?: number;
  earlyStop: EarlyStopChoice;
  earlyStopThreshold?: number;
}

/** Reads one case (see the module doc); throws a UsageError naming it. */
export function parseCase(text: string): StepsCase {
  const bad = () => new UsageError(`unknown case '${text}' (e.g. ddim-20, dpmpp-10, adaptive12@0.05/0.0078, dpmpp-20+noise@0.5)\nusage: ${USAGE}`);
  const [base, stop] = text.trim().split('+');
  let c: StepsCase;
  const fixed = /^(ddim|dpmpp)-(\d+)$/.exec(base);
  const adaptive = /^(?:adaptive(12|23)|(sde))@([\d.e-]+)\/([\d.e-]+)$/.exec(base);
  if (fixed) c = { name: base, kind: fixed[1] as SamplerKind, steps: Number(fixed[2]), adaptive: 'off', earlyStop: 'off' };
  else if (adaptive) c = { name: base, kind: 'dpmpp', steps: 20, adaptive: (adaptive[1] ?? adaptive[2]) as AdaptiveChoice, rtol: Number(adaptive[3]), atol: Number(adaptive[4]), earlyStop: 'off' };
  else throw bad();
  if (!(c.steps >= 1 && c.steps <= 1000) || (c.rtol !== undefined && !(c.rtol > 0 && c.atol! > 0))) throw bad();
  if (stop !== undefined) {
    const m = /^(noise|change)@([\d.e-]+)$/.exec(stop);
    if (!m || !(Number(m[2]) > 0)) throw bad();
    c = { ...c, earlyStop: m[1] as EarlyStopChoice, earlyStopThreshold: Number(m[2]) };
  }
  return { ...c, name: caseLabel(c) };
}

/** "DDIM-20", "adaptive DPM-Solver-12 (rtol 0.05, atol 0.0078)", "DPM-Solver++-20 + early stop (noise ≤ 0.5)". */
export function caseLabel(c: StepsCase): string {
  const base = c.adaptive !== 'off' ? `${c.adaptive === 'sde' ? 'adaptive SDE (Gotta Go Fast)' : `adaptive DPM-Solver-${c.adaptive}`} (rtol ${c.rtol}, atol ${c.atol})` : samplerStepsLabel(c.kind, c.steps);
  return c.earlyStop !== 'off' ? `${base} + early stop (${c.earlyStop} ≤ ${c.earlyStopThreshold})` : base;
}

export interface StepsRow {
  name: string;
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
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export function formatRows(rows: StepsRow[], floor: SetReport): string {
  const lines = ['| case | N | model evaluations (mean, min-max per run) | steps | FD | FD / floor | mean confidence | ms / image |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const range = r.evaluationsMin === r.evaluationsMax ? '' : ` (${r.evaluationsMin}-${r.evaluationsMax})`;
    lines.push(`| ${r.name} | ${r.n} | ${fmt(r.evaluations, 1)}${range} | ${fmt(r.steps, 1)} | ${fmt(r.fd, 2)} | ${fmt(r.fdOverFloor, 3)} | ${fmt(r.meanConfidence, 3)} | ${fmt(r.msPerImage, 1)} |`);
  }
  lines.push(`| held-out real (floor) | ${floor.n} | | | ${fmt(floor.fd, 2)} | 1.000 | ${fmt(floor.meanConfidence, 3)} | |`);
  return lines.join('\n') + '\n';
}

export async function evalStepsMain(argv: string[], io: ToolIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  return runTool('eval:steps', io.err, async () => {
    const args = parseOptions(argv, DEFAULTS, USAGE);
    const cases = args.cases.split(',').filter((s) => s.trim() !== '').map(parseCase);
    const spec = samplingSpec({ ...args, sampler: 'ddim', steps: 20 }, USAGE);
    await initNodeBackend('wasm');
    io.err.write(`wasm backend: ${nodeWasmThreadsInfo()?.actual ?? 1} thread(s); ${cases.length} cases, N = ${spec.request.numImages}\n`);
    const classifierDir = args['classifier-dir'] || defaultModelDir('classifier');
    const { classifier } = await loadClassifierDir(classifierDir);
    const loaded = await loadSpecModel(spec, USAGE);
    try {
      const n = spec.request.numImages;
      const real = realDigits(await loadMnistNode(), n);
      const reference = makeReference((await scoreImages(classifier, real.reference.pixels, real.reference.n)).features);
      const floor = compareToReference(await scoreImages(classifier, real.floor.pixels, real.floor.n), reference);
      io.err.write(`floor FD ${fmt(floor.fd, 2)} (N = ${floor.n})\n`);
      const rows: StepsRow[] = [];
      for (const c of cases) {
        const request: GenerateRequest = { ...spec.request, kind: c.kind, steps: c.steps, adaptive: c.adaptive, rtol: c.rtol, atol: c.atol, earlyStop: c.earlyStop, earlyStopThreshold: c.earlyStopThreshold };
        const costs: { steps: number; evaluations: number }[] = [];
        const t0 = performance.now();
        const pixels = await generateImages(loaded.model, loaded.schedule, loaded.prediction, request, undefined, undefined, (cost) => costs.push(cost));
        const msPerImage = (performance.now() - t0) / n;
        const report = compareToReference(await scoreImages(classifier, pixels, n), reference);
        const evals = costs.map((x) => x.evaluations);
        const row: StepsRow = {
          name: c.name,
          n,
          evaluations: evals.reduce((a, b) => a + b, 0) / evals.length,
          evaluationsMin: Math.min(...evals),
          evaluationsMax: Math.max(...evals),
          steps: costs.reduce((a, b) => a + b.steps, 0) / costs.length,
          fd: report.fd,
          fdOverFloor: report.fd / floor.fd,
          meanConfidence: report.meanConfidence,
          msPerImage,
        };
        rows.push(row);
        io.err.write(`${row.name}: ${fmt(row.evaluations, 1)} evaluations, FD ${fmt(row.fd, 2)} (${fmt(row.fdOverFloor, 3)}× floor), ${fmt(msPerImage, 1)} ms/image\n`);
      }
      io.out.write(`model: ${spec.model} (${spec.modelDir}), guidance ${spec.request.guidance}, seed ${spec.request.seed}, batch ${spec.request.batch}, digits cycling 0-9\n\n`);
      io.out.write(formatRows(rows, floor));
      if (args.json) await writeFile(args.json, `${JSON.stringify({ model: spec.model, guidance: spec.request.guidance, n, seed: spec.request.seed, floor: { n: floor.n, fd: floor.fd }, rows }, null, 2)}\n`);
    } finally {
      loaded.model.dispose();
      classifier.dispose();
    }
  });
}

if (isMainModule(import.meta.url)) {
  setDefaultWasmThreads(machineWasmThreads());
  void evalStepsMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
