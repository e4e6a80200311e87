/**
 * The Compare panel's engine side: the pretrained pixel DDPM and LDM (tiny stand-ins here, from
 * ./pretrained-fixture.ts, plus an untrained evaluation classifier) measured case by case. Checked:
 * every case gives a row per model with the FLOPs of the models' own formula, a peak that holds at
 * least the weights, the floor FD the CLI's `evaluate` gives at the same N, progress that ends at
 * its total, cancellation, clear refusals of bad settings, and no tensor left behind. A cancel takes
 * effect within one model step wherever it comes (the quality samples and the FD reference's scoring
 * included), and the engine samples right after it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePretrainedFixture, FIXTURE_SETUPS } from './pretrained-fixture';
import { makeNodeEngine } from './engine-helpers';
import { dirReader } from '../../src/io/pretrained-node';
import { initNodeBackend } from '../../src/backends/node';
import { loadMnistNode } from '../../src/data/load-node';
import { CompareSession } from '../../src/engine/compare-run';
import { flopsPerImage, qualityOfCase, sweepCases, timeCase, type CompareModel, type QualityContext } from '../../src/eval/compare';
import { RunCancelled, RunControl } from '../../src/engine/run-control';
import { loadModel } from '../../src/io/model-files';
import { readPretrainedFiles } from '../../src/io/pretrained';
import { generateImages } from '../../src/sampling/generate';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SAMPLER } from '../../src/diffusion/config';
import { setupStats } from '../../src/models/factory';
import { createClassifier } from '../../src/models/classifier';
import { saveClassifier, loadClassifier } from '../../src/io/classifier-files';
import { evaluate, makeReference, realDigits, scoreImages } from '../../src/eval/evaluate';
import type { Classifier } from '../../src/models/classifier';
import type { ModelKind, ModelSetup } from '../../src/models/setup/model-setup';
import { applyCompareMessage, createCompareStore, DEFAULT_COMPARE, estimateCompare, markStopping, pretrainedFlopsPerImage, THOROUGH_COMPARE } from '../../src/state/compare';
import type { CompareSettings } from '../../src/eval/compare-report';
import type { WorkerToPage } from '../../src/protocol/messages';

const REFERENCE = 300;
let root = '';

async function writeClassifier(dir: string): Promise<void> {
  const model = createClassifier(7);
  const { modelJson, weightsBin } = await saveClassifier(model, { steps: 0, heldOutAccuracy: -1 });
  model.dispose();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(weightsBin));
}

function session(messages: WorkerToPage[]) {
  return new CompareSession({ post: (m) => messages.push(m), read: dirReader(root), loadData: () => loadMnistNode() });
}

const settings: CompareSettings = { ...DEFAULT_COMPARE, sampler: 'ddim', steps: 3, batch: 4, reps: 2, qualityImages: 8, referenceDigits: REFERENCE, sweepSteps: [] };

const finished = (s: CompareSession) => s.whenDone();

async function fixtureModel(kind: ModelKind): Promise<CompareModel> {
  const files = await readPretrainedFiles(dirReader(root), kind);
  const { model, info } = loadModel(files.modelJson, files.weightsBin);
  return { kind, model, setup: info.setup, schedule: makeSchedule(info.setup.schedule) };
}

async function fixtureClassifier(): Promise<Classifier> {
  const read = dirReader(root);
  const [json, bin] = await Promise.all([read('classifier/model.json'), read('classifier/weights.bin')]);
  return loadClassifier(JSON.parse(new TextDecoder().decode(json!)), bin!).model;
}

describe('compare: pixel DDPM against LDM', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'compare-'));
    await writePretrainedFixture(root);
    await writeClassifier(join(root, 'classifier'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('measures both models: time, peak memory, FLOPs and quality with its floor; frees every tensor', async () => {
    const messages: WorkerToPage[] = [];
    const s = session(messages);
    const before = tf.memory().numTensors;
    await s.start(settings); // returns at once: the run goes on, like a sampling run
    await finished(s);
    expect(tf.memory().numTensors).toBe(before);
    const states = messages.filter((m) => m.type === 'compare/state').map((m) => (m.type === 'compare/state' ? m.state : ''));
    expect(states).toEqual(['running', 'done']);
    const rows = messages.flatMap((m) => (m.type === 'compare/row' ? [m.row] : []));
    expect(rows.map((r) => r.model)).toEqual(['pixel', 'latent']);
    for (const row of rows) {
      const setup = FIXTURE_SETUPS[row.model];
      expect(row).toMatchObject({ sampler: 'ddim', steps: 3, batch: 4, sweep: false });
      expect(row.flopsPerImage).toBe(setupStats(setup).flopsPerStep * 3 + setupStats(setup).decodeFlops);
      expect(row.msPerImage).toBeGreaterThan(0);
      expect(row.imagesPerSec).toBeCloseTo(1000 / row.msPerImage, 9);
      // The weights (and the EMA copy sampling uses) are live throughout.
      expect(row.peakBytes).toBeGreaterThan(4 * setupStats(setup).paramCount);
      expect(row.quality).not.toBeNull();
      expect(row.quality!.n).toBe(8);
      expect(row.quality!.meanConfidence).toBeGreaterThan(0);
      expect(row.quality!.meanConfidence).toBeLessThanOrEqual(1);
      expect(Number.isFinite(row.quality!.fd)).toBe(true);
    }
    // The floor is the CLI evaluation's floor at the same N and reference.
    const files = { json: await dirReader(root)('classifier/model.json'), bin: await dirReader(root)('classifier/weights.bin') };
    const { model: classifier } = loadClassifier(JSON.parse(new TextDecoder().decode(files.json!)), files.bin!);
    const report = await evaluate(classifier, await loadMnistNode(), null, 8, { referenceCount: REFERENCE });
    classifier.dispose();
    for (const row of rows) expect(row.quality!.floorFd).toBeCloseTo(report.floor.fd, 6);
    const progress = messages.flatMap((m) => (m.type === 'compare/progress' ? [m] : []));
    // The FD reference is scored first, with progress in digits, and only once per session.
    const digits = progress.filter((m) => m.unit === 'digits');
    expect(digits[0]).toMatchObject({ done: 0, total: REFERENCE });
    expect(digits.at(-1)).toMatchObject({ done: REFERENCE, total: REFERENCE });
    for (const row of rows) expect(row.quality!.referenceDigits).toBe(REFERENCE);
    messages.length = 0;
    await s.start({ ...settings, reps: 1 });
    await finished(s);
    expect(messages.filter((m) => m.type === 'compare/progress' && m.unit === 'digits')).toEqual([]);
    const again = messages.flatMap((m) => (m.type === 'compare/row' ? [m.row] : []));
    expect(again.map((r) => r.quality!.floorFd)).toEqual(rows.map((r) => r.quality!.floorFd));
    expect(tf.memory().numTensors).toBe(before);
    const last = progress[progress.length - 1];
    expect(last.done).toBe(last.total);
    // 2 models × 3 steps × (warm-up + 2 reps + 2 quality batches of 4).
    expect(last.total).toBe(2 * 3 * (1 + 2 + 2));
  });

  it('profiles the peak over a few steps of the warm-up, and gets the peak of the whole batch', async () => {
    for (const kind of ['pixel', 'latent'] as const) {
      const files = await readPretrainedFiles(dirReader(root), kind);
      const { model, info } = loadModel(files.modelJson, files.weightsBin);
      const m = { kind, model, setup: info.setup, schedule: makeSchedule(info.setup.schedule) };
      for (const sampler of ['ddpm', 'ddim', 'dpmpp'] as const) {
        const s = { ...settings, sampler, steps: 6, reps: 1 };
        const req = { ...DEFAULT_SAMPLER, kind: sampler, steps: 6, guidance: s.guidance, seed: s.seed, digit: null, numImages: s.batch, batch: s.batch };
        const whole = await tf.profile(async () => {
          await generateImages(m.model, m.schedule, m.setup.prediction, req);
          return [];
        });
        const before = tf.memory().numTensors;
        const { peakBytes } = await timeCase(m, { sampler, steps: 6 }, s);
        expect(tf.memory().numTensors).toBe(before);
        expect(peakBytes, `${kind} ${sampler}`).toBe(whole.peakBytes);
      }
      model.dispose();
    }
  });

  it('with guidance, counts two denoiser passes per step; the sweep covers every sampler', async () => {
    expect(flopsPerImage(FIXTURE_SETUPS.pixel, 10, 2)).toBe(2 * 10 * setupStats(FIXTURE_SETUPS.pixel).flopsPerStep);
    expect(flopsPerImage(FIXTURE_SETUPS.pixel, 10, 0)).toBe(10 * setupStats(FIXTURE_SETUPS.pixel).flopsPerStep);
    expect(sweepCases([20, 10, 20, 5000], 1000)).toEqual([
      { sampler: 'ddpm', steps: 10 }, { sampler: 'ddpm', steps: 20 },
      { sampler: 'ddim', steps: 10 }, { sampler: 'ddim', steps: 20 },
      { sampler: 'dpmpp', steps: 10 }, { sampler: 'dpmpp', steps: 20 },
    ]);
  });

  it('a sweep adds rows for each sampler and step count; timing only without quality samples', async () => {
    const messages: WorkerToPage[] = [];
    const s = session(messages);
    await s.start({ ...settings, qualityImages: 0, reps: 1, sweepSteps: [2] });
    await finished(s);
    const rows = messages.flatMap((m) => (m.type === 'compare/row' ? [m.row] : []));
    expect(rows.map((r) => `${r.model} ${r.sampler}-${r.steps}${r.sweep ? ' sweep' : ''}`)).toEqual([
      'pixel ddim-3', 'latent ddim-3',
      'pixel ddpm-2 sweep', 'latent ddpm-2 sweep',
      'pixel ddim-2 sweep', 'latent ddim-2 sweep',
      'pixel dpmpp-2 sweep', 'latent dpmpp-2 sweep',
    ]);
    expect(rows.every((r) => r.quality === null)).toBe(true);
  });

  it('stops when cancelled, freeing everything', async () => {
    const messages: WorkerToPage[] = [];
    const s = session(messages);
    const before = tf.memory().numTensors;
    await s.start({ ...settings, steps: 20, reps: 20, qualityImages: 0 });
    for (let i = 0; i < 400 && !messages.some((m) => m.type === 'compare/progress' && m.done > 0); i++) await new Promise((r) => setTimeout(r, 5));
    await s.stop();
    expect(messages.filter((m) => m.type === 'compare/state').map((m) => (m.type === 'compare/state' ? m.state : ''))).toEqual(['running', 'cancelled']);
    expect(messages.filter((m) => m.type === 'compare/row').length).toBeLessThan(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a cancel inside the quality samples takes effect within one model step, freeing every tensor', async () => {
    for (const kind of ['pixel', 'latent'] as const) {
      const m = await fixtureModel(kind);
      const classifier = await fixtureClassifier();
      const real = realDigits(await loadMnistNode(), 40, REFERENCE);
      const reference = makeReference((await scoreImages(classifier, real.reference.pixels, real.reference.n)).features, { subsets: 1, subsetSize: REFERENCE });
      const q: QualityContext = { classifier, reference, floor: real.floor, floorFd: new Map() };
      // 40 samples in batches of 4 at DDIM-10: 100 model steps in one generateImages call.
      const s = { ...settings, steps: 10, batch: 4, qualityImages: 40 };
      const control = new RunControl();
      let steps = 0;
      let atCancel = -1;
      const before = tf.memory().numTensors;
      const run = qualityOfCase(m, { sampler: 'ddim', steps: 10 }, s, q, {
        onStep: () => {
          steps++;
          // Mid-way through the second batch, Stop arrives as the page's message would: on a later task.
          if (steps === 15) {
            setTimeout(() => {
              atCancel = steps;
              control.cancel();
            }, 0);
          }
        },
        stepBoundary: () => control.stepBoundary(),
      });
      await expect(run).rejects.toBeInstanceOf(RunCancelled);
      // The Stop got through at the next step boundary (not after the whole generation), and at most
      // the step in flight ran after it.
      expect(atCancel, kind).toBeGreaterThanOrEqual(15);
      expect(atCancel, kind).toBeLessThanOrEqual(16);
      expect(steps - atCancel, kind).toBeLessThanOrEqual(1);
      expect(tf.memory().numTensors, kind).toBe(before);
      m.model.dispose();
      classifier.dispose();
    }
  });

  it('the classifier stops scoring within one batch when its batch callback throws', async () => {
    const classifier = await fixtureClassifier();
    const real = realDigits(await loadMnistNode(), 2, 1000);
    const before = tf.memory().numTensors;
    const control = new RunControl();
    const seen: number[] = [];
    const scoring = scoreImages(classifier, real.reference.pixels, 1000, 50, (done) => {
      seen.push(done);
      if (done === 200) control.cancel();
      return control.stepBoundary();
    });
    await expect(scoring).rejects.toBeInstanceOf(RunCancelled);
    expect(seen).toEqual([50, 100, 150, 200]);
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });

  it('stops while scoring the FD reference, keeping no rows and freeing everything', async () => {
    const messages: WorkerToPage[] = [];
    const s = session(messages);
    const before = tf.memory().numTensors;
    await s.start({ ...settings, referenceDigits: 5000 });
    for (let i = 0; i < 2000 && !messages.some((m) => m.type === 'compare/progress' && m.unit === 'digits' && m.done > 0); i++) await new Promise((r) => setTimeout(r, 5));
    await s.stop();
    expect(messages.filter((m) => m.type === 'compare/state').map((m) => (m.type === 'compare/state' ? m.state : ''))).toEqual(['running', 'cancelled']);
    const digits = messages.flatMap((m) => (m.type === 'compare/progress' && m.unit === 'digits' ? [m.done] : []));
    expect(Math.max(...digits)).toBeGreaterThan(0);
    expect(Math.max(...digits)).toBeLessThan(5000);
    // No sampling started: no rows, no progress in sampler steps.
    expect(messages.filter((m) => m.type === 'compare/row' || (m.type === 'compare/progress' && m.unit === 'steps' && m.total > 0))).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps the rows measured before a cancel; after it the engine samples at once', async () => {
    const { engine, messages, until } = makeNodeEngine({ readPretrained: dirReader(root) });
    await engine.handle({ type: 'init', backend: null });
    // Timing only, many repeats: the pixel row comes quickly, the LDM's would take long.
    await engine.handle({ type: 'compare/start', compare: { ...settings, steps: 10, qualityImages: 0, reps: 20 } });
    await until((m) => m.type === 'compare/row');
    await until((m) => m.type === 'compare/progress' && m.phase.startsWith('LDM'));
    await engine.handle({ type: 'compare/cancel' });
    expect(messages.filter((m) => m.type === 'compare/state').map((m) => (m.type === 'compare/state' ? m.state : ''))).toEqual(['running', 'cancelled']);
    expect(messages.flatMap((m) => (m.type === 'compare/row' ? [m.row.model] : []))).toEqual(['pixel']);
    await engine.handle({ type: 'sample/start', sampling: { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 3, numImages: 2, seed: 1, digit: null, useEma: true } });
    await until((m) => m.type === 'sample/state' && m.state === 'done', 30_000);
    expect(messages.filter((m) => m.type === 'sample/frame').length).toBeGreaterThan(0);
    await engine.dispose();
  });

  it('the page keeps the rows of a stopped run, and estimates a run from them or from FLOPs', () => {
    const store = createCompareStore();
    const row = (model: ModelKind, msPerImage: number) => ({
      model, sampler: 'ddim' as const, steps: 20, batch: 4, msPerImage, imagesPerSec: 1000 / msPerImage, peakBytes: 1, flopsPerImage: 1, quality: null, sweep: false,
    });
    applyCompareMessage(store, { type: 'compare/state', state: 'running', message: null, backend: 'wasm' }, 1000);
    applyCompareMessage(store, { type: 'compare/row', row: row('pixel', 900) });
    markStopping(store);
    expect(store.getState().stopping).toBe(true);
    applyCompareMessage(store, { type: 'compare/state', state: 'cancelled', message: null, backend: 'wasm' }, 13_000);
    expect(store.getState()).toMatchObject({ status: 'cancelled', stopping: false, startedAt: 1000, endedAt: 13_000 });
    expect(store.getState().rows.map((r) => r.model)).toEqual(['pixel']);

    // The page's FLOPs of the pretrained models are those of the shipped models' setups.
    for (const kind of ['pixel', 'latent'] as const) {
      const { setup } = JSON.parse(readFileSync(join('public', 'models', kind, 'manifest.json'), 'utf8')) as { setup: ModelSetup };
      const stats = setupStats(setup);
      expect(pretrainedFlopsPerImage(kind, 10, 1), kind).toBe(10 * stats.flopsPerStep + stats.decodeFlops);
      expect(pretrainedFlopsPerImage(kind, 10, 3), kind).toBe(2 * 10 * stats.flopsPerStep + stats.decodeFlops);
    }
    // Before both models are measured: from FLOPs, and the default quick run fits in a minute on wasm.
    const quick = estimateCompare(DEFAULT_COMPARE, false, 'wasm', store.getState().speed);
    expect(quick.basis).toBe('flops');
    expect(quick.seconds).toBeLessThan(60);
    applyCompareMessage(store, { type: 'compare/state', state: 'running', message: null, backend: 'wasm' });
    applyCompareMessage(store, { type: 'compare/row', row: row('pixel', 1000) });
    applyCompareMessage(store, { type: 'compare/row', row: row('latent', 2000) });
    const speed = store.getState().speed;
    // Measured at these very settings: (warm-up + 1 timed batch) × 4 + 8 quality samples, per model.
    const same = estimateCompare({ ...DEFAULT_COMPARE, qualityImages: 0 }, false, 'wasm', speed);
    expect(same.basis).toBe('measured');
    expect(same.seconds).toBeCloseTo(8 * (1 + 2) + 2, 6);
    // Twice the steps at the same batch: twice the denoiser's share (the LDM's decode stays once per image).
    const twice = estimateCompare({ ...DEFAULT_COMPARE, qualityImages: 0, steps: 40 }, false, 'wasm', speed).seconds - 2;
    expect(twice).toBeGreaterThan(1.9 * 24);
    expect(twice).toBeLessThanOrEqual(2 * 24);
    // The thorough run is many times longer; on another backend the measurement does not apply.
    expect(estimateCompare({ ...DEFAULT_COMPARE, ...THOROUGH_COMPARE }, false, 'wasm', speed).seconds).toBeGreaterThan(10 * same.seconds);
    expect(estimateCompare(DEFAULT_COMPARE, false, 'webgpu', speed).basis).toBe('flops');
    // The sweep adds every sampler (three) at each step count.
    expect(estimateCompare({ ...DEFAULT_COMPARE, qualityImages: 0, sweepSteps: [20] }, true, 'wasm', speed).seconds).toBeCloseTo(4 * 24 + 2, 6);
  });

  it('refuses bad settings with a message that names them, through the engine', async () => {
    const { engine, until } = makeNodeEngine({ readPretrained: dirReader(root) });
    await engine.handle({ type: 'init', backend: null });
    await expect(engine.handle({ type: 'compare/start', compare: { ...settings, steps: 0 } })).rejects.toThrow(/steps must be a whole number from 1 to 1000, got 0/);
    await expect(engine.handle({ type: 'compare/start', compare: { ...settings, batch: 1.5 } })).rejects.toThrow(/batch/);
    await expect(engine.handle({ type: 'compare/start', compare: { ...settings, qualityImages: 1 } })).rejects.toThrow(/at least 2 samples/);
    // More steps than the models' T (100 for the fixtures): the run starts, then fails with a message.
    await engine.handle({ type: 'compare/start', compare: { ...settings, steps: 500, qualityImages: 0 } });
    const end = await until((m) => m.type === 'compare/state' && m.state !== 'running');
    expect(end).toMatchObject({ state: 'failed' });
    expect(end.type === 'compare/state' ? end.message : '').toMatch(/at most the models' T = 100, got 500/);
    await engine.dispose();
  });

  it('says which pretrained file is missing', async () => {
    const messages: WorkerToPage[] = [];
    const s = new CompareSession({ post: (m) => messages.push(m), read: dirReader(join(root, 'nowhere')), loadData: () => loadMnistNode() });
    await s.start(settings);
    await finished(s);
    const failed = messages.find((m) => m.type === 'compare/state' && m.state === 'failed');
    expect(failed && failed.type === 'compare/state' ? failed.message : '').toMatch(/no pretrained pixel model/i);
  });
});
