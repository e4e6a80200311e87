/**
 * Pretrained models through the engine, as the worker loads them at start: the files (model.json,
 * weights.bin, manifest.json under <models>/<kind>/) are read, validated like an import, and become
 * the model; sampling works at once and training goes on from the pretrained step count. Missing
 * or damaged files are refused with a message that says so, and the current model stays as it was.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeNodeEngine, type Msg } from './engine-helpers';
import { FIXTURE_MANIFEST, FIXTURE_SETUPS, FIXTURE_STEPS, writePretrainedFixture } from './pretrained-fixture';
import { dirReader } from '../../src/io/pretrained-node';
import { DEFAULT_SAMPLER } from '../../src/diffusion/config';
import type { ModelKind } from '../../src/models/setup/model-setup';
import type { SamplingConfig } from '../../src/sampling/config';
import type { PageToWorker } from '../../src/protocol/messages';

const sampling: SamplingConfig = { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 3, numImages: 2, seed: 5, digit: 4, guidance: 2, useEma: true };

let root = '';
let nextId = 1;

describe('engine: pretrained models', () => {
  // The folder the engine reads from is switched per test (good files, damaged, missing).
  let modelsDir = '';
  const { engine, messages, of, until } = makeNodeEngine({ readPretrained: (path, onProgress) => dirReader(modelsDir)(path, onProgress) });

  /** Asks for the pretrained model of `kind` from `dir`; resolves with the answer (loaded or failed). */
  async function loadFrom(dir: string, kind: ModelKind): Promise<Msg<'pretrained/loaded'> | Msg<'pretrained/failed'>> {
    modelsDir = dir;
    const id = nextId++;
    messages.length = 0;
    await engine.handle({ type: 'model/pretrained', kind, id });
    const answer = messages.find((m) => (m.type === 'pretrained/loaded' || m.type === 'pretrained/failed') && m.id === id);
    if (!answer || (answer.type !== 'pretrained/loaded' && answer.type !== 'pretrained/failed')) throw new Error('no answer');
    return answer;
  }

  async function sampleOnce(): Promise<Msg<'sample/frame'>[]> {
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling });
    await until((m) => m.type === 'sample/state' && (m.state === 'done' || m.state === 'idle'));
    expect(of('error')).toEqual([]);
    return of('sample/frame');
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pretrained-'));
    await writePretrainedFixture(join(root, 'good'));
    await engine.handle({ type: 'init', backend: null });
  });
  afterAll(async () => {
    await engine.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('loads the pretrained pixel model: its setup, its step count and the manifest figures', async () => {
    const answer = await loadFrom(join(root, 'good'), 'pixel');
    expect(answer.type, JSON.stringify(answer)).toBe('pretrained/loaded');
    if (answer.type !== 'pretrained/loaded') return;
    expect(answer.setup).toEqual(FIXTURE_SETUPS.pixel);
    expect(answer.info).toMatchObject({
      kind: 'pixel',
      name: 'pixel (test fixture)',
      denoiserSteps: FIXTURE_STEPS,
      autoencoderSteps: 0,
      trainingSeconds: FIXTURE_MANIFEST.trainingSeconds,
      finalLoss: FIXTURE_MANIFEST.finalLoss,
      plan: FIXTURE_MANIFEST.plan,
    });
    expect(answer.info.bytes).toBeGreaterThan(1000);
    // Progress was reported, ending at the full size.
    const progress = of('pretrained/progress');
    expect(progress[0]).toMatchObject({ loaded: 0, total: null });
    expect(progress.at(-1)).toMatchObject({ loaded: answer.info.bytes, total: answer.info.bytes });
    // Messages in the order the page needs them: loaded, then the model's figures, then the train state.
    const order = messages.map((m) => m.type).filter((t) => t === 'pretrained/loaded' || t === 'model' || t === 'train/state');
    expect(order.slice(0, 3)).toEqual(['pretrained/loaded', 'model', 'train/state']);
    expect(of('model').at(-1)).toMatchObject({ kind: 'pixel', preset: 'tiny', denoiserSteps: FIXTURE_STEPS });
    expect(of('train/state').at(-1)).toMatchObject({ state: 'done', step: FIXTURE_STEPS });
  });

  it('samples at once, without training', async () => {
    const frames = await sampleOnce();
    // Live frames are throttled (30 a second); the last step's is always sent, and the record has every step.
    expect(frames.length).toBeGreaterThan(0);
    const last = frames.at(-1)!;
    expect(last).toMatchObject({ index: sampling.steps - 1, total: sampling.steps });
    expect(of('sample/steps').reduce((n, m) => n + m.count, 0)).toBe(sampling.steps + 1);
    expect(last.xt).toMatchObject({ n: 2, h: 28, w: 28, c: 1 });
    for (const v of last.xt.pixels) expect(Number.isFinite(v)).toBe(true);
  });

  it('fine-tunes: training goes on from the pretrained step count', async () => {
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: { stage: 'denoiser', learningRate: 1e-4, batchSize: 4, steps: FIXTURE_STEPS + 2, previewEvery: 0, seed: 1 } });
    await until((m) => m.type === 'train/state' && m.state === 'done' && m.step === FIXTURE_STEPS + 2);
    expect(of('error')).toEqual([]);
    expect(of('train/progress').flatMap((p) => [...p.steps])).toEqual([FIXTURE_STEPS + 1, FIXTURE_STEPS + 2]);
    expect(of('model').at(-1)).toMatchObject({ denoiserSteps: FIXTURE_STEPS + 2 });
  });

  describe('damaged or missing files are refused, and the current model stays', () => {
    let before: Float32Array;
    let tensorsBefore = 0;

    beforeAll(async () => {
      before = (await sampleOnce()).at(-1)!.xt.pixels.slice();
      tensorsBefore = tf.memory().numTensors;
    });

    /** A copy of the good files with `damage` done to it. */
    async function damaged(name: string, damage: (pixelDir: string) => Promise<void>): Promise<string> {
      const dir = join(root, name);
      await cp(join(root, 'good'), dir, { recursive: true });
      await damage(join(dir, 'pixel'));
      return dir;
    }

    async function expectRefused(dir: string, pattern: RegExp, kind: ModelKind = 'pixel'): Promise<void> {
      const answer = await loadFrom(dir, kind);
      expect(answer.type).toBe('pretrained/failed');
      if (answer.type === 'pretrained/failed') expect(answer.message).toMatch(pattern);
      expect(of('model/imported')).toEqual([]);
      expect(of('pretrained/loaded')).toEqual([]);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      // The model is the one from before: same figures, same samples for the same seed.
      messages.length = 0;
      engine.postModelInfo();
      expect(of('model')[0]).toMatchObject({ kind: 'pixel', preset: 'tiny', denoiserSteps: FIXTURE_STEPS + 2 });
      const after = (await sampleOnce()).at(-1)!.xt.pixels;
      expect(Array.from(after)).toEqual(Array.from(before));
    }

    it('a truncated weights.bin', async () => {
      const dir = await damaged('truncated', async (d) => truncate(join(d, 'weights.bin'), 1000));
      await expectRefused(dir, /^The pretrained pixel model is damaged: .*(weights\.bin|bytes)/);
    });

    it('a model.json that is not JSON', async () => {
      const dir = await damaged('not-json', async (d) => writeFile(join(d, 'model.json'), '{"format": "diffusion-pl'));
      await expectRefused(dir, /^The pretrained pixel model is damaged: its model\.json is not valid JSON/);
    });

    it('a weight that is not a finite number', async () => {
      const dir = await damaged('nan', async (d) => {
        const bytes = new Uint8Array(await readFile(join(d, 'weights.bin')));
        new DataView(bytes.buffer).setFloat32(40, NaN, true);
        await writeFile(join(d, 'weights.bin'), bytes);
      });
      await expectRefused(dir, /damaged: .*finite/);
    });

    it('the other kind of model in the folder', async () => {
      const dir = await damaged('swapped', async (d) => {
        await cp(join(root, 'good', 'latent', 'model.json'), join(d, 'model.json'));
        await cp(join(root, 'good', 'latent', 'weights.bin'), join(d, 'weights.bin'));
        await rm(join(d, 'manifest.json'));
      });
      await expectRefused(dir, /damaged: its model\.json holds a latent model/);
    });

    it('missing files, with how to make them', async () => {
      await expectRefused(join(root, 'nowhere'), /There is no pretrained pixel model yet \(models\/pixel\/model\.json is missing\): run `npm run pretrain`/);
      const noWeights = await damaged('no-weights', async (d) => rm(join(d, 'weights.bin')));
      await expectRefused(noWeights, /pixel model is incomplete \(models\/pixel\/weights\.bin is missing\)/);
    });
  });

  it('loads the pretrained latent model: it samples through its decoder and fine-tunes stage 2', async () => {
    const answer = await loadFrom(join(root, 'good'), 'latent');
    expect(answer.type, JSON.stringify(answer)).toBe('pretrained/loaded');
    if (answer.type !== 'pretrained/loaded') return;
    expect(answer.setup).toEqual(FIXTURE_SETUPS.latent);
    expect(answer.info).toMatchObject({ kind: 'latent', autoencoderSteps: FIXTURE_STEPS, denoiserSteps: FIXTURE_STEPS });
    const last = (await sampleOnce()).at(-1)!;
    expect(last.xt).toMatchObject({ n: 2, h: 7, w: 7, c: 4 });
    expect(last.decodedXt).toMatchObject({ n: 2, h: 28, w: 28, c: 1 });
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: { stage: 'denoiser', learningRate: 1e-4, batchSize: 4, steps: FIXTURE_STEPS + 1, previewEvery: 0, seed: 1 } });
    await until((m) => m.type === 'train/state' && m.state === 'done' && m.step === FIXTURE_STEPS + 1);
    expect(of('error')).toEqual([]);
    // Its autoencoder is frozen: the denoiser has trained on its latents.
    await expect(engine.handle({ type: 'train/start', training: { stage: 'autoencoder', learningRate: 1e-4, batchSize: 4, steps: 10, previewEvery: 0, seed: 1 } })).rejects.toThrow(/reset to retrain/);
    // A decode request it cannot serve (latents of the wrong length) is still answered, so the page's request does not stay in flight.
    messages.length = 0;
    const bad: PageToWorker = { type: 'sample/decode', run: 7, positions: [1], shape: { n: 1, h: 7, w: 7, c: 4 }, x: new Uint8Array(3), x0: new Uint8Array(3) };
    await expect(engine.handle(bad)).rejects.toThrow(/do not match/);
    expect(of('sample/decoded')).toMatchObject([{ run: 7, positions: [1], x: new Uint8Array(0) }]);
  });
});
