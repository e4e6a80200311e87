/** The lab's MLP and trainer: the hand-written backward pass against tfjs's own gradients, no leaks, learning. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { makeSchedule } from '../../src/diffusion/schedule';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { makeToy2D } from '../../src/data/toy2d';
import { MLP_INPUT_FEATURES, MlpDenoiser, mlpParamCount } from '../../src/models/mlp-denoiser';
import { LabTrainer } from '../../src/engine/lab/lab-trainer';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('lab MLP denoiser', () => {
  it('counts its parameters and its backward pass matches tf.grad of the same loss', () => {
    const model = new MlpDenoiser({ width: 16, depth: 3 }, 5);
    expect(model.paramCount).toBe(mlpParamCount({ width: 16, depth: 3 }));
    expect(model.paramCount).toBe(MLP_INPUT_FEATURES * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 2 + 2);
    const n = 7;
    const x = tf.randomNormal([n, MLP_INPUT_FEATURES], 0, 1, 'float32', 1) as tf.Tensor2D;
    const y = tf.randomNormal([n, 2], 0, 1, 'float32', 2) as tf.Tensor2D;
    const w = tf.randomUniform([n, 1], 0.1, 1, 'float32', 3) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const { output, grad } = model.lossGradient(x, y, w);
    const reference = tf.grad((theta: tf.Tensor) => tf.sum(tf.mul(tf.squaredDifference(model.apply(x, theta as tf.Tensor1D), y), w)))(model.theta);
    const plain = model.apply(x);
    expect(Array.from(output.dataSync())).toEqual(Array.from(plain.dataSync()).map((v) => expect.closeTo(v, 5)));
    const g = grad.dataSync();
    const r = reference.dataSync();
    expect(g.length).toBe(model.paramCount);
    const scale = Math.max(...Array.from(r, Math.abs));
    for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - r[i])).toBeLessThan(1e-4 * scale);
    tf.dispose([output, grad, reference, plain]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, w]);
    model.dispose();
  });
});

describe('lab trainer', () => {
  it('frees every tensor of a step once its loss is read, and its loss falls on 8 Gaussians (diffusion and flow)', async () => {
    const { points } = makeToy2D({ kind: 'gaussians8', count: 1000, seed: 2 });
    for (const objective of ['diffusion', 'flow'] as const) {
      const model = new MlpDenoiser({ width: 32, depth: 2 }, 3);
      const trainer = new LabTrainer({ model, objective, schedule: makeSchedule(DEFAULT_SCHEDULE), prediction: 'epsilon', minSnrGamma: 5, points, seed: 1 });
      trainer.trainStep(128, 3e-3);
      await trainer.readLosses();
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      for (let i = 0; i < 300; i++) {
        trainer.trainStep(128, 3e-3);
        // Read in batches, as the training loop does; the steps come back in order.
        if (trainer.pending === 16 || i === 299) {
          const read = await trainer.readLosses();
          expect(read.map((r) => r.step)).toEqual(read.map((_, k) => trainer.step - read.length + 1 + k));
          losses.push(...read.map((r) => r.loss));
          expect(tf.memory().numTensors).toBe(before);
        }
      }
      expect(losses).toHaveLength(300);
      expect(trainer.pending).toBe(0);
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      expect(mean(losses.slice(-50))).toBeLessThan(0.8 * mean(losses.slice(0, 10)));
      trainer.trainStep(64, 1e-3);
      const [r] = await trainer.readLosses();
      expect(r.itemLosses).toHaveLength(64);
      expect(r.itemTimesteps.every((t) => t >= 0 && t <= 1000)).toBe(true);
      expect(r.loss).toBeCloseTo(r.itemLosses.reduce((s, v) => s + v, 0) / 64, 5);
      // Steps left unread are freed with the trainer.
      trainer.trainStep(64, 1e-3);
      trainer.dispose();
      model.dispose();
    }
  });

  it('a step’s loss is the weighted squared error of the network’s output before the step', async () => {
    const { points } = makeToy2D({ kind: 'gaussians8', count: 200, seed: 4 });
    const model = new MlpDenoiser({ width: 16, depth: 2 }, 8);
    const trainer = new LabTrainer({ model, objective: 'diffusion', schedule: makeSchedule(DEFAULT_SCHEDULE), prediction: 'epsilon', minSnrGamma: null, points, seed: 6 });
    // The same batch, drawn by a twin trainer, against the output of the weights before the step.
    const twin = new LabTrainer({ model, objective: 'diffusion', schedule: makeSchedule(DEFAULT_SCHEDULE), prediction: 'epsilon', minSnrGamma: null, points, seed: 6 });
    const batch = twin['fillBatch'](32);
    const outTensor = tf.tidy(() => model.apply(tf.tensor2d(batch.features, [32, MLP_INPUT_FEATURES])));
    const out = outTensor.dataSync();
    outTensor.dispose();
    let expected = 0;
    for (let i = 0; i < 64; i++) expected += (out[i] - batch.target[i]) ** 2;
    trainer.trainStep(32, 1e-3);
    const [r] = await trainer.readLosses();
    expect(r.loss).toBeCloseTo(expected / 64, 5);
    twin.dispose();
    trainer.dispose();
    model.dispose();
  });
});
