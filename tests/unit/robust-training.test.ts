/**
 * Never lose work, in the engine (Node, wasm): training checkpoints itself (at start, every N steps,
 * on pause and at the end); a non-finite loss rolls the model back to the last checkpoint, pauses
 * and says so; a checkpoint restored in a fresh engine (a reload, a restarted worker) has the same
 * weights, Adam state, step count and loss history, and trains on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine, type Msg } from './engine-helpers';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { DEFAULT_MODEL_SETUP } from '../../src/models/setup/model-setup';
import type { ModelFile } from '../../src/io/model-file';
import type { TrainingConfig } from '../../src/engine/run-config';
import { loadWeights } from '../../src/io/weights-file';

const setup = { ...DEFAULT_MODEL_SETUP, schedule: { ...DEFAULT_SCHEDULE, T: 100 }, emaDecay: 0.9 };
const training: TrainingConfig = { stage: 'denoiser', learningRate: 1e-3, batchSize: 2, steps: 400, previewEvery: 0, seed: 3, checkpointEvery: 3 };

const parse = (files: ModelFile[]) => {
  const json = JSON.parse(new TextDecoder().decode(files[0].data));
  return { json, bin: new Float32Array(files[1].data) };
};

describe('training checkpoints, NaN roll-back and restore', () => {
  const a = makeNodeEngine();
  const b = makeNodeEngine();
  let paused: Msg<'train/checkpoint'>;

  beforeAll(async () => {
    for (const e of [a, b]) {
      await e.engine.handle({ type: 'init', backend: null });
      await e.engine.handle({ type: 'setup', setup });
    }
  });
  afterAll(async () => {
    await a.engine.dispose();
    await b.engine.dispose();
  });

  it('checkpoints at start and every N steps, and on pause', async () => {
    await a.engine.handle({ type: 'train/start', training });
    await a.until((m) => m.type === 'train/checkpoint' && m.step >= 6, 120_000);
    await a.engine.handle({ type: 'train/pause' });
    // The step in flight finishes, then the pause is checkpointed (unless an interval save just was).
    await new Promise((r) => setTimeout(r, 1500));
    const lastStep = a.of('train/progress').at(-1)!.steps.at(-1)!;
    const p = a.of('train/checkpoint').at(-1)!;
    expect(p.step).toBe(lastStep);
    expect(p.reason === 'pause' || p.reason === 'interval').toBe(true);
    const reasons = a.of('train/checkpoint').map((m) => `${m.reason}@${m.step}`);
    expect(reasons.slice(0, 3)).toEqual(['start@0', 'interval@3', 'interval@6']);
    paused = p;
    const { json } = parse(p.files);
    const extra = json.userDefinedMetadata.extra;
    expect(extra.denoiserSteps).toBe(p.step);
    expect(extra.history.steps).toEqual(Array.from({ length: p.step }, (_, i) => i + 1));
    expect(extra.resume).toMatchObject({ stage: 'denoiser', config: training, denoiser: { step: p.step } });
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names).toContain('optimizer/iterations');
    expect(names.filter((n: string) => n.startsWith('ema/')).length).toBeGreaterThan(0);
    // No step while paused.
    await new Promise((r) => setTimeout(r, 300));
    expect(a.of('train/checkpoint').at(-1)).toBe(p);
  }, 180_000);

  it('restores in a fresh engine with the same weights, Adam state, steps and loss history', async () => {
    const before = tf.memory().numTensors;
    await b.engine.handle({ type: 'train/restore', files: paused.files.map((f) => ({ ...f, data: f.data.slice(0) })) });
    const restored = b.of('train/restored')[0];
    expect(restored).toMatchObject({ step: paused.step, stage: 'denoiser', training });
    expect(b.of('train/state').at(-1)).toMatchObject({ state: 'paused', step: paused.step });
    const history = b.of('train/history').at(-1)!;
    const original = parse(paused.files).json.userDefinedMetadata.extra.history;
    expect([...history.steps]).toEqual(original.steps);
    expect([...history.losses]).toEqual(original.losses.map((l: number) => Math.fround(l)));
    expect(tf.memory().numTensors).toBeGreaterThan(before);

    // Resume: the first checkpoint of the new run ('start') holds exactly what was restored.
    b.messages.length = 0;
    await b.engine.handle({ type: 'train/resume' });
    const start = (await b.until((m) => m.type === 'train/checkpoint' && m.reason === 'start')) as Msg<'train/checkpoint'>;
    expect(start.step).toBe(paused.step);
    const x = parse(paused.files);
    const y = parse(start.files);
    expect(y.json.weightsManifest).toEqual(x.json.weightsManifest);
    expect(y.bin).toEqual(x.bin); // weights, EMA and Adam's moments, bit for bit
    expect(y.json.userDefinedMetadata.extra.resume).toEqual(x.json.userDefinedMetadata.extra.resume);
    const next = (await b.until((m) => m.type === 'train/progress' && m.step > paused.step, 60_000)) as Msg<'train/progress'>;
    expect(next.steps[0]).toBe(paused.step + 1);
    expect(Number.isFinite(next.losses[0])).toBe(true);
    await b.engine.handle({ type: 'train/pause' });
  }, 120_000);

  it('rolls back to the last checkpoint on a non-finite loss, pauses and goes on at a lower learning rate', async () => {
    a.messages.length = 0;
    await a.engine.handle({ type: 'train/resume' });
    const good = (await a.until((m) => m.type === 'train/checkpoint' && m.reason === 'interval', 60_000)) as Msg<'train/checkpoint'>;
    await a.engine.handle({ type: 'test/poison-weights' });
    const diverged = (await a.until((m) => m.type === 'train/diverged', 60_000)) as Msg<'train/diverged'>;
    expect(Number.isFinite(diverged.loss)).toBe(false);
    expect(diverged.learningRate).toBe(training.learningRate);
    const last = a.of('train/checkpoint').at(-1)!;
    expect(diverged.restoredStep).toBe(last.step);
    expect(last.step).toBeGreaterThanOrEqual(good.step);
    expect(a.of('train/state').at(-1)).toMatchObject({ state: 'paused', step: diverged.restoredStep });
    const history = a.of('train/history').at(-1)!;
    expect(history.steps.at(-1)).toBe(diverged.restoredStep);

    // The model is the checkpoint's again: a fresh save (on resume) equals it, with every value finite.
    a.messages.length = 0;
    await a.engine.handle({ type: 'train/resume', training: { ...training, learningRate: 1e-4 } });
    const next = (await a.until((m) => m.type === 'train/progress', 60_000)) as Msg<'train/progress'>;
    expect(next.steps[0]).toBe(diverged.restoredStep + 1);
    expect([...next.losses].every(Number.isFinite)).toBe(true);
    await a.engine.handle({ type: 'train/pause' });
    await new Promise((r) => setTimeout(r, 1500));
    const saved = a.of('train/checkpoint').at(-1)!;
    expect(saved.step).toBe(a.of('train/progress').at(-1)!.steps.at(-1));
    expect(parse(saved.files).json.userDefinedMetadata.extra.resume.config.learningRate).toBe(1e-4);
    const loaded = loadWeights(parse(saved.files).json, saved.files[1].data);
    for (const t of loaded.tensors.values()) t.dispose();
  }, 180_000);
});
