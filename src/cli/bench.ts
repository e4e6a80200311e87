/**
 * `npm run bench`: figures for the playground's speed and memory, measured in one run so that
 * ratios are comparable.
 *   In Node, wasm backend (untrained presets: timings only):
 *   - training: steps/s of each model at a fixed batch (pixel U-Net presets, latent denoisers);
 *   - sampling: ms per image of DDIM-N for pixel DDPM against LDM (latent steps + one decode; the
 *     median of 3-7 timed batches, at least 3 s in all, or one batch when it alone takes 20 s),
 *     and the peak tensor bytes of one sampling step (tf.profile);
 *   - samplers: ms per image of DDPM-1000 against DDIM-20 and DPM-Solver++-20 (pixel small, LDM small);
 *   - backends: training steps/s on the cpu backend (tfjs's own kernels, pure JS) against wasm.
 *   - the shipped pretrained pair, DDIM-N at the Node batch and at the page's (./bench-headline.ts).
 *   In Chromium (the built app, ./bench-compare.ts), for each backend it gives (and on wasm for each
 *   of --browser-threads): the Compare panel on the pretrained pixel DDPM and LDM, DDIM-N,
 *   DPM-Solver++-N and DDPM-1000 (the models alone); unless --no-page, the Sampling panel on each
 *   (recorder and live frames on) and training steps/s per preset in the page (./bench-page.ts).
 *   The ratios then include the page against Node, the recorder's cost and threads against 1; the
 *   headline (`--json`'s `headline`) is the LDM against the pixel model for the shipped pair.
 *   Quality against model evaluations (./bench-evaluations.ts, `npm run eval:steps`' code): the Compare
 *   panel's configurations on the pretrained LDM, N = --eval-n (50; 0 leaves them out) per configuration.
 * Prints a markdown table and the ratios, all from this one run; `--json FILE` writes every case.
 * Quality of the pretrained models at their headline settings comes from `npm run eval`.
 *
 *   npm run bench -- [--batch 16] [--sample-batch 8] [--reps 3] [--steps 20] [--ddpm-steps 1000] [--no-cpu]
 *                    [--backends webgpu,webgl,wasm] [--browser-batch 4] [--browser-reps 2] [--no-browser] [--no-node]
 *                    [--cases ddim-20,dpmpp-20,ddpm-1000 (browser)] [--dist dist] [--port 4181] [--json out.json]
 *                    [--browser-threads 1,2] [--no-page] [--page-train-steps 30] [--pretrained-only]
 *                    [--eval-n 50] [--eval-guidance 1.3] [--eval-families ddim,dpmpp,adaptive,early-stop,student] [--eval-seed 0]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchHeadline, headlineLines } from './bench-headline';
import { cpus, platform, release, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend, nodeWasmThreadsInfo } from '../backends/node';
import { buildModel, setupStats } from '../models/factory';
import { Trainer } from '../engine/trainer';
import { sampleFrames } from '../sampling/sample';
import { measurePeak } from '../eval/peak-memory';
import { makeSchedule } from '../diffusion';
import { DEFAULT_SAMPLER, samplerStepsLabel, type SamplerKind } from '../diffusion/config';
import { median } from '../eval/stats';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../models/setup/model-setup';
import { ProgressBar } from './progress';
import { presetAttention } from '../models/setup/model-setup';
import { parseArgs, UsageError } from './args';
import { benchInBrowser, MODEL_NAMES as PRETRAINED_NAMES } from './bench-compare';
import { loadModel } from '../io/model-files';
import { defaultModelDir, readDir } from './sampling-options';
import type { DiffusionModel } from '../models/diffusion-model';
import { benchTable, pageLines, parseCases, parseThreads, ratioLines, type BenchCase } from './bench-table';
import { BENCH_EVALUATIONS_DEFAULTS, benchEvaluations, evaluationsTable, type BenchEvaluations } from './bench-evaluations';

/** Each preset as the Model panel starts it: with its own attention default. */
const preset = (setup: ModelSetup): ModelSetup => ({ ...setup, attention: presetAttention(setup) });

const MODELS: { name: string; setup: ModelSetup }[] = [
  { name: 'pixel tiny', setup: preset({ ...DEFAULT_MODEL_SETUP, preset: 'tiny' }) },
  { name: 'pixel small', setup: preset({ ...DEFAULT_MODEL_SETUP, preset: 'small' }) },
  { name: 'pixel base', setup: preset({ ...DEFAULT_MODEL_SETUP, preset: 'base' }) },
  { name: 'LDM tiny (ae-tiny + latent-tiny)', setup: preset({ ...DEFAULT_MODEL_SETUP, kind: 'latent', latent: { autoencoder: 'ae-tiny', latentChannels: 4, denoiser: 'latent-tiny', klWeight: 1e-5 } }) },
  { name: 'LDM small (ae-small + latent-small)', setup: preset({ ...DEFAULT_MODEL_SETUP, kind: 'latent', latent: { autoencoder: 'ae-small', latentChannels: 4, denoiser: 'latent-small', klWeight: 1e-5 } }) },
];

