/**
 * One DDPM training step on the wasm backend: the loss is finite, every weight moves, the same
 * seed repeats the same step exactly, and a step leaves no tensor behind (after Adam's slots exist).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { Trainer } from '../../src/engine/trainer';
import { DiffusionModel } from '../../src/models/diffusion-model';
import { createUNet } from '../../src/models/unet';
import { UNET_CONFIGS } from '../../src/models/setup/unet-config';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { loadMnistNode } from '../../src/data/load-node';
import { createBatchProvider } from '../../src/data/batches';
import { splitTrainHeldOut } from '../../src/data/mnist';

const shape: [number, number, number, number] = [4, 28, 28, 1];

async function setup(seed: number) {
  const dataset = await loadMnistNode();
  const provider = createBatchProvider(dataset, splitTrainHeldOut(dataset).train, 4, seed);
  const model = new DiffusionModel('pixel', createUNet({ ...UNET_CONFIGS.tiny, numClasses: 10 }, seed), null);
  model.enableEma(0.99);
  const trainer = new Trainer({ model, schedule: makeSchedule(DEFAULT_SCHEDULE), prediction: 'epsilon', learningRate: 1e-3, seed });
  return { provider, model, trainer };
}

function dispose(result: { loss: tf.Tensor; itemLosses: tf.Tensor }): void {
  result.loss.dispose();
  result.itemLosses.dispose();
}

function snapshot(weights: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...weights].map(([name, v]) => [name, v.dataSync().slice() as Float32Array]));
}

describe('Trainer', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('takes finite steps that move every weight and leak nothing', async () => {
    const { provider, model, trainer } = await setup(11);
    // Step 1 creates Adam's slot variables; from then on a step must not change the tensor count.
    // The zero-initialised convs (each residual block's conv2 and the output conv) block the gradient
    // upstream of them until they have moved: step 1 moves the output conv, step 2 every conv2, and
    // from step 3 on every weight has a non-zero gradient, which Adam turns into a step of about lr.
    dispose(trainer.trainStep(provider.next().x, shape, provider.next().labels));
    dispose(trainer.trainStep(provider.next().x, shape, provider.next().labels));
    const before = tf.memory().numTensors;
    const weightsBefore = snapshot(model.denoiser.weights);
    const emaBefore = snapshot(model.ema!.shadow);
    const decay = model.ema!.nextDecay(); // with warm-up: min(0.99, (1 + t) / (10 + t)) at update t = 2
    expect(decay).toBeCloseTo(3 / 12, 12);
    const batch = provider.next();
    const { loss, itemLosses, t } = trainer.trainStep(batch.x, shape, batch.labels);
    const value = (await loss.data())[0];
    const items = Array.from(await itemLosses.data());
    dispose({ loss, itemLosses });
    // The loss is the mean of the per-item losses.
    expect(value).toBeCloseTo(items.reduce((a, b) => a + b, 0) / items.length, 5);
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(value) && value > 0).toBe(true);
    expect(t.length).toBe(4);
    for (const ti of t) expect(ti >= 0 && ti < 1000).toBe(true);
    const after = snapshot(model.denoiser.weights);
    const unchanged = [...weightsBefore].filter(([name, w]) => w.every((v, i) => v === after.get(name)![i])).map(([n]) => n);
    expect(unchanged).toEqual([]);
    // EMA: shadow' = d·shadow + (1 − d)·w' for every weight.
    const emaAfter = snapshot(model.ema!.shadow);
    for (const [name, w] of after) {
      const prev = emaBefore.get(name)!;
      const got = emaAfter.get(name)!;
      for (let i = 0; i < w.length; i += Math.max(1, Math.floor(w.length / 7))) {
        expect(got[i]).toBeCloseTo(decay * prev[i] + (1 - decay) * w[i], 5);
      }
    }
    trainer.dispose();
    model.dispose();
  });

  it('is reproducible for a seed', async () => {
    const losses: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const { provider, model, trainer } = await setup(5);
      const values: number[] = [];
      for (let i = 0; i < 2; i++) {
        const batch = provider.next();
        const result = trainer.trainStep(batch.x, shape, batch.labels);
        values.push((await result.loss.data())[0]);
        dispose(result);
      }
      losses.push(values);
      trainer.dispose();
      model.dispose();
    }
    expect(losses[0]).toEqual(losses[1]);
  });
});
