/**
 * `npm run eval`: scores digits with the evaluation classifier (public/models/classifier, written by
 * `npm run pretrain`): mean max-softmax confidence, the predicted-label histogram and its entropy
 * (nats), and the Fréchet distance and KID of the classifier's 128 penultimate features against the
 * 9,000-digit training split, for the samples and for the held-out real digits at the same N (the
 * floor). See src/eval/evaluate.ts for the sets and the metrics.
 *
 *   npm run eval -- --samples FILE.npy                                 score a file (uint8 [N, 28, 28], or float32)
 *   npm run eval -- --model pixel|latent --sampler S --steps N --n N --seed S [--guidance W] ...   generate, then score
 *   npm run eval -- --real-only [--n N]                                score the held-out floor only
 *   options: [--json] [--classifier-dir DIR] [--reference N] [--kid-subsets K] [--kid-subset-size M]
 *            [--record]: with --model, also write the figures into the model's manifest.json ("eval" list)
 *
 * Prints a markdown table; `--json` prints one JSON object on stdout instead (progress stays on stderr;
 * `npm run -s eval -- --json`, as npm itself prints a header line on stdout without -s).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnistNode } from '../data/load-node';
import { evaluate, type EvalReport, type SetReport } from '../eval/evaluate';
import { initNodeBackend, machineWasmThreads, nodeWasmThreadsInfo, setDefaultWasmThreads } from '../backends/node';
import { samplerStepsLabel } from '../diffusion/config';
import { UsageError } from './args';
import { npyToImages, readNpy } from './npy';
import {
  defaultModelDir,
  generate,
  isMainModule,
  loadClassifierDir,
  loadSpecModel,
  parseOptions,
  runTool,
  samplingSpec,
  SAMPLING_DEFAULTS,
  SAMPLING_USAGE,
  type ToolIO,
} from './sampling-options';

const USAGE =
  `npm run eval -- (--samples FILE.npy | ${SAMPLING_USAGE} | --real-only [--n N]) ` +
  '[--json] [--record] [--classifier-dir DIR] [--reference N] [--kid-subsets K] [--kid-subset-size M]';

const EVAL_DEFAULTS = {
  ...SAMPLING_DEFAULTS,
  n: 1000,
  samples: '',
  json: false,
  'real-only': false,
  'classifier-dir': '',
  reference: 9000,
  'kid-subsets': 10,
  'kid-subset-size': 1000,
  record: false,
};

const GENERATION_OPTIONS = Object.keys(SAMPLING_DEFAULTS).filter((k) => k !== 'n');
const HELD_OUT = 1000;

type Source =
  | { kind: 'npy'; path: string; range: string }
  | {
      kind: 'generated';
      model: string;
      modelDir: string;
      sampler: string;
      steps: number;
      eta: number;
      guidance: number;
      spacing: string;
      clipping: string;
      seed: number;
      class: number | null;
      batch: number;
      seconds: number;
      msPerImage: number;
    }
  | { kind: 'real-only' };

const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function row(name: string, r: SetReport, floorFd: number): string {
  const kid = `${fmt(r.kid.mean, 5)} ± ${fmt(r.kid.std, 5)}`;
  return `| ${name} | ${r.n} | ${fmt(r.meanConfidence, 3)} | ${fmt(r.labelEntropy, 3)} | ${fmt(r.fd, 3)} | ${kid} | ${fmt(r.fd / floorFd, 2)} |`;
}

/** The report for people: what was scored, the table, and the label histograms. */
export function formatReport(report: EvalReport, source: Source, classifier: { dir: string; steps: number; heldOutAccuracy: number }): string {
  const lines: string[] = [];
  lines.push(`classifier: ${classifier.dir} (${classifier.steps} steps, held-out accuracy ${fmt(classifier.heldOutAccuracy, 4)})`);
  lines.push(`reference: the first ${report.reference.n} digits of the training split; floor: the first ${report.floor.n} held-out digits`);
  if (source.kind === 'npy') lines.push(`samples: ${source.path} (pixel range ${source.range})`);
  if (source.kind === 'generated') {
    const digits = source.class === null ? 'digits cycling 0-9' : `digit ${source.class}`;
    const settings = `eta ${source.eta}, guidance ${source.guidance}, ${source.spacing} spacing, x0 clipping ${source.clipping}`;
    lines.push(`samples: ${source.model} model (${source.modelDir}), ${source.sampler}, ${settings}, seed ${source.seed}, ${digits}, batch ${source.batch}: ${fmt(source.msPerImage, 1)} ms/image`);
  }
  const kid = report.floor.kid;
  lines.push(`KID: unbiased MMD² with k(x, y) = (xᵀy/128 + 1)³, mean ± std over ${kid.subsets} subset(s) of ${kid.subsetSizes[0]} vs ${kid.subsetSizes[1]} rows`);
  lines.push('', '| set | N | mean confidence | label entropy (nats) | FD | KID | FD / floor |', '|---|---|---|---|---|---|---|');
  if (report.samples) lines.push(row('samples', report.samples, report.floor.fd));
  lines.push(row('held-out real (floor)', report.floor, report.floor.fd));
  if (report.samples && report.samples.n !== report.floor.n) {
    lines.push('', `note: the floor has N = ${report.floor.n} (the held-out split's size), the samples ${report.samples.n}: FD and KID depend on N.`);
  }
  lines.push('', `label histogram (predicted digit; entropy at most ln 10 = ${Math.log(10).toFixed(3)} nats):`, '', `| set | ${[...Array(10).keys()].join(' | ')} |`, `|---|${'---|'.repeat(10)}`);
  if (report.samples) lines.push(`| samples | ${report.samples.histogram.join(' | ')} |`);
  lines.push(`| held-out real (floor) | ${report.floor.histogram.join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/** Adds (or replaces) this run's figures in the model's manifest.json, keyed by sampler, guidance, N and seed. */
async function recordInManifest(source: Extract<Source, { kind: 'generated' }>, samples: SetReport, floor: SetReport): Promise<void> {
  const path = join(source.modelDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as { eval?: Record<string, unknown>[] };
  const summary = (r: SetReport) => ({ n: r.n, meanConfidence: r.meanConfidence, labelEntropy: r.labelEntropy, fd: r.fd, kid: r.kid.mean, histogram: r.histogram });
  const entry = {
    sampler: source.sampler, steps: source.steps, eta: source.eta, guidance: source.guidance, seed: source.seed, n: samples.n, msPerImage: source.msPerImage,
    samples: summary(samples), floor: summary(floor), fdOverFloor: samples.fd / floor.fd, date: new Date().toISOString(),
  };
  const same = (e: Record<string, unknown>) => e.sampler === entry.sampler && e.guidance === entry.guidance && e.n === entry.n && e.seed === entry.seed && e.eta === entry.eta;
  manifest.eval = [...(manifest.eval ?? []).filter((e) => !same(e)), entry];
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The tool itself, callable in-process (tests): returns the exit code. */
export async function evalMain(argv: string[], io: ToolIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  return runTool('eval', io.err, async () => {
    const args = parseOptions(argv, EVAL_DEFAULTS, USAGE);
    const bad = (problem: string) => new UsageError(`${problem}\nusage: ${USAGE}`);
    const given = (name: string) => argv.includes(`--${name}`);
    const generating = !args.samples && !args['real-only'];
    if (args.samples && args['real-only']) throw bad('--samples and --real-only exclude each other');
    if (!generating && GENERATION_OPTIONS.some(given)) throw bad(`--${GENERATION_OPTIONS.find(given)} is a sampling option: it goes with --model, not --samples or --real-only`);
    if (args.samples && given('n')) throw bad('--n goes with --model or --real-only: --samples scores every image of the file');
    if (args.record && !generating) throw bad('--record writes into a model\'s manifest: it goes with --model');
    if (generating && !given('model')) throw bad('say what to score: --samples FILE.npy, --model pixel|latent, or --real-only');
    const spec = generating ? samplingSpec(args, USAGE) : null;
    if (spec && spec.request.numImages < 2) throw bad('--n must be at least 2 to evaluate');
    if (args['real-only'] && !(Number.isInteger(args.n) && args.n >= 2 && args.n <= HELD_OUT)) throw bad(`--n must be an integer in 2..${HELD_OUT} with --real-only, got ${args.n}`);
    if (!(Number.isInteger(args.reference) && args.reference >= 2)) throw bad(`--reference must be an integer ≥ 2, got ${args.reference}`);
    if (!(Number.isInteger(args['kid-subsets']) && args['kid-subsets'] >= 1)) throw bad(`--kid-subsets must be an integer ≥ 1, got ${args['kid-subsets']}`);
    if (!(Number.isInteger(args['kid-subset-size']) && args['kid-subset-size'] >= 2)) throw bad(`--kid-subset-size must be an integer ≥ 2, got ${args['kid-subset-size']}`);

    await initNodeBackend('wasm');
    io.err.write(`wasm backend: ${nodeWasmThreadsInfo()?.actual ?? 1} thread(s)\n`);
    const classifierDir = args['classifier-dir'] || defaultModelDir('classifier');
    const { classifier, steps, heldOutAccuracy } = await loadClassifierDir(classifierDir);
    try {
      let samples: { n: number; pixels: Uint8Array } | null = null;
      let source: Source = { kind: 'real-only' };
      if (args.samples) {
        const images = npyToImages(await readNpy(args.samples), args.samples);
        if (images.n < 2) throw bad(`--samples: ${args.samples} holds ${images.n} image; FD and KID need at least 2`);
        samples = images;
        source = { kind: 'npy', path: args.samples, range: images.range };
      } else if (spec) {
        const loaded = await loadSpecModel(spec, USAGE);
        try {
          const result = await generate(loaded, spec, io.err);
          samples = result;
          const r = spec.request;
          source = {
            kind: 'generated',
            model: spec.model,
            modelDir: spec.modelDir,
            sampler: samplerStepsLabel(r.kind, r.steps),
            steps: r.steps,
            eta: r.eta,
            guidance: r.guidance,
            spacing: r.spacing,
            clipping: r.clipping,
            seed: r.seed,
            class: r.digit,
            batch: r.batch,
            seconds: result.seconds,
            msPerImage: result.msPerImage,
          };
          io.err.write(`sampled ${result.n} images in ${result.seconds.toFixed(1)} s: ${result.msPerImage.toFixed(1)} ms/image\n`);
        } finally {
          loaded.model.dispose();
        }
      }
      const report = await evaluate(classifier, await loadMnistNode(), samples, samples ? HELD_OUT : args.n, {
        referenceCount: args.reference,
        kid: { subsets: args['kid-subsets'], subsetSize: args['kid-subset-size'], seed: 0 },
        onPhase: (phase, n) => io.err.write(`scoring ${n} ${phase === 'reference' ? 'training digits (reference)' : phase === 'floor' ? 'held-out digits (floor)' : 'samples'}\n`),
      });
      const info = { dir: classifierDir, steps, heldOutAccuracy };
      if (args.record && source.kind === 'generated' && report.samples) await recordInManifest(source, report.samples, report.floor);
      if (args.json) io.out.write(`${JSON.stringify({ classifier: info, source, backend: tf.getBackend(), ...report })}\n`);
      else io.out.write(formatReport(report, source, info));
    } finally {
      classifier.dispose();
    }
  });
}

if (isMainModule(import.meta.url)) {
  setDefaultWasmThreads(machineWasmThreads()); // run alone: use the cores (TFJS_WASM_THREADS overrides)
  void evalMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
