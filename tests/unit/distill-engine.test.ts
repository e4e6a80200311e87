/**
 * The Training panel's Distill stage in the engine (src/engine/distill-run.ts, distill-rounds.ts), on
 * the tiny LDM: refused for an untrained model and for a to-steps that is not from-steps halved;
 * the rounds leave no tensor behind; a run streams each round's losses and a sample grid, and its
 * student becomes the engine's model (EMA off), which samples; Stop ends a run within one step and
 * leaves the model as it was.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine, type Msg } from './engine-helpers';
import { DEFAULT_SAMPLER, DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import { buildModel } from '../../src/models/factory';
import { loadMnistNode } from '../../src/data/load-node';
import { splitTrainHeldOut } from '../../src/data/mnist';
import { RunControl } from '../../src/engine/run-control';
import { runDistillRounds } from '../../src/engine/distill-rounds';
import type { DistillSettings } from '../../src/protocol/distill-messages';
import { DEFAULT_COMPARE } from '../../src/state/compare';
import type { TrainingConfig } from '../../src/engine/run-config';
import type { WorkerToPage } from '../../src/protocol/messages';

const setup: ModelSetup = {
  ...DEFAULT_MODEL_SETUP,
  schedule: { ...DEFAULT_SCHEDULE, T: 100 },
  kind: 'latent',
  latent: { autoencoder: 'ae-tiny', latentChannels: 4, denoiser: 'latent-tiny', klWeight: 1e-5 },
  emaDecay: 0.99,
};
const train = (stage: TrainingConfig['stage']): TrainingConfig => ({ stage, learningRate: 2e-3, batchSize: 4, steps: 2, previewEvery: 0, seed: 1 });
const settings: DistillSettings = { fromSteps: 4, toSteps: 1, stepsPerRound: 2, batchSize: 2, learningRate: 1e-4, guidance: 1.5, seed: 1 };

describe('engine: the Distill stage', () => {
  const { engine, messages, of, until } = makeNodeEngine();
  const settled = (m: WorkerToPage) => m.type === 'distill/state' && m.state !== 'running' && m.state !== 'paused';

  beforeAll(async () => {
    await engine.handle({ type: 'init', backend: null });
    await engine.handle({ type: 'setup', setup });
  });
  afterAll(() => engine.dispose());

  it('refuses an untrained model, then settings whose to-steps is not from-steps halved', async () => {
    await expect(engine.handle({ type: 'distill/start', settings })).rejects.toThrow(/no trained denoiser/);
    for (const stage of ['autoencoder', 'denoiser'] as const) {
      messages.length = 0;
      await engine.handle({ type: 'train/start', training: train(stage) });
      await until((m) => m.type === 'train/state' && m.state === 'done');
    }
    await expect(engine.handle({ type: 'distill/start', settings: { ...settings, toSteps: 3 } })).rejects.toThrow(/halved a whole number of times/);
    await expect(engine.handle({ type: 'distill/start', settings: { ...settings, fromSteps: 200 } })).rejects.toThrow(/from 2 to 100/);
  });

  it('runs two rounds, streams their losses and grids, and makes the 1-step student the model', async () => {
    messages.length = 0;
    await engine.handle({ type: 'distill/start', settings });
    const end = await until(settled);
    expect(of('error')).toEqual([]);
    expect(end).toMatchObject({ state: 'done' });
    const rounds = of('distill/round');
    expect(rounds.map((r) => [r.round, r.teacherSteps, r.studentSteps])).toEqual([
      [1, 4, 2],
      [2, 2, 1],
    ]);
    for (const r of rounds) {
      expect(r.images).toMatchObject({ n: 10, h: 28, w: 28, c: 1 });
      expect([r.lossStart, r.lossEnd, r.gapBefore, r.gapAfter].every(Number.isFinite)).toBe(true);
    }
    const losses = of('distill/progress').flatMap((p) => Array.from(p.losses));
    expect(losses).toHaveLength(4);
    const done = of('distill/done');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ teacherSteps: 4, studentSteps: 1 });
    expect(done[0].setup.emaDecay).toBe(0);
    // The 'model' that follows counts the distillation's steps as denoiser steps.
    const after = messages.slice(messages.indexOf(done[0])).find((m): m is Msg<'model'> => m.type === 'model');
    expect(after?.denoiserSteps).toBe(2 + 4);
    // The student samples in one step.
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling: { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 1, spacing: 'trailing', guidance: 1, numImages: 2, seed: 0, digit: 3, useEma: true } });
    await until((m) => m.type === 'sample/state' && m.state === 'done');
    expect(of('sample/frame')).toHaveLength(1);
  });

  it('leaves no tensor behind across a run of the student (no EMA), and stops within one step', async () => {
    const before = tf.memory().numTensors;
    messages.length = 0;
    await engine.handle({ type: 'distill/start', settings: { ...settings, fromSteps: 2, toSteps: 1 } });
    await until(settled);
    expect(of('distill/done')).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);

    messages.length = 0;
    await engine.handle({ type: 'distill/start', settings: { ...settings, fromSteps: 2, stepsPerRound: 10_000 } });
    await until((m) => m.type === 'distill/progress');
    await engine.handle({ type: 'distill/stop' });
    const end = await until(settled, 5_000);
    expect(end).toMatchObject({ state: 'stopped' });
    const steps = of('distill/progress').flatMap((p) => Array.from(p.steps));
    expect(Math.max(...steps)).toBeLessThan(10);
    expect(of('distill/done')).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);

    // A comparison takes the device: a distillation in progress stops first.
    messages.length = 0;
    await engine.handle({ type: 'distill/start', settings: { ...settings, fromSteps: 2, stepsPerRound: 10_000 } });
    await until((m) => m.type === 'distill/progress');
    await engine.handle({ type: 'compare/start', compare: { ...DEFAULT_COMPARE, qualityImages: 0, sweepSteps: [] } });
    expect(of('distill/state').at(-1)).toMatchObject({ state: 'stopped' });
    await until((m) => m.type === 'compare/state' && m.state !== 'running', 10_000);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('distill rounds', () => {
  it('free every tensor but the student they return (a model with EMA, guided first teacher)', async () => {
    const dataset = await loadMnistNode();
    const model = buildModel({ ...setup, kind: 'pixel', preset: 'tiny', schedule: { ...DEFAULT_SCHEDULE, T: 100 } }, 0);
    const target = { model, setup: { ...setup, kind: 'pixel' as const }, schedule: makeSchedule(setup.schedule), data: { dataset, split: splitTrainHeldOut(dataset) }, autoencoderSteps: 0, denoiserSteps: 1 };
    try {
      const posted: WorkerToPage[] = [];
      const before = tf.memory().numTensors;
      const student = await runDistillRounds({ target, settings: { ...settings, fromSteps: 2, toSteps: 1, stepsPerRound: 1 }, control: new RunControl(), post: (m) => posted.push(m) });
      student.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(posted.filter((m) => m.type === 'distill/round')).toHaveLength(1);
    } finally {
      model.dispose();
    }
  });
});
