/**
 * Edit runs through the engine on the pretrained models (public/models/): SDEdit, inpainting and
 * interpolation stream into the denoising player like sampling runs ('sample/frame', 'sample/steps'
 * with the run's id) and end with an 'edit/result'; inpainting keeps the known region; a cancel
 * stops within one step; no tensor is left behind; an uploaded image becomes a digit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine, type Msg } from './engine-helpers';
import { dirReader } from '../../src/io/pretrained-node';
import { defaultModelDir } from '../../src/cli/sampling-options';
import { DEFAULT_SAMPLER } from '../../src/diffusion/config';
import type { EditRequest } from '../../src/sampling/edit-config';
import type { ModelKind } from '../../src/models/setup/model-setup';

const modelsDir = defaultModelDir('');

/** A vertical bar, as someone might draw a 1, in [−1, 1]. */
function bar(): Float32Array {
  const x = new Float32Array(784).fill(-1);
  for (let y = 5; y < 23; y++) for (let c = 12; c < 16; c++) x[y * 28 + c] = 1;
  return x;
}

/** 1 on the upper half (kept), 0 on the lower (regenerated). */
const upperHalf = () => Float32Array.from({ length: 784 }, (_, i) => (i < 392 ? 1 : 0));

const request = (patch: Partial<EditRequest>): EditRequest => ({
  ...DEFAULT_SAMPLER,
  steps: 4,
  numImages: 2,
  seed: 3,
  digit: null,
  guidance: 1,
  useEma: true,
  mode: 'sdedit',
  input: bar(),
  mask: null,
  strength: 0.5,
  jump: 2,
  resample: 1,
  inpaintMethod: 'replacement',
  dpsScale: 1,
  interpolation: 'seeds',
  frames: 8,
  input2: null,
  seed2: 4,
  digit2: null,
  ...patch,
});

