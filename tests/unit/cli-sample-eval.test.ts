/**
 * `npm run sample` and `npm run eval` (src/cli/sample.ts, eval.ts) run in-process on tiny untrained
 * models saved to a temp directory: same seed → same bytes (pixel and latent, EMA weights), .npy and
 * PNG outputs, no tensor left behind, a usage message and exit code 2 for each bad option, and the
 * evaluation's report (table and JSON), where the held-out digits scored as samples equal the floor.
 * No figure of an untrained model is asserted, only what holds for any weights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { buildModel } from '../../src/models/factory';
import { loadModel, saveModel } from '../../src/io/model-files';
import { generateImages } from '../../src/sampling/generate';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SAMPLER } from '../../src/diffusion/config';
import { loadFromDir, saveToDir } from '../../src/io/weights-file-node';
import { saveClassifier } from '../../src/io/classifier-files';
import { createClassifier } from '../../src/models/classifier';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import { loadMnistNode } from '../../src/data/load-node';
import { realDigits, scoreImages } from '../../src/eval/evaluate';
import { sampleMain } from '../../src/cli/sample';
import type { ToolIO } from '../../src/cli/sampling-options';
import { evalMain } from '../../src/cli/eval';
import { readNpy, writeNpy } from '../../src/cli/npy';

let dir: string;
const pixelDir = () => join(dir, 'pixel');
const latentDir = () => join(dir, 'latent');
const classifierDir = () => join(dir, 'classifier');

/** Captures what a tool writes. */
function capture(): ToolIO & { text: () => { out: string; err: string } } {
  let out = '';
  let err = '';
  const stream = (add: (s: string) => void) => ({ isTTY: false, write: (s: string) => (add(s), true) }) as unknown as NodeJS.WriteStream;
  return { out: stream((s) => (out += s)), err: stream((s) => (err += s)), text: () => ({ out, err }) };
}

async function run(main: typeof sampleMain, argv: string[]) {
  const io = capture();
  const code = await main(argv, io);
  return { code, ...io.text() };
}

async function saveDiffusion(setup: ModelSetup, path: string, seed: number): Promise<void> {
  const model = buildModel(setup, seed);
  if (setup.kind === 'latent') model.latent = { shift: 0.1, scale: 1.5 };
  // The decoder's zero-initialised output layer would decode every latent to one grey: give it values.
  for (const v of model.autoencoder?.weights.values() ?? []) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', seed))));
  // Give the EMA weights their own values, so that sampling from them (not the raw weights) shows.
  if (model.ema) for (const v of model.ema.shadow.values()) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.02, 'float32', seed))));
  await saveToDir(path, await saveModel(model, { setup, latent: model.latent, autoencoderSteps: setup.kind === 'latent' ? 1 : 0, denoiserSteps: 1 }));
  model.dispose();
}

beforeAll(async () => {
  await initNodeBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'cli-sample-eval-'));
  await saveDiffusion({ ...DEFAULT_MODEL_SETUP, emaDecay: 0.9 }, pixelDir(), 1);
  await saveDiffusion({ ...DEFAULT_MODEL_SETUP, kind: 'latent' }, latentDir(), 2);
  const classifier = createClassifier(3);
  await saveToDir(classifierDir(), await saveClassifier(classifier, { steps: 0, heldOutAccuracy: 0.1 }));
  classifier.dispose();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sampleArgs = (model: 'pixel' | 'latent', out: string, extra: string[] = []) => [
  '--model', model, '--model-dir', model === 'pixel' ? pixelDir() : latentDir(), '--sampler', 'ddim', '--steps', '3', '--n', '4', '--seed', '7', '--out', join(dir, out), ...extra,
];

