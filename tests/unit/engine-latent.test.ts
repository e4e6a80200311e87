/**
 * Latent diffusion through the engine, as the page drives it: the denoiser stage is refused before
 * the autoencoder is trained; stage 1 trains and measures the latent normalization; stage 2 trains
 * the latent denoiser; sampling streams latent frames [n,7,7,C] with their decodings; the
 * autoencoder is frozen once the denoiser has trained; export → import gives the same samples.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine, type Msg } from './engine-helpers';
import { DEFAULT_SAMPLER, DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../../src/models/setup/model-setup';
import type { SamplingConfig } from '../../src/sampling/config';
import type { TrainingConfig } from '../../src/engine/run-config';
import type { WorkerToPage } from '../../src/protocol/messages';

const setup: ModelSetup = {
  ...DEFAULT_MODEL_SETUP,
  schedule: { ...DEFAULT_SCHEDULE, T: 50 },
  kind: 'latent',
  latent: { autoencoder: 'ae-tiny', latentChannels: 3, denoiser: 'latent-tiny', klWeight: 1e-5 },
  attention: true,
  dropout: 0.1,
  emaDecay: 0.9,
};
const train = (stage: TrainingConfig['stage'], steps: number): TrainingConfig => ({ stage, learningRate: 2e-3, batchSize: 4, steps, previewEvery: 2, seed: 1 });
const sampling: SamplingConfig = { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 4, numImages: 3, seed: 9, digit: 7, guidance: 3, useEma: true };

describe('engine: latent diffusion', () => {
  const { engine, messages, of, until } = makeNodeEngine();
  const finished = (m: WorkerToPage) => m.type === 'train/state' && (m.state === 'done' || m.state === 'idle');
  async function sampleOnce(): Promise<Msg<'sample/frame'>[]> {
    messages.length = 0;
    await engine.handle({ type: 'sample/start', sampling });
    await until((m) => m.type === 'sample/state' && m.state === 'done');
    return of('sample/frame');
  }

  beforeAll(async () => {
    await engine.handle({ type: 'init', backend: null });
    await engine.handle({ type: 'setup', setup });
  });
  afterAll(() => engine.dispose());

  it('refuses the denoiser stage before the autoencoder is trained', async () => {
    await expect(engine.handle({ type: 'train/start', training: train('denoiser', 2) })).rejects.toThrow(/autoencoder first/);
  });

  it('trains stage 1 with reconstructions, then stage 2, and reports both step counts', async () => {
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: train('autoencoder', 2) });
    await until(finished);
    expect(of('train/reconstructions')).toHaveLength(1);
    expect(of('train/reconstructions')[0].reconstructions.n).toBe(8);
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: train('denoiser', 2) });
    await until(finished);
    expect(of('error')).toEqual([]);
    const progress = of('train/progress');
    expect(progress.every((p) => p.stage === 'denoiser')).toBe(true);
    expect(progress.flatMap((p) => [...p.itemTimesteps])).toHaveLength(2 * 4);
    expect(of('train/preview')[0].images).toMatchObject({ n: 8, h: 28, w: 28, c: 1 });
    const model = of('model').at(-1)!;
    expect(model).toMatchObject({ kind: 'latent', autoencoderSteps: 2, denoiserSteps: 2 });
    expect(model.peakTrainBytes).toBeGreaterThan(0);
  });

  it('freezes the autoencoder once the denoiser has trained', async () => {
    await expect(engine.handle({ type: 'train/start', training: train('autoencoder', 4) })).rejects.toThrow(/reset to retrain/);
  });

  it('samples in latent space and decodes every frame, without clipping latents', async () => {
    const frames = await sampleOnce();
    // The request asks for clipping, which is for pixels: at the first (noisiest) step the predicted
    // latent x0 ≈ x_T / √ᾱ_t is far outside [-1, 1] and must stay so.
    expect(sampling.clipping).toBe('clip');
    expect(Math.max(...frames[0].x0.pixels.map(Math.abs))).toBeGreaterThan(1.5);
    const last = frames.at(-1)!;
    expect(last.xt).toMatchObject({ n: 3, h: 7, w: 7, c: 3 });
    expect(last.decodedXt).toMatchObject({ n: 3, h: 28, w: 28, c: 1 });
    expect(last.decodedX0).not.toBeNull();
    expect(of('model').at(-1)!.peakSampleBytes).toBeGreaterThan(0);
    // The denoising player's record: decoded images and the latents (x_t, x0, ε̂) of every position.
    const records = of('sample/steps');
    expect(records.reduce((n, r) => n + r.count, 0)).toBe(sampling.steps + 1);
    for (const r of records) {
      expect(r).toMatchObject({ images: { n: 3, h: 28, w: 28, c: 1 }, eps: null, latents: { shape: { n: 3, h: 7, w: 7, c: 3 } } });
      expect(r.x.length).toBe(r.count * 3 * 784);
      expect(r.latents!.eps.length).toBe(r.count * 3 * 49 * 3);
    }
  });

  it('ends a paused stage-1 run when stage 2 starts, and tells the page when there is no run to pause', async () => {
    await engine.handle({ type: 'train/reset' });
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: train('autoencoder', 1000) });
    await until((m) => m.type === 'train/progress');
    await engine.handle({ type: 'train/pause' });
    await engine.handle({ type: 'train/start', training: { ...train('denoiser', 2), previewEvery: 0 } });
    await until((m) => m.type === 'train/state' && m.state === 'done' && m.step === 2);
    expect(of('error')).toEqual([]);
    // The peak is measured on each run's first step only: one 'model' update per run, not per step.
    expect(of('model').length).toBeLessThanOrEqual(4);
    messages.length = 0;
    await engine.handle({ type: 'sample/pause' });
    expect(of('sample/state')).toEqual([{ type: 'sample/state', state: 'idle' }]);
    // Back to the trained model of the earlier tests for the export test.
    await engine.handle({ type: 'train/reset' });
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: train('autoencoder', 2) });
    await until(finished);
    messages.length = 0;
    await engine.handle({ type: 'train/start', training: train('denoiser', 2) });
    await until(finished);
  });

  it('exports and imports the model: the same seed gives the same samples', async () => {
    const before = (await sampleOnce()).at(-1)!.decodedXt!.pixels.slice();
    messages.length = 0;
    await engine.handle({ type: 'model/export' });
    const exported = of('model/exported')[0];
    expect(exported.files.map((f) => f.name)).toEqual(['model.json', 'weights.bin']);
    const tensorsBefore = tf.memory().numTensors;
    // A corrupted file is refused and the current model stays.
    const broken = exported.files.map((f) => ({ name: f.name, data: f.name.endsWith('.bin') ? f.data.slice(0, 100) : f.data.slice(0) }));
    await expect(engine.handle({ type: 'model/import', files: broken })).rejects.toThrow(/weights\.bin|bytes/);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    await engine.handle({ type: 'model/import', files: exported.files });
    expect(of('model/imported')[0].setup).toEqual(setup);
    expect(of('model').at(-1)).toMatchObject({ autoencoderSteps: 2, denoiserSteps: 2 });
    const after = (await sampleOnce()).at(-1)!.decodedXt!.pixels;
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});