describe('engine: edit runs', () => {
  const { engine, messages, of, until } = makeNodeEngine({ readPretrained: (path, onProgress) => dirReader(modelsDir)(path, onProgress) });
  let run = 0;

  async function load(kind: ModelKind) {
    messages.length = 0;
    await engine.handle({ type: 'model/pretrained', kind, id: run + 100 });
    expect(of('pretrained/loaded').length, JSON.stringify(of('pretrained/failed'))).toBe(1);
  }

  async function edit(patch: Partial<EditRequest>): Promise<Msg<'edit/result'>> {
    messages.length = 0;
    const id = ++run;
    await engine.handle({ type: 'edit/start', edit: request(patch), run: id });
    await until((m) => m.type === 'sample/state' && (m.state === 'done' || m.state === 'idle'));
    expect(of('error')).toEqual([]);
    const result = of('edit/result');
    expect(result.length).toBe(1);
    expect(result[0].run).toBe(id);
    for (const s of of('sample/steps')) expect(s.run).toBe(id);
    return result[0];
  }

  beforeAll(async () => {
    await engine.handle({ type: 'init', backend: null });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  for (const kind of ['pixel', 'latent'] as const) {
    it(`${kind}: SDEdit streams its steps into the player and returns one image per seed`, async () => {
      await load(kind);
      const before = tf.memory().numTensors;
      const result = await edit({ mode: 'sdedit', strength: 0.5, digit: 7, guidance: 2 });
      expect(result.images).toMatchObject({ n: 2, h: 28, w: 28, c: 1 });
      expect(result.steps).toBe(2);
      expect(result.t0).toBeGreaterThan(0);
      expect(result.alphaBar).toBeGreaterThan(0);
      expect(of('sample/frame').map((f) => f.total)).toContain(2);
      const record = of('sample/steps');
      expect(record.length).toBeGreaterThan(0);
      expect(record[0].steps).toBe(2);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${kind}: inpainting keeps the known half${kind === 'latent' ? ' up to the autoencoder' : ' exactly'}, by every method`, async () => {
      const before = tf.memory().numTensors;
      if (kind === 'pixel') {
        for (const inpaintMethod of ['ddnm', 'dps'] as const) {
          const other = await edit({ mode: 'inpaint', mask: upperHalf(), inpaintMethod, dpsScale: 2 });
          expect(other.steps).toBe(4);
          for (let i = 0; i < 2; i++) expect(Math.max(...other.images.pixels.subarray(i * 784, i * 784 + 392).map((v, j) => Math.abs(v - bar()[j])))).toBeLessThan(1e-6);
        }
      }
      const result = await edit({ mode: 'inpaint', mask: upperHalf(), resample: 2, jump: 1 });
      expect(result.steps).toBe(4 + 3); // RePaint: one jump back at each of 3 jump points
      const input = bar();
      const known = (images: Float32Array, i: number) => images.subarray(i * 784, i * 784 + 392);
      const keep = result.keep!.pixels;
      if (kind === 'pixel') {
        for (let i = 0; i < 2; i++) expect(Math.max(...known(result.images.pixels, i).map((v, j) => Math.abs(v - input[j])))).toBeLessThan(1e-6);
        expect(Array.from(keep.subarray(0, 392)).every((v) => v === 1)).toBe(true);
      } else {
        // The 7×7 grid: rows 12–15 fall in one latent cell row that is partly masked, so it is regenerated.
        expect(keep[11 * 28]).toBe(1);
        expect(keep[12 * 28]).toBe(0);
        expect(result.input.n).toBe(1);
      }
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${kind}: interpolation between seeds, classes and inputs makes a strip of frames`, async () => {
      const before = tf.memory().numTensors;
      const seeds = await edit({ mode: 'interpolate', interpolation: 'seeds', frames: 8, kind: 'ddpm' });
      expect(seeds.images.n).toBe(8);
      const classes = await edit({ mode: 'interpolate', interpolation: 'classes', frames: 8, digit: 1, digit2: 7, guidance: 3 });
      expect(classes.images.n).toBe(8);
      const inputs = await edit({ mode: 'interpolate', interpolation: 'inputs', frames: 8, input2: upperHalf().map((v) => 2 * v - 1) });
      expect(inputs.images.n).toBe(8);
      expect(of('edit/progress').length).toBe(3); // N − 1 inversion steps
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('SDEdit at full strength is the sampling run of the same seed, digit and guidance', async () => {
    await load('pixel');
    const edited = await edit({ mode: 'sdedit', strength: 1, kind: 'ddpm', digit: 7, guidance: 2 });
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling: { ...request({}), kind: 'ddpm', digit: 7, guidance: 2 }, run: ++run });
    await until((m) => m.type === 'sample/state' && (m.state === 'done' || m.state === 'idle'));
    const last = of('sample/frame').at(-1)!;
    expect(last.index).toBe(last.total - 1);
    const clipped = last.xt.pixels.map((v) => Math.min(1, Math.max(-1, v)));
    expect(Array.from(edited.images.pixels)).toEqual(Array.from(clipped));
  });

  it('strength 0 returns the input; a cancel stops within one step and frees everything', async () => {
    await load('pixel');
    const identity = await edit({ mode: 'sdedit', strength: 0 });
    expect(identity.steps).toBe(0);
    expect(Array.from(identity.images.pixels.subarray(0, 784))).toEqual(Array.from(bar()));
    const before = tf.memory().numTensors;
    messages.length = 0;
    await engine.handle({ type: 'edit/start', edit: request({ mode: 'inpaint', mask: upperHalf(), steps: 50 }), run: ++run });
    await until((m) => m.type === 'sample/frame');
    await engine.handle({ type: 'sample/cancel' });
    await until((m) => m.type === 'sample/state' && m.state === 'idle');
    expect(of('sample/frame').length).toBeLessThanOrEqual(2);
    expect(of('edit/result')).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('turns an uploaded image into a digit, and refuses a bad request with a message', async () => {
    messages.length = 0;
    const rgba = new Uint8Array(40 * 40 * 4).fill(255);
    for (let y = 5; y < 35; y++) for (let x = 18; x < 22; x++) rgba.fill(0, (y * 40 + x) * 4, (y * 40 + x) * 4 + 3);
    await engine.handle({ type: 'edit/convert', id: 9, width: 40, height: 40, rgba });
    const converted = of('edit/converted')[0];
    expect(converted).toMatchObject({ id: 9, inverted: true, blank: false });
    expect(Math.max(...converted.pixels)).toBe(255);
    messages.length = 0;
    await engine.handle({ type: 'edit/start', edit: request({ mode: 'inpaint', mask: null }), run: ++run });
    await until((m) => m.type === 'sample/state' && m.state === 'idle');
    expect(of('error')[0].message).toMatch(/mask/);
  });

  it('stays inside the memory guard: an edit too big for the budget is refused, naming the memory', async () => {
    const small = makeNodeEngine({ memoryBudget: () => ({ backend: 'WebGPU', totalBytes: 8 * 2 ** 20, maxTensorBytes: Infinity, source: 'a test budget' }) });
    await small.engine.handle({ type: 'init', backend: null });
    await expect(small.engine.handle({ type: 'edit/start', edit: request({ numImages: 16 }), run: 1 })).rejects.toThrow(/Number of images|memory|MiB/);
    expect(small.of('sample/state').at(-1)?.state).toBe('idle');
    expect(small.of('sample/frame')).toEqual([]);
    await small.engine.dispose();
  });
});
