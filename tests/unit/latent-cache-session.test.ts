/**
 * The training session (src/engine/training-session.ts) trains the latent denoiser on its cached
 * latents: on an eight-image training set at batch 4, the first epoch fills the cache and every
 * later step copies from it; previews (sampled with the EMA swapped in) and runs leave the tensor
 * count unchanged; training stage 1 again empties the cache.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { TrainingSession } from '../../src/engine/training-session';
import { buildModel } from '../../src/models/factory';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { loadMnistNode } from '../../src/data/load-node';
import { splitTrainHeldOut, type DataState } from '../../src/data/mnist';
import type { TrainingConfig } from '../../src/engine/run-config';
import type { WorkerToPage } from '../../src/protocol/messages';

const setup: ModelSetup = {
  ...DEFAULT_MODEL_SETUP,
  schedule: { ...DEFAULT_SCHEDULE, T: 50 },
  kind: 'latent',
  latent: { autoencoder: 'ae-tiny', latentChannels: 3, denoiser: 'latent-tiny', klWeight: 1e-5 },
  classConditional: true,
  emaDecay: 0.9,
};
const run = (stage: TrainingConfig['stage'], steps: number): TrainingConfig => ({ stage, learningRate: 1e-3, batchSize: 4, steps, previewEvery: 2, seed: 1, checkpointEvery: 0 });

describe('training session: cached latents', () => {
  let data: DataState;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    const dataset = await loadMnistNode();
    const split = splitTrainHeldOut(dataset);
    data = { dataset, split: { train: split.train.slice(0, 8), heldOut: split.heldOut.slice(0, 8) } };
  });

  it('fills the cache in the first epoch, then trains from it, leaking nothing', async () => {
    const messages: WorkerToPage[] = [];
    const model = buildModel(setup, 1);
    const session = new TrainingSession({ model, schedule: makeSchedule(setup.schedule), setup, data, post: (m) => messages.push(m), onChange: () => undefined });
    const finished = async (steps: number) => {
      for (let i = 0; i < 2000 && !messages.some((m) => m.type === 'train/state' && m.state === 'done' && m.step === steps); i++) await new Promise((r) => setTimeout(r, 5));
      expect(messages.filter((m) => m.type === 'error')).toEqual([]);
    };
    await session.start(run('autoencoder', 2));
    await finished(2);
    expect(model.latent).not.toBeNull();
    await session.start(run('denoiser', 6));
    await finished(6);
    const cache = session.latentCache!;
    expect([cache.encodedBatches, cache.cachedBatches, cache.cachedImages]).toEqual([2, 4, 8]);
    expect(messages.filter((m) => m.type === 'train/preview')).toHaveLength(3);
    expect(session.peakTrainBytes).toBeGreaterThan(0);
    const tensors = tf.memory().numTensors;
    await session.start(run('denoiser', 12));
    await finished(12);
    expect(tf.memory().numTensors).toBe(tensors);
    expect([cache.encodedBatches, cache.cachedBatches]).toEqual([2, 10]);
    session.dispose();
    model.dispose();
  });

  it('empties the cache when stage 1 trains again', async () => {
    const messages: WorkerToPage[] = [];
    const model = buildModel(setup, 2);
    const session = new TrainingSession({ model, schedule: makeSchedule(setup.schedule), setup, data, post: (m) => messages.push(m), onChange: () => undefined });
    const done = async (stage: TrainingConfig['stage'], steps: number) => {
      messages.length = 0;
      await session.start(run(stage, steps));
      for (let i = 0; i < 2000 && !messages.some((m) => m.type === 'train/state' && m.state === 'done'); i++) await new Promise((r) => setTimeout(r, 5));
    };
    await done('autoencoder', 1);
    // Fill the cache as the denoiser would, without a denoiser step (which would freeze the autoencoder).
    const cache = session.latentCache!;
    const batch = { x: new Float32Array(4 * 784), indices: data.split.train.slice(0, 4) };
    await cache.latents(model, batch, session.autoencoderSteps);
    expect(cache.cachedImages).toBe(4);
    await done('autoencoder', 2);
    expect(cache.cachedImages).toBe(0);
    expect(cache.bytes).toBe(0);
    session.dispose();
    model.dispose();
  });
});
