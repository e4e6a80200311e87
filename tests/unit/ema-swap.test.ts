/**
 * Sampling with EMA weights swaps them into the one model (src/models/ema.ts, EmaSwap; used by
 * samplingDenoiser in src/sampling/sample.ts) instead of building a U-Net copy per run: the samples
 * are the ones a copy holding the EMA gives, bit for bit; sampling runs and training previews leave
 * the tensor count unchanged; the training weights are back exactly after a run; and training steps
 * taken between a run's steps see their own weights (the run keeps the EMA it started with).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { DiffusionModel } from '../../src/models/diffusion-model';
import { createUNet } from '../../src/models/unet';
import { UNET_CONFIGS } from '../../src/models/setup/unet-config';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SAMPLER, DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { Trainer } from '../../src/engine/trainer';
import { sampleFrames } from '../../src/sampling/sample';
import type { SamplingRequest } from '../../src/sampling/config';
import { measurePeak } from '../../src/eval/peak-memory';

const schedule = makeSchedule({ ...DEFAULT_SCHEDULE, T: 100 });
const config = { ...UNET_CONFIGS.tiny, numClasses: 10 };
const request: SamplingRequest = { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 4, numImages: 3, seed: 4, digit: null, guidance: 2 };
const shape: [number, number, number, number] = [2, 28, 28, 1];
const images = Float32Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i * 0.37) * 0.9);
const labels = Int32Array.from([3, 8]);

function makeModel(): { model: DiffusionModel; trainer: Trainer } {
  const model = new DiffusionModel('pixel', createUNet(config, 2), null);
  model.enableEma(0.9);
  const trainer = new Trainer({ model, schedule, prediction: 'epsilon', learningRate: 1e-3, seed: 6 });
  return { model, trainer };
}

async function trainStep(trainer: Trainer): Promise<number> {
  const { loss, itemLosses } = trainer.trainStep(images, shape, labels);
  const [value] = await loss.data();
  tf.dispose([loss, itemLosses]);
  return value;
}

const valuesOf = (weights: Map<string, tf.Variable>) => [...weights].map(([name, w]) => [name, Array.from(w.dataSync())] as const);

/** The final x0 of a run, read before the generator frees it; `between` runs after every step. */
async function sample(model: DiffusionModel, useEma: boolean, between?: () => Promise<void>): Promise<Float32Array> {
  let out: Float32Array | null = null;
  for (const frame of sampleFrames(model, schedule, 'epsilon', request, useEma)) {
    if (frame.index === frame.total - 1) out = frame.xt.dataSync().slice() as Float32Array;
    if (between) await between();
  }
  return out!;
}

/** The approach before the swap: a fresh U-Net copy holding the EMA weights, sampled without EMA. */
async function sampleFromCopy(model: DiffusionModel): Promise<Float32Array> {
  const copy = new DiffusionModel('pixel', createUNet(config, 0), null);
  model.ema!.copyTo(copy.denoiser.weights);
  try {
    return await sample(copy, false);
  } finally {
    copy.dispose();
  }
}

describe('EMA swap for sampling', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('gives the samples of a U-Net copy holding the EMA, bit for bit, and puts the training weights back', async () => {
    const { model, trainer } = makeModel();
    for (let i = 0; i < 4; i++) await trainStep(trainer);
    const weights = valuesOf(model.denoiser.weights);
    const ema = valuesOf(model.ema!.shadow);
    expect(weights).not.toEqual(ema); // the EMA lags the weights: a swap that did nothing would show
    const want = await sampleFromCopy(model);
    const got = await sample(model, true);
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(Array.from(await sample(model, false))).not.toEqual(Array.from(want));
    expect(valuesOf(model.denoiser.weights)).toEqual(weights);
    expect(valuesOf(model.ema!.shadow)).toEqual(ema);
    trainer.dispose();
    model.dispose();
  });

  it('counts no more peak bytes than a U-Net copy did (tf.memory counts shared data once per tensor)', async () => {
    const { model, trainer } = makeModel();
    await trainStep(trainer);
    const firstStep = (m: DiffusionModel, useEma: boolean) => {
      const frames = sampleFrames(m, schedule, 'epsilon', request, useEma);
      frames.next();
      frames.return(undefined);
    };
    let copyPeak = 0;
    let swapPeak = 0;
    await measurePeak(() => {
      const copy = new DiffusionModel('pixel', createUNet(config, 0), null);
      model.ema!.copyTo(copy.denoiser.weights);
      firstStep(copy, false);
      copy.dispose();
    }, (b) => (copyPeak = b));
    await measurePeak(() => firstStep(model, true), (b) => (swapPeak = b));
    expect(swapPeak).toBeGreaterThan(0);
    expect(swapPeak).toBeLessThanOrEqual(copyPeak);
    trainer.dispose();
    model.dispose();
  });

  it('leaves the tensor count unchanged across sampling runs', async () => {
    const { model, trainer } = makeModel();
    await trainStep(trainer);
    await sample(model, true);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await sample(model, true);
      expect(tf.memory().numTensors).toBe(before);
    }
    // A run left early (a cancel) frees its snapshot too.
    const frames = sampleFrames(model, schedule, 'epsilon', request, true);
    frames.next();
    frames.return(undefined);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });

  it('lets training go on between a run\'s steps exactly as without the run, and the run keeps its starting EMA', async () => {
    const a = makeModel();
    const b = makeModel();
    for (const m of [a, b]) for (let i = 0; i < 3; i++) await trainStep(m.trainer);
    const want = await sampleFromCopy(a.model);
    const lossesA: number[] = [];
    const lossesB: number[] = [];
    // a trains one step after each of its sampling run's steps (as the page may, training while sampling); b just trains.
    const got = await sample(a.model, true, async () => void lossesA.push(await trainStep(a.trainer)));
    for (let i = 0; i < lossesA.length; i++) lossesB.push(await trainStep(b.trainer));
    expect(lossesA).toEqual(lossesB);
    expect(lossesA.length).toBe(request.steps);
    expect(valuesOf(a.model.denoiser.weights)).toEqual(valuesOf(b.model.denoiser.weights));
    expect(valuesOf(a.model.ema!.shadow)).toEqual(valuesOf(b.model.ema!.shadow));
    expect(Array.from(got)).toEqual(Array.from(want));
    for (const m of [a, b]) {
      m.trainer.dispose();
      m.model.dispose();
    }
  });
});
