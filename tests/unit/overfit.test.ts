/**
 * The tiny pixel U-Net can fit 16 digits: its ε-prediction loss on a fixed evaluation set (the same
 * 16 digits, timesteps spread over 0..T-1, fixed noise) falls at least 5× within 100 Adam steps.
 * Measured on this machine: 0.98 at the start, 0.15 after 50 steps, 0.083 after 100 (about 12×).
 * An untrained model outputs 0, so its loss is E[ε²] ≈ 1; a model that has learnt nothing about the
 * data could at best predict ε from x_t with the data mean, which does not give a 5× drop at every t.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { Trainer } from '../../src/engine/trainer';
import { DiffusionModel } from '../../src/models/diffusion-model';
import { createUNet } from '../../src/models/unet';
import { UNET_CONFIGS } from '../../src/models/setup/unet-config';
import { diffusionLoss, makeSchedule } from '../../src/diffusion';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { loadMnistNode } from '../../src/data/load-node';
import { imagesToUnit, splitTrainHeldOut } from '../../src/data/mnist';

const STEPS = 100;

describe('tiny U-Net overfits 16 digits', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it(`loses at least 5× of its loss within ${STEPS} steps, without leaking`, async () => {
    const dataset = await loadMnistNode();
    const images = imagesToUnit(dataset, splitTrainHeldOut(dataset).train.subarray(0, 16));
    const shape: [number, number, number, number] = [16, 28, 28, 1];
    const schedule = makeSchedule({ ...DEFAULT_SCHEDULE, T: 100 });
    const model = new DiffusionModel('pixel', createUNet({ ...UNET_CONFIGS.tiny, numClasses: 0 }, 0), null);
    const trainer = new Trainer({ model, schedule, prediction: 'epsilon', learningRate: 3e-3, seed: 0 });
    const x0 = tf.tensor4d(images, shape);
    const evalT = Int32Array.from({ length: 16 }, (_, i) => Math.floor(((i + 0.5) * schedule.T) / 16));
    const evalEps = tf.randomNormal(shape, 0, 1, 'float32', 123) as tf.Tensor4D;
    const evalLoss = async () => {
      const loss = diffusionLoss({ schedule, prediction: 'epsilon', model: (xt, t) => model.denoiser.apply(xt, t), x0, t: evalT, eps: evalEps });
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    };
    const initial = await evalLoss();
    const first = trainer.trainStep(images, shape); // creates Adam's slots
    tf.dispose([first.loss, first.itemLosses]);
    const tensors = tf.memory().numTensors;
    for (let step = 2; step <= STEPS; step++) {
      const { loss, itemLosses } = trainer.trainStep(images, shape);
      tf.dispose([loss, itemLosses]);
    }
    expect(tf.memory().numTensors).toBe(tensors); // a train step leaves nothing behind
    const final = await evalLoss();
    expect(initial).toBeGreaterThan(0.8);
    expect(final).toBeLessThan(initial / 5);
    tf.dispose([x0, evalEps]);
    trainer.dispose();
    model.dispose();
  });
});
