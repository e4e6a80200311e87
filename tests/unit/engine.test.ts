/**
 * The worker's engine driven in Node exactly as the page drives it: messages in, messages out.
 * Checks the protocol end to end on the wasm backend: a tiny U-Net trains (finite loss, weights
 * change, progress streamed), samples (frames for the requested steps), pauses, cancels, and
 * frees every tensor it made.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine } from './engine-helpers';
import { LOSS_BANDS, LossBands } from '../../src/state/loss-bands';
import { DEFAULT_SAMPLER, DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { DEFAULT_MODEL_SETUP } from '../../src/models/setup/model-setup';
import type { TrainingConfig } from '../../src/engine/run-config';
import type { SamplingConfig } from '../../src/sampling/config';

const training: TrainingConfig = { stage: 'denoiser', learningRate: 1e-3, batchSize: 4, steps: 3, previewEvery: 0, seed: 7 };
const sampling: SamplingConfig = { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 5, numImages: 2, seed: 3, digit: null, useEma: true };

describe('engine (worker protocol in Node, wasm)', () => {
  const { engine, messages, until } = makeNodeEngine();
  beforeAll(async () => {
    await engine.handle({ type: 'init', backend: null });
    await engine.handle({ type: 'setup', setup: { ...DEFAULT_MODEL_SETUP, schedule: { ...DEFAULT_SCHEDULE, T: 100 }, emaDecay: 0.9 } });
  });
  afterAll(() => engine.dispose());

  it('reports the backend and the model', async () => {
    expect(messages.find((m) => m.type === 'ready')).toMatchObject({ backend: 'wasm', fallbackNote: null });
    const model = messages.find((m) => m.type === 'model');
    expect(model).toMatchObject({ preset: 'tiny' });
    expect(model && model.type === 'model' && model.paramCount).toBeGreaterThan(0);
  });

  it('sends a data preview of real digits in [-1, 1]', async () => {
    await engine.handle({ type: 'data/preview', count: 16 });
    const m = await until((x) => x.type === 'data/preview');
    if (m.type !== 'data/preview') throw new Error();
    expect(m.images.n).toBe(16);
    expect(m.images.pixels.length).toBe(16 * 28 * 28);
    expect(Math.min(...m.images.pixels)).toBe(-1);
    expect(Math.max(...m.images.pixels)).toBeCloseTo(1, 5);
    expect(m.trainCount + m.heldOutCount).toBe(10_000);
  });

  it('trains with finite streamed losses, then frees everything on reset', async () => {
    const before = tf.memory().numTensors;
    messages.length = 0;
    await engine.handle({ type: 'train/start', training });
    const done = await until((m) => m.type === 'train/state' && m.state === 'done');
    expect(done).toMatchObject({ step: 3 });
    const losses = messages.flatMap((m) => (m.type === 'train/progress' ? [...m.losses] : []));
    const steps = messages.flatMap((m) => (m.type === 'train/progress' ? [...m.steps] : []));
    expect(steps).toEqual([1, 2, 3]);
    for (const l of losses) expect(Number.isFinite(l) && l > 0).toBe(true);
    // Loss by timestep: every example's t and loss arrive with the loss (each step's loss is their mean).
    const progress = messages.flatMap((m) => (m.type === 'train/progress' ? [m] : []));
    const itemT = progress.flatMap((m) => [...m.itemTimesteps]);
    const items = progress.flatMap((m) => [...m.itemLosses]);
    expect(itemT).toHaveLength(3 * training.batchSize);
    for (const t of itemT) expect(Number.isInteger(t) && t >= 0 && t < 100).toBe(true);
    for (let k = 0; k < 3; k++) {
      const mine = items.slice(k * training.batchSize, (k + 1) * training.batchSize);
      expect(mine.reduce((a, b) => a + b, 0) / mine.length).toBeCloseTo(losses[k], 4);
    }
    const bands = new LossBands();
    bands.add(itemT, items, 100);
    expect(Array.from({ length: LOSS_BANDS }, (_, b) => bands.seen(b)).reduce((a, b) => a + b, 0)).toBe(12);
    expect(bands.means().filter((m) => m !== null).length).toBeGreaterThan(0);
    // A model and Adam's slots now exist; reset frees them all.
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    await engine.handle({ type: 'train/reset' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples every requested step and leaks nothing', async () => {
    await engine.handle({ type: 'train/start', training: { ...training, steps: 1 } });
    await until((m) => m.type === 'train/state' && m.state === 'done' && m.step === 1);
    const before = tf.memory().numTensors;
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling });
    await until((m) => m.type === 'sample/state' && m.state === 'done');
    const frames = messages.filter((m) => m.type === 'sample/frame');
    expect(frames.length).toBeGreaterThan(0);
    const last = frames[frames.length - 1];
    if (last.type !== 'sample/frame') throw new Error();
    expect(last.index).toBe(sampling.steps - 1);
    expect(last.total).toBe(sampling.steps);
    expect(last.xt.n).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('records every step for the denoising player, as bytes, tagged with the run', async () => {
    const before = tf.memory().numTensors;
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling: { ...sampling, numImages: 3 }, run: 42 });
    await until((m) => m.type === 'sample/state' && m.state === 'done');
    const records = messages.filter((m) => m.type === 'sample/steps');
    expect(records.length).toBeGreaterThan(0);
    let next = 0;
    for (const r of records) {
      expect(r).toMatchObject({ run: 42, steps: sampling.steps, first: next, images: { n: 3, h: 28, w: 28, c: 1 }, latents: null });
      expect(r.x.length).toBe(r.count * 3 * 784);
      expect(r.eps!.length).toBe(r.count * 3 * 784);
      next += r.count;
    }
    expect(next, 'positions 0..N: x_T, every step, the final sample').toBe(sampling.steps + 1);
    const t = records.flatMap((r) => [...r.t]);
    expect(t.at(-1)).toBe(-1);
    expect(t.slice(0, -1)).toEqual(t.slice(0, -1).slice().sort((a, b) => b - a));
    // The final position is the last live frame's x_t, quantized.
    const frame = messages.filter((m) => m.type === 'sample/frame').at(-1)!;
    const last = records.at(-1)!;
    const finalX = last.x.subarray((last.count - 1) * 3 * 784);
    const v = frame.type === 'sample/frame' ? frame.xt.pixels[100] : NaN;
    expect(finalX[100]).toBe(Math.min(255, Math.max(0, Math.round((v + 1) * 127.5))));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('measures the sampling peak again when the batch changes', async () => {
    const peakFor = async (numImages: number) => {
      messages.length = 0;
      await engine.handle({ type: 'sample/start', sampling: { ...sampling, numImages } });
      await until((m) => m.type === 'sample/state' && m.state === 'done');
      const model = messages.filter((m) => m.type === 'model').at(-1);
      return model?.type === 'model' ? model.peakSampleBytes : null;
    };
    // The previous test measured batch 2: 8 is a new batch, and then 2 is one again.
    const large = await peakFor(8);
    const small = await peakFor(2);
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small!);
  });

  it('pauses, resumes and cancels a sampling run at a step boundary', async () => {
    const before = tf.memory().numTensors;
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling: { ...sampling, steps: 50 } });
    await until((m) => m.type === 'sample/frame');
    await engine.handle({ type: 'sample/pause' });
    await new Promise((r) => setTimeout(r, 50));
    const count = messages.filter((m) => m.type === 'sample/frame').length;
    await new Promise((r) => setTimeout(r, 200));
    expect(messages.filter((m) => m.type === 'sample/frame').length).toBe(count);
    await engine.handle({ type: 'sample/resume' });
    await engine.handle({ type: 'sample/cancel' });
    await until((m) => m.type === 'sample/state' && m.state === 'idle');
    expect(tf.memory().numTensors).toBe(before);
  });
});