async function benchTraining(name: string, setup: ModelSetup, batch: number, reps: number): Promise<BenchCase> {
  const model = buildModel(setup, 0);
  model.latent = { shift: 0, scale: 1 };
  const trainer = new Trainer({ model, schedule: makeSchedule(setup.schedule), prediction: setup.prediction, learningRate: 1e-4, seed: 0 });
  const images = new Float32Array(batch * 784).map((_, i) => Math.sin(i) * 0.9);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const shape: [number, number, number, number] = [batch, 28, 28, 1];
  const times: number[] = [];
  const bar = new ProgressBar(`train ${name}`, reps + 1);
  let peak = 0;
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const step = () => trainer.trainStep(images, shape, labels);
    const { loss, itemLosses } = r === 0 ? await measurePeak(step, (b) => (peak = b)) : step();
    await loss.data();
    tf.dispose([loss, itemLosses]);
    if (r > 0) times.push(performance.now() - t0); // step 0 warms up kernels and creates Adam's slots
    bar.update(r + 1);
  }
  trainer.dispose();
  model.dispose();
  const ms = median(times);
  return { where: 'node', backend: tf.getBackend(), kind: 'train', model: name, batch, msPerStep: ms, stepsPerSec: 1000 / ms, peakBytes: peak, flopsPerImage: setupStats(setup).flopsPerStep };
}

const MIN_TIMED_RUNS = 3;
const MAX_TIMED_RUNS = 7;
const MIN_TIMED_MS = 3000;
const LONG_RUN_MS = 20_000;

async function benchSampling(name: string, setup: ModelSetup, batch: number, steps: number, sampler: SamplerKind = 'ddim'): Promise<BenchCase> {
  const model = buildModel(setup, 0);
  model.latent = { shift: 0, scale: 1 };
  return timeSampling(name, model, setup, batch, steps, sampler);
}

/** The pretrained pixel model or LDM (public/models), as the page's Compare panel samples it: guidance 1. */
async function benchPretrainedSampling(kind: 'pixel' | 'latent', batch: number, steps: number): Promise<BenchCase> {
  const { modelJson, weightsBin } = await readDir(defaultModelDir(kind), 'public/models', `pretrained ${kind} model`);
  const { model, info } = loadModel(modelJson, weightsBin);
  return timeSampling(PRETRAINED_NAMES[kind], model, info.setup, batch, steps, 'ddim');
}

/** Times DDIM / DPM-Solver++ / DDPM sampling of `model` (disposed at the end): a warm-up with the peak memory, then the median of several runs. */
async function timeSampling(name: string, model: DiffusionModel, setup: ModelSetup, batch: number, steps: number, sampler: SamplerKind): Promise<BenchCase> {
  const schedule = makeSchedule(setup.schedule);
  const request = { ...DEFAULT_SAMPLER, kind: sampler, steps, numImages: batch, seed: 0, digit: null, guidance: 1 };
  let peak = 0;
  let runs = 0;
  const run = async (measure: boolean) => {
    const what = measure ? 'warm-up' : `timed run ${++runs}`;
    const bar = new ProgressBar(`sample ${name} ${samplerStepsLabel(sampler, steps)}, ${what}`, steps);
    const frames = sampleFrames(model, schedule, setup.prediction, request, false);
    for (let i = 0; ; i++) {
      const result = measure && i === 0 ? await measurePeak(() => frames.next(), (b) => (peak = b)) : frames.next();
      if (result.done) break;
      bar.update(i + 1);
      if (result.value.index === result.value.total - 1) {
        const images = model.decode(result.value.xt);
        await images.data();
        images.dispose();
      }
    }
  };
  await run(true); // warm-up and peak memory
  // Timed runs: at least one, then more until MIN_TIMED_RUNS and MIN_TIMED_MS are both reached, or
  // until LONG_RUN_MS (DDPM-1000: one run is long enough). Single runs are noisy: the median is reported.
  const times: number[] = [];
  let total = 0;
  do {
    const t0 = performance.now();
    await run(false);
    times.push(performance.now() - t0);
    total += times[times.length - 1];
  } while (total < LONG_RUN_MS && times.length < MAX_TIMED_RUNS && (times.length < MIN_TIMED_RUNS || total < MIN_TIMED_MS));
  const ms = median(times);
  model.dispose();
  const stats = setupStats(setup);
  return {
    where: 'node', backend: tf.getBackend(), kind: 'sample', sampler, model: name, batch, steps, msPerImage: ms / batch, imagesPerSec: (1000 * batch) / ms, peakBytes: peak,
    flopsPerImage: stats.flopsPerStep * steps + stats.decodeFlops,
  };
}

