/**
 * The memory guard: the estimate of a run's memory grows with the batch, bounds
 * the peak tf.profile measures on wasm, and a batch the device cannot hold is refused before
 * anything starts, with a message that names the batch, the memory and what would fit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine, type Msg } from './engine-helpers';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import type { SamplingConfig } from '../../src/sampling/config';
import type { TrainingConfig } from '../../src/engine/run-config';
import { formatBytes, largestFitting, memoryProblem, samplingMemory, trainingMemory, type MemoryBudget } from '../../src/models/setup/memory';
import { memoryBudgetOf } from '../../src/backends/memory-limits';
import { unetStats } from '../../src/models/setup/unet-config';
import { denoiserConfigOf } from '../../src/models/setup/model-setup';

const GiB = 2 ** 30;
const tiny: ModelSetup = DEFAULT_MODEL_SETUP;
const small: ModelSetup = { ...DEFAULT_MODEL_SETUP, preset: 'small', attention: true, emaDecay: 0.999 };
const latent: ModelSetup = { ...DEFAULT_MODEL_SETUP, kind: 'latent' };
const wasm: MemoryBudget = { backend: 'WebAssembly', totalBytes: 2 * GiB, maxTensorBytes: Infinity, source: 'half the 4 GiB WebAssembly heap' };
const training: TrainingConfig = { stage: 'denoiser', learningRate: 1e-3, batchSize: 8, steps: 1, previewEvery: 0, seed: 1, checkpointEvery: 0 };
const sampling: SamplingConfig = { kind: 'ddim', steps: 2, eta: 0, spacing: 'leading', ddpmVariance: 'betaTilde', clipping: 'clip', guidance: 3, numImages: 8, seed: 0, digit: null, useEma: false };

describe('the estimate', () => {
  it('grows with the batch, linearly in the activations, and with the model', () => {
    for (const setup of [tiny, small, latent]) {
      const stages = setup.kind === 'latent' ? (['autoencoder', 'denoiser'] as const) : (['denoiser'] as const);
      for (const stage of stages) {
        const sizes = [1, 2, 16, 256].map((b) => trainingMemory(setup, stage, b));
        for (let i = 1; i < sizes.length; i++) {
          expect(sizes[i].bytes).toBeGreaterThan(sizes[i - 1].bytes);
          expect(sizes[i].largestTensorBytes).toBeGreaterThan(sizes[i - 1].largestTensorBytes);
        }
        expect(sizes[3].activationBytes).toBeCloseTo(256 * sizes[0].activationBytes, -2);
        expect(sizes[3].weightBytes).toBe(sizes[0].weightBytes);
      }
      expect(samplingMemory(setup, 16, true).bytes).toBeGreaterThan(samplingMemory(setup, 16, false).bytes);
      expect(samplingMemory(setup, 64, false).bytes).toBeGreaterThan(samplingMemory(setup, 8, false).bytes);
    }
    expect(trainingMemory(small, 'denoiser', 32).bytes).toBeGreaterThan(trainingMemory(tiny, 'denoiser', 32).bytes);
    // Adam: the weights and optimizer state are 4 copies of the parameters, 5 with an EMA copy.
    expect(trainingMemory(small, 'denoiser', 1).weightBytes).toBe(5 * 4 * unetStats(denoiserConfigOf(small)).paramCount);
    expect(trainingMemory({ ...small, emaDecay: 0 }, 'denoiser', 1).weightBytes / trainingMemory(small, 'denoiser', 1).weightBytes).toBeCloseTo(4 / 5, 5);
  });

  it('lets the usual runs through on wasm and refuses what cannot fit, naming the batch and the memory', () => {
    expect(memoryProblem(trainingMemory(tiny, 'denoiser', 256), wasm, { label: 'Batch size', count: 256, run: 'training' })).toBeNull();
    expect(memoryProblem(trainingMemory(small, 'denoiser', 32), wasm, { label: 'Batch size', count: 32, run: 'training' })).toBeNull();
    expect(memoryProblem(samplingMemory(small, 64, true), wasm, { label: 'Number of images', count: 64, run: 'sampling' })).toBeNull();

    const huge = trainingMemory(tiny, 'denoiser', 100_000);
    const message = memoryProblem(huge, wasm, { label: 'Batch size', count: 100_000, run: 'training' });
    expect(message).toMatch(/^Batch size 100,000 is too large for training: it needs about [\d.]+ GiB \(weights and optimizer state [\d.]+ KiB, activations [\d.]+ GiB\), more than WebAssembly can hold \(2\.0 GiB: half the 4 GiB WebAssembly heap\), so it was not started\. Use a batch size of at most \d+\.$/);
    expect(message).toContain(formatBytes(huge.bytes));
    const fits = Number(/at most (\d+)/.exec(message!)![1]);
    expect(fits).toBe(largestFitting(huge, 100_000, wasm));
    expect(trainingMemory(tiny, 'denoiser', fits).bytes).toBeLessThanOrEqual(wasm.totalBytes);
    expect(trainingMemory(tiny, 'denoiser', fits + 1).bytes).toBeGreaterThan(wasm.totalBytes);
    // The small U-Net at the form's largest batch is more than wasm holds (measured: ~19 MiB per image).
    expect(memoryProblem(trainingMemory(small, 'denoiser', 256), wasm, { label: 'Batch size', count: 256, run: 'training' })).toMatch(/^Batch size 256 is too large/);
  });

  it('refuses a buffer larger than a GPU allows in one binding', () => {
    const gpu: MemoryBudget = { backend: 'WebGPU', totalBytes: 8 * GiB, maxTensorBytes: 128 * 2 ** 20, source: 'the adapter\'s limit' };
    expect(trainingMemory(tiny, 'denoiser', 1024).bytes).toBeLessThan(8 * GiB);
    const message = memoryProblem(trainingMemory(tiny, 'denoiser', 1024), gpu, { label: 'Batch size', count: 1024, run: 'training' });
    expect(message).toMatch(/^Batch size 1,024 is too large for training: it needs a single buffer of about [\d.]+ MiB, more than WebGPU allows in one \(128 MiB: the adapter's limit\), so it was not started\. Use a batch size of at most (\d+)\.$/);
    const fits = Number(/at most (\d+)/.exec(message!)![1]);
    expect(trainingMemory(tiny, 'denoiser', fits).largestTensorBytes).toBeLessThanOrEqual(gpu.maxTensorBytes);
    expect(trainingMemory(tiny, 'denoiser', fits + 1).largestTensorBytes).toBeGreaterThan(gpu.maxTensorBytes);
  });

  it('formats bytes for people', () => {
    expect(formatBytes(900)).toBe('900 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(300 * 2 ** 20)).toBe('300 MiB');
    expect(formatBytes(5.5 * GiB)).toBe('5.5 GiB');
  });
});

describe('the guard in the engine (Node, wasm)', () => {
  const e = makeNodeEngine();

  beforeAll(async () => {
    await e.engine.handle({ type: 'init', backend: 'wasm' });
    await e.engine.handle({ type: 'setup', setup: tiny });
  });
  afterAll(() => e.engine.reset());

  it('knows the wasm budget', () => {
    expect(memoryBudgetOf(tf.getBackend())).toMatchObject({ backend: 'WebAssembly', totalBytes: 2 * GiB, maxTensorBytes: Infinity });
  });

  it('the estimate bounds the measured peak of a training step and a sampling run', async () => {
    await e.engine.handle({ type: 'train/start', training });
    await e.until((m) => m.type === 'train/state' && m.state === 'done', 120_000);
    await e.until((m) => m.type === 'model' && m.peakTrainBytes != null);
    const measured = e.of('model').at(-1)!.peakTrainBytes!;
    const estimate = trainingMemory(tiny, 'denoiser', training.batchSize).bytes;
    expect(measured).toBeGreaterThan(0);
    expect(estimate).toBeGreaterThanOrEqual(measured);
    expect(estimate).toBeLessThan(4 * measured);

    await e.engine.handle({ type: 'sample/start', sampling, run: 1 });
    await e.until((m) => m.type === 'sample/state' && m.state === 'done', 120_000);
    await e.until((m) => m.type === 'model' && m.peakSampleBytes != null);
    const sampled = e.of('model').at(-1)!.peakSampleBytes!;
    expect(samplingMemory(tiny, sampling.numImages, true).bytes).toBeGreaterThanOrEqual(sampled);
  }, 180_000);

  it('refuses a huge batch before anything starts, and trains on afterwards', async () => {
    const before = tf.memory().numTensors;
    const states = e.of('train/state').length;
    await expect(e.engine.handle({ type: 'train/start', training: { ...training, batchSize: 100_000, steps: 10 } })).rejects.toThrow(
      /^Batch size 100,000 is too large for training: it needs about [\d.]+ GiB .*more than WebAssembly can hold/,
    );
    expect(e.of('train/state').length, 'no run started').toBe(states);
    expect(tf.memory().numTensors).toBe(before);
    // A batch that fits still trains.
    await e.engine.handle({ type: 'train/start', training: { ...training, steps: 2 } });
    await e.until((m) => m.type === 'train/state' && m.state === 'done' && m.step === 2, 120_000);
  }, 180_000);

  it('refuses sampling that cannot fit (a small budget) and says the run is idle', async () => {
    const small = makeNodeEngine({ memoryBudget: () => ({ backend: 'WebGPU', totalBytes: 64 * 2 ** 20, maxTensorBytes: Infinity, source: 'a test budget' }) });
    await small.engine.handle({ type: 'init', backend: 'wasm' });
    await small.engine.handle({ type: 'setup', setup: tiny });
    await expect(small.engine.handle({ type: 'sample/start', sampling: { ...sampling, numImages: 64 }, run: 2 })).rejects.toThrow(
      /^Number of images 64 is too large for sampling with guidance \(two passes per image\): it needs about [\d.]+ MiB .*more than WebGPU can hold \(64 MiB: a test budget\), so it was not started\. Use a number of images of at most \d+\.$/,
    );
    expect((small.of('sample/state').at(-1) as Msg<'sample/state'>).state).toBe('idle');
    expect(small.of('sample/frame')).toHaveLength(0);
  });
});
