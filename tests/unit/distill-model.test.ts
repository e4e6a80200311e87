/**
 * The shipped distilled LDM (public/models/latent-distilled, made by `npm run distill`): it loads
 * like any model file, its manifest says how it was made and how to sample it, and 4 DDIM steps
 * (trailing timesteps, guidance 1: the teacher's guidance is built in) draw the digits asked for,
 * as the evaluation classifier reads them, leaving no tensor behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SAMPLER } from '../../src/diffusion/config';
import { loadModel } from '../../src/io/model-files';
import { loadClassifier } from '../../src/io/classifier-files';
import { loadFromDir } from '../../src/io/weights-file-node';
import { generateImages } from '../../src/sampling/generate';
import { PIXEL_TO_UNIT } from '../../src/data/mnist';

const DIR = join(__dirname, '..', '..', 'public', 'models', 'latent-distilled');
const CLASSIFIER_DIR = join(__dirname, '..', '..', 'public', 'models', 'classifier');

describe.skipIf(!existsSync(join(DIR, 'model.json')))('the distilled LDM', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('has a manifest that says how it was made and how to sample it', () => {
    const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));
    expect(manifest.kind).toBe('latent');
    expect(manifest.sampling).toMatchObject({ sampler: 'ddim', steps: 4, spacing: 'trailing', eta: 0, guidance: 1 });
    const rounds = manifest.distillation.rounds as { teacherSteps: number; studentSteps: number; steps: number }[];
    expect(rounds.at(-1)?.studentSteps).toBe(4);
    rounds.forEach((r) => expect(r.studentSteps * 2).toBe(r.teacherSteps));
  });

  it('samples the digits asked for in 4 steps', async () => {
    const before = tf.memory().numTensors;
    const { modelJson, weightsBin } = await loadFromDir(DIR);
    const { model, info } = loadModel(modelJson, weightsBin);
    const n = 20;
    let pixels: Uint8Array;
    try {
      const request = { ...DEFAULT_SAMPLER, kind: 'ddim' as const, steps: 4, spacing: 'trailing' as const, eta: 0, guidance: 1, numImages: n, seed: 0, digit: null, batch: n };
      let steps = 0;
      pixels = await generateImages(model, makeSchedule(info.setup.schedule), info.setup.prediction, request, () => steps++);
      expect(steps).toBe(4);
    } finally {
      model.dispose();
    }
    const c = await loadFromDir(CLASSIFIER_DIR);
    const { model: classifier } = loadClassifier(c.modelJson, c.weightsBin);
    const input = Float32Array.from(pixels, (p) => PIXEL_TO_UNIT[p]);
    const predicted = tf.tidy(() => tf.argMax(classifier.apply(tf.tensor4d(input, [n, 28, 28, 1])).logits, 1));
    const labels = await predicted.data();
    predicted.dispose();
    classifier.dispose();
    // Image i was asked to be digit i mod 10.
    const right = Array.from(labels).filter((d, i) => d === i % 10).length;
    expect(right).toBeGreaterThanOrEqual(16);
    expect(tf.memory().numTensors).toBe(before);
  });
});
