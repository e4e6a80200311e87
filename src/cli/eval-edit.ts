/**
 * `npm run eval:edit`: the Edit panel's targets (issue 21), measured on the held-out digits with the
 * evaluation classifier (public/models/classifier):
 *
 * - inpainting the lower half (rows 14–27) of the first N held-out digits, class unknown (the
 *   unconditional model: the null label, so guidance has no effect), DDIM by default: how often the
 *   classifier recognises the true label in the completions, against the upper half alone with the
 *   lower half blank; how much the known half changes (mean |Δ| per pixel in 1/255 units); for the
 *   LDM also the autoencoder's reconstruction error on the same digits;
 * - SDEdit of the same digits at each strength: how often the classifier's label of the edit is its
 *   label of the input (and the true label), with t0 and ᾱ_t0.
 *
 *   npm run eval:edit -- --model pixel|latent [--n 500] [--steps 50] [--sampler ddim] [--batch 50]
 *                        [--strengths 0.5,0.8] [--tasks reference,inpaint,sdedit,sdedit-info,speed] [--jump 10 --resample 1]
 *                        [--method replacement|ddnm|dps] [--zeta 1] [--eta 0] [--seed 0] [--json FILE]
 * (--resample > 1: inpainting with RePaint's resampling / DDNM+'s time travel, jump length --jump;
 * --method: how the known half is kept, src/sampling/edit-config.ts; --zeta: DPS's step ζ; --eta:
 * DDIM's η.)
 *
 * `reference` completes the lower half without diffusion: with the lower half of the training
 * digit nearest on the upper half (src/sampling/edit-knn.ts), the ceiling a completion that follows
 * the upper half can expect. `sdedit-info` measures what x_t0 still says of the class
 * (src/sampling/edit-sdedit-information.ts): the classifier on the model's x̂0 at t0, and the label
 * the training digits' posterior gives x_t0 (pixel model).
 *
 * `speed` times an edit of 4 images (SDEdit at full strength, inpainting) against a sampling run of
 * 4 images with the same sampler and steps (digit 3, guidance 1.3; median of 3 after a warm-up).
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend, machineWasmThreads, nodeWasmThreadsInfo, setDefaultWasmThreads } from '../backends/node';
import { createSampler, repaintSchedule, sdeditPlan } from '../diffusion';
import { DEFAULT_SAMPLER, samplerStepsLabel, type SamplerKind } from '../diffusion/config';
import { loadMnistNode } from '../data/load-node';
import { PIXEL_TO_UNIT, splitTrainHeldOut, unitToPixel } from '../data/mnist';
import type { Classifier } from '../models/classifier';
import { editImages } from '../sampling/edit-images';
import { nearestCompletion } from '../sampling/edit-knn';
import { noisedPosteriorLabels, sdeditStartEstimates } from '../sampling/edit-sdedit-information';
import { DEFAULT_DPS_SCALE, DEFAULT_INPAINT_METHOD, INPAINT_METHODS, type EditRequest, type InpaintMethodKind } from '../sampling/edit-config';
import { batchSeed, generateImages } from '../sampling/generate';
import { UsageError } from './args';
import { ProgressBar } from './progress';
import { defaultModelDir, isMainModule, loadClassifierDir, loadSpecModel, parseOptions, runTool, samplingSpec, SAMPLING_DEFAULTS, type LoadedModel, type ToolIO } from './sampling-options';

const USAGE = 'npm run eval:edit -- --model pixel|latent [--n 500] [--steps 50] [--sampler ddim] [--batch 50] [--strengths 0.5,0.8] [--tasks reference,inpaint,sdedit,sdedit-info,speed] [--jump 10 --resample 1] [--method replacement|ddnm|dps] [--zeta 1] [--eta 0] [--seed 0] [--json FILE]';
const DEFAULTS = { model: 'pixel', n: 500, steps: 50, sampler: 'ddim', batch: 50, strengths: '0.5,0.8', tasks: 'inpaint,sdedit', seed: 0, json: '', jump: 10, resample: 1, method: DEFAULT_INPAINT_METHOD as string, zeta: DEFAULT_DPS_SCALE, eta: 0 };
const PIXELS = 784;
const HALF = 392;

/** The classifier's label of each uint8 image. */
async function classify(classifier: Classifier, pixels: Uint8Array, n: number): Promise<Int32Array> {
  const labels = new Int32Array(n);
  for (let start = 0; start < n; start += 250) {
    const b = Math.min(250, n - start);
    const input = Float32Array.from(pixels.subarray(start * PIXELS, (start + b) * PIXELS), (p) => PIXEL_TO_UNIT[p]);
    const arg = tf.tidy(() => tf.argMax(classifier.apply(tf.tensor4d(input, [b, 28, 28, 1])).logits, 1));
    labels.set(await arg.data(), start);
    arg.dispose();
  }
  return labels;
}

