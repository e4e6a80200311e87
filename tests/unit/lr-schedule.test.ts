/**
 * The learning-rate schedule (src/diffusion/lr-schedule.ts) against its closed form, the training
 * session applying it before every denoiser step (read off Adam at each step), and a checkpoint's
 * configuration keeping it (src/io/training-state.ts).
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { COSINE_FLOOR, isScheduled, learningRateAt } from '../../src/diffusion/lr-schedule';
import { initNodeBackend } from '../../src/backends/node';
import { TrainingSession } from '../../src/engine/training-session';
import { buildModel } from '../../src/models/factory';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { loadMnistNode } from '../../src/data/load-node';
import { splitTrainHeldOut, type DataState } from '../../src/data/mnist';
import { parseTrainingConfig } from '../../src/io/training-state';
import type { TrainingConfig } from '../../src/engine/run-config';
import type { WorkerToPage } from '../../src/protocol/messages';

describe('learningRateAt', () => {
  it('is the base rate for a constant schedule without warm-up', () => {
    for (const s of [0, 1, 50, 10_000]) expect(learningRateAt({ learningRate: 3e-3, steps: 100 }, s)).toBe(3e-3);
    expect(isScheduled({ learningRate: 3e-3, steps: 100 })).toBe(false);
    expect(isScheduled({ learningRate: 3e-3, steps: 100, lrSchedule: 'constant', warmupSteps: 0 })).toBe(false);
  });

  it('warms up linearly: (s + 1) / W of the base rate, then the base rate', () => {
    const c = { learningRate: 2e-3, steps: 1000, warmupSteps: 4 };
    expect([0, 1, 2, 3, 4, 500].map((s) => learningRateAt(c, s))).toEqual([0.25, 0.5, 0.75, 1, 1, 1].map((f) => f * 2e-3));
    expect(isScheduled(c)).toBe(true);
  });

  it('decays by a half cosine from the base rate at the end of warm-up to the floor at the last step, and stays there', () => {
    const base = 4e-3;
    const c = { learningRate: base, steps: 110, lrSchedule: 'cosine' as const, warmupSteps: 10 };
    const closed = (s: number) => {
      const warm = Math.min(1, (s + 1) / 10);
      const p = Math.min(1, Math.max(0, (s - 10) / 100));
      return base * warm * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * p)));
    };
    for (const s of [0, 5, 9, 10, 35, 60, 85, 109, 110, 500]) expect(learningRateAt(c, s)).toBeCloseTo(closed(s), 15);
    expect(learningRateAt(c, 10)).toBeCloseTo(base, 15);
    expect(learningRateAt(c, 60)).toBeCloseTo(base * (COSINE_FLOOR + (1 - COSINE_FLOOR) / 2), 15); // half way: the mean of base and floor
    expect(learningRateAt(c, 110)).toBeCloseTo(base * COSINE_FLOOR, 15);
    expect(learningRateAt(c, 5000)).toBeCloseTo(base * COSINE_FLOOR, 15);
    // Without warm-up the decay starts at step 0.
    expect(learningRateAt({ learningRate: 1, steps: 4, lrSchedule: 'cosine' }, 2)).toBeCloseTo(COSINE_FLOOR + (1 - COSINE_FLOOR) / 2, 15);
  });
});

describe('training session with a scheduled learning rate', () => {
  let data: DataState;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    const dataset = await loadMnistNode();
    const split = splitTrainHeldOut(dataset);
    data = { dataset, split: { train: split.train.slice(0, 16), heldOut: split.heldOut.slice(0, 8) } };
  });
  afterEach(() => vi.restoreAllMocks());

  it('sets the rate of every denoiser step from the schedule, by the step count', async () => {
    const setup: ModelSetup = { ...DEFAULT_MODEL_SETUP, schedule: { ...DEFAULT_SCHEDULE, T: 50 } };
    const config: TrainingConfig = { stage: 'denoiser', learningRate: 2e-3, lrSchedule: 'cosine', warmupSteps: 2, batchSize: 2, steps: 6, previewEvery: 0, seed: 3, checkpointEvery: 0 };
    const rates: number[] = [];
    const apply = tf.AdamOptimizer.prototype.applyGradients;
    vi.spyOn(tf.AdamOptimizer.prototype, 'applyGradients').mockImplementation(function (this: tf.AdamOptimizer, grads) {
      rates.push((this as unknown as { learningRate: number }).learningRate);
      return apply.call(this, grads);
    });
    const messages: WorkerToPage[] = [];
    const model = buildModel(setup, 3);
    const session = new TrainingSession({ model, schedule: makeSchedule(setup.schedule), setup, data, post: (m) => messages.push(m), onChange: () => undefined });
    await session.start(config);
    for (let i = 0; i < 4000 && !messages.some((m) => m.type === 'train/state' && m.state === 'done'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(messages.filter((m) => m.type === 'error')).toEqual([]);
    expect(rates).toHaveLength(6);
    rates.forEach((r, s) => expect(r).toBeCloseTo(learningRateAt(config, s), 12));
    expect(rates[0]).toBeCloseTo(1e-3, 12); // half the base rate: the first of two warm-up steps
    session.dispose();
    model.dispose();
  });
});

describe('a checkpoint keeps the schedule', () => {
  const base = { stage: 'denoiser', learningRate: 2e-3, batchSize: 16, steps: 100, previewEvery: 10, seed: 0 };
  it('reads the schedule and warm-up back, and refuses unknown ones', () => {
    expect(parseTrainingConfig({ ...base, lrSchedule: 'cosine', warmupSteps: 20 })).toMatchObject({ lrSchedule: 'cosine', warmupSteps: 20 });
    expect(parseTrainingConfig(base)).not.toHaveProperty('lrSchedule');
    expect(() => parseTrainingConfig({ ...base, lrSchedule: 'linear' })).toThrow(/lrSchedule/);
    expect(() => parseTrainingConfig({ ...base, warmupSteps: -1 })).toThrow(/warmupSteps/);
  });
});
