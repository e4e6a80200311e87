/**
 * The latent denoiser's cached latents (src/engine/latent-cache.ts): a step on cached latents gives
 * the loss a step that encodes its batch gives (same batches, same seed), also once the cache serves
 * whole batches; steps and an invalidation leave the tensor count unchanged; a new autoencoder
 * version, latent normalization or autoencoder empties the cache; the memory is one float32 latent
 * per training image.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { Trainer } from '../../src/engine/trainer';
import { LatentCache } from '../../src/engine/latent-cache';
import { buildModel } from '../../src/models/factory';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { loadMnistNode } from '../../src/data/load-node';
import { createBatchProvider } from '../../src/data/batches';
import { splitTrainHeldOut, type MnistDataset } from '../../src/data/mnist';
import type { DiffusionModel } from '../../src/models/diffusion-model';

const setup: ModelSetup = {
  ...DEFAULT_MODEL_SETUP,
  schedule: { ...DEFAULT_SCHEDULE, T: 100 },
  kind: 'latent',
  latent: { autoencoder: 'ae-tiny', latentChannels: 3, denoiser: 'latent-tiny', klWeight: 1e-5 },
  classConditional: true,
  emaDecay: 0.9,
};
const BATCH = 4;

function makeModel(): DiffusionModel {
  const model = buildModel(setup, 3);
  model.latent = { shift: 0.05, scale: 1.7 };
  return model;
}

const trainerOf = (model: DiffusionModel) => new Trainer({ model, schedule: makeSchedule(setup.schedule), prediction: 'epsilon', learningRate: 1e-3, seed: 5 });

async function lossOf(result: { loss: tf.Scalar; itemLosses: tf.Tensor1D }): Promise<number[]> {
  const values = [...(await result.loss.data()), ...(await result.itemLosses.data())];
  tf.dispose([result.loss, result.itemLosses]);
  return values;
}

describe('latent cache', () => {
  let dataset: MnistDataset;
  let indices: Int32Array;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    dataset = await loadMnistNode();
    // Eight training images: batches of 4 fill the cache in one epoch (2 steps), then come from it.
    indices = splitTrainHeldOut(dataset).train.slice(0, 8);
  });

  it('trains on cached latents with the loss of freshly encoded ones, step for step', async () => {
    const fresh = makeModel();
    const cached = makeModel();
    const [a, b] = [trainerOf(fresh), trainerOf(cached)];
    const [pa, pb] = [createBatchProvider(dataset, indices, BATCH, 7), createBatchProvider(dataset, indices, BATCH, 7)];
    const cache = new LatentCache(dataset, indices);
    const shape = cached.sampleShape(BATCH);
    for (let step = 0; step < 6; step++) {
      const ba = pa.next();
      const want = await lossOf(a.trainStep(ba.x, [BATCH, 28, 28, 1], ba.labels));
      const bb = pb.next();
      const got = await lossOf(b.trainStepOnX0(await cache.latents(cached, bb, 0), shape, bb.labels));
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
      expect(want[0]).toBeGreaterThan(0);
    }
    // Steps 1-2 encoded (and filled) the cache, steps 3-6 were copies from it (the epoch's top-ups included).
    expect(cache.encodedBatches).toBe(2);
    expect(cache.cachedBatches).toBe(4);
    expect(cache.cachedImages).toBe(8);
    for (const t of [a, b]) t.dispose();
    for (const m of [fresh, cached]) m.dispose();
  });

  it('keeps the tensor count across steps and across an invalidation', async () => {
    const model = makeModel();
    const trainer = trainerOf(model);
    const provider = createBatchProvider(dataset, indices, BATCH, 1);
    const cache = new LatentCache(dataset, indices);
    const shape = model.sampleShape(BATCH);
    const step = async () => {
      const batch = provider.next();
      await lossOf(trainer.trainStepOnX0(await cache.latents(model, batch, 0), shape, batch.labels));
    };
    await step(); // Adam's slots
    const before = tf.memory().numTensors;
    await step();
    await step();
    expect(tf.memory().numTensors).toBe(before);
    cache.invalidate();
    expect(cache.bytes).toBe(0);
    await step();
    expect(cache.encodedBatches).toBe(1);
    await step();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });

  it('starts over when the autoencoder, its version or the latent normalization changes', async () => {
    const model = makeModel();
    const cache = new LatentCache(dataset, indices);
    const batch = createBatchProvider(dataset, indices, BATCH, 2).next();
    const first = Float32Array.from(await cache.latents(model, batch, 10));
    expect(cache.encodedBatches).toBe(1);
    await cache.latents(model, batch, 10);
    expect(cache.cachedBatches).toBe(1);
    // Stage 1 trained on (its step count moved): encoded again.
    await cache.latents(model, batch, 11);
    expect([cache.encodedBatches, cache.cachedBatches, cache.cachedImages]).toEqual([1, 0, 4]);
    // A new normalization (measured after stage 1): encoded again, and the new shift and scale apply.
    model.latent = { shift: 0.05, scale: 3.4 };
    const rescaled = await cache.latents(model, batch, 11);
    expect(cache.encodedBatches).toBe(1);
    expect(rescaled[5]).toBeCloseTo(first[5] * 2, 4);
    // Another autoencoder (a model imported or restored): encoded again.
    const other = makeModel();
    await cache.latents(other, batch, 11);
    expect([cache.encodedBatches, cache.cachedBatches]).toEqual([1, 0]);
    model.dispose();
    other.dispose();
  });

  it('holds one float32 latent per training image (9,000 × 7 × 7 × C)', async () => {
    const model = buildModel({ ...setup, latent: { ...setup.latent, latentChannels: 4 } }, 0);
    model.latent = { shift: 0, scale: 1 };
    const train = splitTrainHeldOut(dataset).train;
    const cache = new LatentCache(dataset, train);
    await cache.latents(model, createBatchProvider(dataset, train, BATCH, 0).next(), 0);
    expect(train.length).toBe(9000);
    expect(cache.bytes).toBe(9000 * 7 * 7 * 4 * 4 + 9000);
    model.dispose();
  });
});