async function benchNode(args: { batch: number; 'sample-batch': number; reps: number; steps: number; 'ddpm-steps': number; 'no-cpu': boolean; 'no-browser': boolean; 'browser-batch': number; 'pretrained-only': boolean }): Promise<BenchCase[]> {
  const sampleBatch = args['sample-batch'];
  if (!Number.isInteger(sampleBatch) || sampleBatch < 1 || sampleBatch > 256) {
    throw new UsageError(`--sample-batch must be an integer from 1 to 256, got ${sampleBatch}`);
  }
  await initNodeBackend('wasm');
  const cases: BenchCase[] = [];
  // --pretrained-only: the shipped pair alone (the headline and the page against Node).
  const presets = args['pretrained-only'] ? [] : MODELS;
  for (const { name, setup } of presets) cases.push(await benchTraining(name, setup, args.batch, args.reps));
  for (const { name, setup } of presets) cases.push(await benchSampling(name, setup, sampleBatch, args.steps));
  for (const { name, setup } of presets.filter((m) => m.name === 'pixel small' || m.name.startsWith('LDM small'))) {
    cases.push(await benchSampling(name, setup, sampleBatch, args.steps, 'dpmpp'));
    cases.push(await benchSampling(name, setup, sampleBatch, args['ddpm-steps'], 'ddpm'));
  }
  // The shipped pretrained pair (the headline), at Node's batch and at the page's (the page-against-Node ratio).
  const batches = new Set([sampleBatch, ...(args['no-browser'] ? [] : [args['browser-batch']])]);
  for (const batch of batches) for (const kind of ['pixel', 'latent'] as const) cases.push(await benchPretrainedSampling(kind, batch, args.steps));
  if (!args['no-cpu'] && !args['pretrained-only']) {
    // The cpu backend (tfjs's JS kernels) is far slower than wasm: only the tiny preset, one timed step.
    await initNodeBackend('cpu');
    for (const { name, setup } of MODELS.filter((m) => m.name === 'pixel tiny')) cases.push(await benchTraining(name, setup, args.batch, 1));
  }
  return cases;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    batch: 16, 'sample-batch': 8, reps: 3, steps: 20, 'ddpm-steps': 1000, 'no-cpu': false,
    backends: 'webgpu,webgl,wasm', 'browser-batch': 4, 'browser-reps': 2, 'no-browser': false, 'no-node': false, port: 4181, dist: 'dist', cases: '', json: '',
    'browser-threads': '', 'no-page': false, 'page-train-steps': 30, 'pretrained-only': false,
    ...BENCH_EVALUATIONS_DEFAULTS,
  });
  const started = new Date();
  const cases: BenchCase[] = args['no-node'] ? [] : await benchNode(args);
  if (args['eval-n'] > 0) await initNodeBackend('wasm');
  const evaluations: BenchEvaluations | null = await benchEvaluations(args, (line) => console.error(line));
  let browser = { notes: [] as string[], browser: '' };
  if (!args['no-browser']) {
    const steps = args.steps;
    const result = await benchInBrowser({
      backends: args.backends.split(',').filter((b) => b !== ''),
      cases: args.cases ? parseCases(args.cases) : [{ sampler: 'ddim', steps }, { sampler: 'dpmpp', steps }, { sampler: 'ddpm', steps: args['ddpm-steps'] }],
      batch: args['browser-batch'],
      reps: args['browser-reps'],
      port: args.port,
      dist: args.dist,
      threads: parseThreads(args['browser-threads']),
      page: args['no-page'] ? undefined : { sampling: true, training: true, trainBatch: args.batch, trainSteps: args['page-train-steps'] },
    });
    cases.push(...result.cases);
    browser = result;
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}`;
  console.log(`\nDiffusion Playground bench, ${started.toISOString()}, ${machine}; Node ${process.version}, tfjs ${tf.version.tfjs}${browser.browser ? `, ${browser.browser}` : ''}\n`);
  console.log(benchTable(cases));
  const nodeThreads = nodeWasmThreadsInfo()?.actual ?? 1;
  console.log(`\n${[...ratioLines(cases, args.steps, args['ddpm-steps']), ...pageLines(cases, args.steps, nodeThreads), ...browser.notes].join('\n')}`);
  const headline = benchHeadline(cases, PRETRAINED_NAMES, args.steps, join(process.cwd(), 'public', 'models'));
  console.log(`\n${headlineLines(headline).join('\n')}`);
  if (evaluations) console.log(`\n${evaluationsTable(evaluations)}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ date: started.toISOString(), machine, node: process.version, tfjs: tf.version.tfjs, browser: browser.browser, args, notes: browser.notes, headline, cases, evaluations }, null, 2));
}

void main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