describe('npm run sample', () => {
  it('writes the same uint8 [N, 28, 28] bytes for the same seed, other bytes for another, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    for (const model of ['pixel', 'latent'] as const) {
      const a = await run(sampleMain, sampleArgs(model, `${model}-a.npy`));
      expect(a.code).toBe(0);
      expect(a.out).toMatch(/wrote .*: 4 images .*DDIM-3/);
      expect(a.out).toMatch(/ms\/image/);
      expect(a.err).toMatch(/steps\/s .* left/);
      await run(sampleMain, sampleArgs(model, `${model}-b.npy`));
      await run(sampleMain, sampleArgs(model, `${model}-c.npy`, ['--seed', '8']));
      const [x, y, z] = await Promise.all(['a', 'b', 'c'].map((k) => readNpy(join(dir, `${model}-${k}.npy`))));
      expect(x.dtype).toBe('uint8');
      expect(x.shape).toEqual([4, 28, 28]);
      expect(Buffer.from(x.data).equals(Buffer.from(y.data))).toBe(true);
      expect(Buffer.from(x.data).equals(Buffer.from(z.data))).toBe(false);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples in batches (the first batch is the single-batch run), with every sampler, and writes PNG grids', async () => {
    expect((await run(sampleMain, sampleArgs('pixel', 'one.npy', ['--n', '10', '--batch', '10']))).code).toBe(0);
    expect((await run(sampleMain, sampleArgs('pixel', 'two.npy', ['--n', '12', '--batch', '10']))).code).toBe(0);
    const [one, two] = await Promise.all([readNpy(join(dir, 'one.npy')), readNpy(join(dir, 'two.npy'))]);
    expect(two.shape).toEqual([12, 28, 28]);
    expect(Buffer.from(two.data.subarray(0, 10 * 784)).equals(Buffer.from(one.data))).toBe(true);
    for (const sampler of ['ddpm', 'dpmpp']) {
      expect((await run(sampleMain, sampleArgs('latent', `${sampler}.npy`, ['--sampler', sampler, '--class', '3', '--guidance', '2']))).code).toBe(0);
    }
    // The CLI samples with the EMA weights: the raw weights give other images.
    const { modelJson, weightsBin } = await loadFromDir(pixelDir());
    const { model, info } = loadModel(modelJson, weightsBin);
    const request = { ...DEFAULT_SAMPLER, kind: 'ddim' as const, steps: 3, numImages: 10, seed: 7, digit: null, batch: 10 };
    const schedule = makeSchedule(info.setup.schedule);
    const withEma = await generateImages(model, schedule, info.setup.prediction, request);
    model.ema?.dispose();
    model.ema = null;
    const raw = await generateImages(model, schedule, info.setup.prediction, request);
    model.dispose();
    expect(Buffer.from(withEma).equals(Buffer.from(one.data))).toBe(true);
    expect(Buffer.from(raw).equals(Buffer.from(one.data))).toBe(false);
    expect((await run(sampleMain, sampleArgs('pixel', 'grid.png', ['--n', '12', '--batch', '10']))).code).toBe(0);
    const png = await readFile(join(dir, 'grid.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([10 * 28 + 9 * 2, 2 * 28 + 2]);
  });

  it('stops at a bad option with a usage message naming it and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--model', 'voxel', '--out', 'x.npy'], /unknown --model 'voxel'/],
      [sampleArgs('pixel', 'x.npy', ['--sampler', 'euler']), /unknown --sampler 'euler'/],
      [sampleArgs('pixel', 'x.npy', ['--steps', '0']), /--steps must be an integer in 1\.\.1000, got 0/],
      [sampleArgs('pixel', 'x.npy', ['--steps', '2.5']), /--steps must be an integer/],
      [['--model', 'pixel', '--model-dir', pixelDir()], /--out FILE\.npy or FILE\.png is required/],
      [sampleArgs('pixel', 'x.jpg'), /--out must end in \.npy or \.png/],
      [sampleArgs('pixel', 'x.npy', ['--class', '10']), /--class must be an integer in 0\.\.9, got 10/],
      [sampleArgs('pixel', 'x.npy', ['--model-dir', join(dir, 'nothing')]), /--model-dir: no pixel model at .*nothing/],
      [sampleArgs('pixel', 'x.npy', ['--model-dir', latentDir()]), /--model pixel, but .* holds a latent model/],
      [sampleArgs('pixel', 'x.npy', ['--guidance', '-1']), /--guidance must be a number ≥ 0/],
      [sampleArgs('pixel', 'x.npy', ['--n', '25', '--batch', '8']), /--batch must be a multiple of 10/],
      [sampleArgs('pixel', 'x.npy', ['--temperature', '2']), /unknown option --temperature/],
      [sampleArgs('pixel', 'x.npy', ['--spacing', 'uniform']), /unknown --spacing 'uniform'/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(sampleMain, argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/usage: npm run sample --|run npm run pretrain/);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('npm run eval', () => {
  const common = () => ['--classifier-dir', classifierDir(), '--reference', '200', '--kid-subsets', '2', '--kid-subset-size', '100'];

  it('scores the classifier without leaking tensors', async () => {
    const real = realDigits(await loadMnistNode(), 30, 10);
    const { classifier } = { classifier: createClassifier(0) };
    const before = tf.memory().numTensors;
    const scores = await scoreImages(classifier, real.floor.pixels, real.floor.n, 8);
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
    expect(scores.features.data.length).toBe(30 * 128);
    expect(scores.histogram.reduce((a, b) => a + b, 0)).toBe(30);
    expect(scores.meanConfidence).toBeGreaterThanOrEqual(0.1);
    expect(scores.meanConfidence).toBeLessThanOrEqual(1);
  });

  it('scores held-out digits given as samples exactly like the floor (FD / floor = 1), in JSON', async () => {
    const real = realDigits(await loadMnistNode(), 40);
    const path = join(dir, 'held-out.npy');
    await writeNpy(path, real.floor.pixels, [40, 28, 28]);
    const r = await run(evalMain, ['--samples', path, '--json', ...common()]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.reference).toEqual({ split: 'train', n: 200 });
    expect(report.source).toMatchObject({ kind: 'npy', path, range: '0..255' });
    expect(report.samples).toEqual(report.floor);
    expect(report.fdRatio).toBe(1);
    expect(report.floor.n).toBe(40);
    expect(report.floor.kid.subsets).toBe(2);
    expect(report.floor.labelEntropy).toBeLessThanOrEqual(Math.log(10) + 1e-12);
  });

  it('generates on the fly and prints the table; --real-only scores the floor alone', async () => {
    const gen = ['--model', 'pixel', '--model-dir', pixelDir(), '--sampler', 'ddim', '--steps', '2', '--n', '20', '--batch', '10', '--seed', '1'];
    const table = await run(evalMain, [...gen, ...common()]);
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/\| set \| N \| mean confidence \| label entropy \(nats\) \| FD \| KID \| FD \/ floor \|/);
    expect(table.out).toMatch(/\| samples \| 20 \| /);
    expect(table.out).toMatch(/\| held-out real \(floor\) \| 20 \| .* \| 1\.00 \|/);
    expect(table.out).toMatch(/label histogram/);
    expect(table.err).toMatch(/ms\/image/);
    const json = await run(evalMain, [...gen, '--json', ...common()]);
    const report = JSON.parse(json.out);
    expect(report.source).toMatchObject({ kind: 'generated', model: 'pixel', sampler: 'DDIM-2', seed: 1 });
    expect(report.fdRatio).toBeCloseTo(report.samples.fd / report.floor.fd, 12);
    const real = await run(evalMain, ['--real-only', '--n', '30', '--json', ...common()]);
    expect(JSON.parse(real.out)).toMatchObject({ samples: null, fdRatio: null, floor: { n: 30 } });
  });

  it('stops at bad options with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [common(), /say what to score/],
      [['--samples', 'x.npy', '--model', 'pixel', ...common()], /--model is a sampling option/],
      [['--samples', 'x.npy', '--real-only', ...common()], /exclude each other/],
      [['--real-only', '--n', '5000', ...common()], /--n must be an integer in 2\.\.1000/],
      [['--real-only', '--classifier-dir', join(dir, 'none')], /--classifier-dir: no classifier at/],
      [['--model', 'pixel', '--steps', '-3', ...common()], /--steps must be an integer/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(evalMain, argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    const missing = await run(evalMain, ['--samples', join(dir, 'missing.npy'), ...common()]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/missing\.npy/);
  });
});