const agree = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) k++;
  return k / a.length;
};

/** Mean |a − b| over the first `rows` rows of every image (default: the upper half), in 1/255 units. */
function knownHalfChange(a: Uint8Array, b: Uint8Array, n: number, rows = 14): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < rows * 28; j++) s += Math.abs(a[i * PIXELS + j] - b[i * PIXELS + j]);
  return s / (n * rows * 28);
}

/** Median wall time (ms) of `repeats` runs of f after one warm-up run. */
async function medianMs(f: () => Promise<unknown>, repeats = 3): Promise<number> {
  await f();
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return times.sort((x, y) => x - y)[Math.floor(repeats / 2)];
}

/** Runs an edit over all digits in batches, with one progress bar. */
async function editAll(loaded: LoadedModel, base: EditRequest, inputs: Uint8Array, n: number, batch: number, bar: ProgressBar, offset: { done: number }): Promise<Uint8Array> {
  const out = new Uint8Array(n * PIXELS);
  for (let k = 0, start = 0; start < n; k++, start += batch) {
    const b = Math.min(batch, n - start);
    const input = Float32Array.from(inputs.subarray(start * PIXELS, (start + b) * PIXELS), (p) => PIXEL_TO_UNIT[p]);
    const base0 = offset.done;
    const images = await editImages(loaded.model, loaded.schedule, loaded.prediction, { ...base, input, numImages: b, seed: batchSeed(base.seed, k) }, (done) => {
      offset.done = base0 + done;
      bar.update(offset.done);
    });
    out.set(images, start * PIXELS);
  }
  return out;
}

export async function evalEditMain(argv: string[], io: ToolIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  return runTool('eval:edit', io.err, async () => {
    const args = parseOptions(argv, DEFAULTS, USAGE);
    const spec = samplingSpec({ ...SAMPLING_DEFAULTS, model: args.model, steps: args.steps, sampler: args.sampler, n: args.n, batch: args.batch, seed: args.seed, eta: args.eta }, USAGE);
    if (!(INPAINT_METHODS as readonly string[]).includes(args.method)) throw new UsageError(`unknown --method '${args.method}' (expected ${INPAINT_METHODS.join(', ')})\nusage: ${USAGE}`);
    if (!(Number.isFinite(args.zeta) && args.zeta >= 0)) throw new UsageError(`--zeta must be a number ≥ 0, got ${args.zeta}\nusage: ${USAGE}`);
    const strengths = args.strengths.split(',').filter(Boolean).map(Number);
    if (strengths.some((s) => !(s >= 0 && s <= 1))) throw new UsageError(`--strengths must be numbers in [0, 1], got ${args.strengths}\nusage: ${USAGE}`);
    const tasks = new Set(args.tasks.split(','));
    await initNodeBackend('wasm');
    io.err.write(`wasm backend: ${nodeWasmThreadsInfo()?.actual ?? 1} thread(s)\n`);
    const loaded = await loadSpecModel(spec, USAGE);
    const { classifier, heldOutAccuracy } = await loadClassifierDir(defaultModelDir('classifier'));
    try {
      const data = await loadMnistNode();
      const heldOut = splitTrainHeldOut(data).heldOut.subarray(0, args.n);
      const n = heldOut.length;
      const digits = new Uint8Array(n * PIXELS);
      const truth = new Int32Array(n);
      heldOut.forEach((idx, i) => {
        digits.set(data.images.subarray(idx * PIXELS, (idx + 1) * PIXELS), i * PIXELS);
        truth[i] = data.labels[idx];
      });
      const base: EditRequest = {
        ...DEFAULT_SAMPLER,
        kind: args.sampler as SamplerKind,
        steps: args.steps,
        eta: args.eta,
        guidance: 1,
        numImages: 1,
        seed: args.seed,
        digit: null,
        useEma: true,
        mode: 'inpaint',
        input: new Float32Array(PIXELS),
        mask: Float32Array.from({ length: PIXELS }, (_, i) => (i < HALF ? 1 : 0)),
        strength: 0,
        jump: args.jump,
        resample: args.resample,
        inpaintMethod: args.method as InpaintMethodKind,
        dpsScale: args.zeta,
        interpolation: 'seeds',
        frames: 8,
        input2: null,
        seed2: 0,
        digit2: null,
      };
      const sampler = createSampler(loaded.schedule, { ...base, clipping: 'none' }, loaded.prediction);
      const total = (tasks.has('inpaint') ? Math.ceil(n / args.batch) * repaintSchedule(args.steps, { jump: args.jump, resample: args.resample }).length : 0) + (tasks.has('sdedit') ? strengths.reduce((s, st) => s + Math.ceil(n / args.batch) * sdeditPlan(loaded.schedule, sampler.timesteps, st).steps, 0) : 0);
      const bar = new ProgressBar(`eval:edit ${args.model} ${samplerStepsLabel(base.kind, args.steps)} n=${n}`, total, io.err);
      const offset = { done: 0 };
      const report: Record<string, unknown> = { model: args.model, sampler: samplerStepsLabel(base.kind, args.steps), inpaintMethod: args.method, ...(args.method === 'dps' ? { zeta: args.zeta } : {}), eta: args.eta, resample: args.resample, jump: args.jump, n, seed: args.seed, classUnknown: true, classifierHeldOutAccuracy: heldOutAccuracy };
      const t0 = performance.now();
      const inputLabels = await classify(classifier, digits, n);
      report.classifierOnInputs = agree(inputLabels, truth);
      if (tasks.has('reference')) {
        // The non-diffusion reference: the lower half of the training digit nearest on the upper half.
        const train = splitTrainHeldOut(data).train;
        const trainPixels = new Uint8Array(train.length * PIXELS);
        train.forEach((idx, i) => trainPixels.set(data.images.subarray(idx * PIXELS, (idx + 1) * PIXELS), i * PIXELS));
        const knn = nearestCompletion(digits, n, trainPixels);
        report.reference = {
          trainDigits: train.length,
          nearestUpperHalfCompletionTrueLabel: agree(await classify(classifier, knn.images, n), truth),
          nearestUpperHalfNeighbourLabel: agree(Int32Array.from(knn.neighbours, (j) => data.labels[train[j]]), truth),
        };
      }
      if (tasks.has('inpaint')) {
        const blankLower = digits.slice();
        for (let i = 0; i < n; i++) blankLower.fill(0, i * PIXELS + HALF, (i + 1) * PIXELS);
        // The model sees only the upper half: the lower half of its input is blank too.
        const completions = await editAll(loaded, { ...base, mode: 'inpaint' }, blankLower, n, args.batch, bar, offset);
        const inpaint: Record<string, number> = {
          completionsTrueLabel: agree(await classify(classifier, completions, n), truth),
          upperHalfAloneTrueLabel: agree(await classify(classifier, blankLower, n), truth),
          knownHalfChangePer255: knownHalfChange(completions, digits, n),
          // Rows 0–11: the pixels under latent cells that are wholly kept (an LDM's 4×4-pixel cells).
          keptCellsChangePer255: knownHalfChange(completions, digits, n, 12),
        };
        if (loaded.model.kind === 'latent') {
          const recon = tf.tidy(() => loaded.model.decode(loaded.model.encode(tf.tensor4d(Float32Array.from(digits, (p) => PIXEL_TO_UNIT[p]), [n, 28, 28, 1]))));
          const values = await recon.data();
          recon.dispose();
          const bytes = Uint8Array.from(values, (v) => unitToPixel(v));
          inpaint.reconstructionErrorKnownHalfPer255 = knownHalfChange(bytes, digits, n);
          let s = 0;
          for (let i = 0; i < bytes.length; i++) s += Math.abs(bytes[i] - digits[i]);
          inpaint.reconstructionErrorWholePer255 = s / bytes.length;
        }
        report.inpaintLowerHalf = inpaint;
      }
      if (tasks.has('sdedit')) {
        const rows: Record<string, number>[] = [];
        for (const strength of strengths) {
          const plan = sdeditPlan(loaded.schedule, sampler.timesteps, strength);
          const edits = await editAll(loaded, { ...base, mode: 'sdedit', mask: null, strength }, digits, n, args.batch, bar, offset);
          const labels = await classify(classifier, edits, n);
          rows.push({ strength, t0: plan.t0, alphaBarT0: plan.alphaBar, steps: plan.steps, keepsClassifierLabel: agree(labels, inputLabels), trueLabel: agree(labels, truth) });
        }
        report.sdedit = rows;
      }
      if (tasks.has('sdedit-info')) {
        // What x_t0 still says of the class: the model's x̂0 there, and the training digits' posterior.
        const { train } = splitTrainHeldOut(data);
        const trainUnit = new Float32Array(train.length * PIXELS);
        train.forEach((idx, i) => trainUnit.set(Float32Array.from(data.images.subarray(idx * PIXELS, (idx + 1) * PIXELS), (p) => PIXEL_TO_UNIT[p]), i * PIXELS));
        const trainLabels = Int32Array.from(train, (idx) => data.labels[idx]);
        const rows: Record<string, number>[] = [];
        for (const strength of strengths) {
          const plan = sdeditPlan(loaded.schedule, sampler.timesteps, strength);
          const x0Hat = new Uint8Array(n * PIXELS);
          const xt: Float32Array[] = [];
          for (let k = 0, start = 0; start < n; k++, start += args.batch) {
            const b = Math.min(args.batch, n - start);
            const input = Float32Array.from(digits.subarray(start * PIXELS, (start + b) * PIXELS), (p) => PIXEL_TO_UNIT[p]);
            const est = await sdeditStartEstimates(loaded.model, loaded.schedule, loaded.prediction, { ...base, mode: 'sdedit', mask: null, strength, input, numImages: b, seed: batchSeed(base.seed, k) });
            x0Hat.set(est.x0Hat, start * PIXELS);
            xt.push(est.xt);
          }
          const row: Record<string, number> = { strength, t0: plan.t0, alphaBarT0: plan.alphaBar, x0HatAtT0KeepsClassifierLabel: agree(await classify(classifier, x0Hat, n), inputLabels) };
          if (loaded.model.kind === 'pixel' && !plan.full) {
            const all = new Float32Array(n * PIXELS);
            xt.reduce((at, part) => (all.set(part, at), at + part.length), 0);
            const posterior = noisedPosteriorLabels(all, n, trainUnit, trainLabels, plan.alphaBar);
            row.trainingPosteriorTrueLabel = agree(posterior, truth);
            row.trainingPosteriorKeepsClassifierLabel = agree(posterior, inputLabels);
          }
          rows.push(row);
        }
        report.sdeditInformation = rows;
      }
      if (tasks.has('speed')) {
        // An edit of 4 images against a sampling run of the same size (same sampler, steps, guidance).
        const four = { ...base, numImages: 4, digit: 3, guidance: 1.3, input: Float32Array.from(digits.subarray(0, PIXELS), (p) => PIXEL_TO_UNIT[p]) };
        const sample = await medianMs(() => generateImages(loaded.model, loaded.schedule, loaded.prediction, { ...four, batch: 4 }));
        const sdedit = await medianMs(() => editImages(loaded.model, loaded.schedule, loaded.prediction, { ...four, mode: 'sdedit', mask: null, strength: 1 }));
        const inpaint = await medianMs(() => editImages(loaded.model, loaded.schedule, loaded.prediction, { ...four, mode: 'inpaint' }));
        report.speed = { images: 4, digit: 3, guidance: 1.3, sampleMs: sample, sdeditFullMs: sdedit, inpaintMs: inpaint, sdeditOverSample: sdedit / sample, inpaintOverSample: inpaint / sample };
      }
      report.seconds = (performance.now() - t0) / 1000;
      const text = JSON.stringify(report, null, 2);
      io.out.write(text + '\n');
      if (args.json) await writeFile(args.json, text);
    } finally {
      loaded.model.dispose();
      classifier.dispose();
    }
  });
}

if (isMainModule(import.meta.url)) {
  setDefaultWasmThreads(machineWasmThreads());
  void evalEditMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
