/**
 * The adaptive reverse-SDE solver ("Gotta Go Fast") with the exact denoiser of Gaussian data
 * x0 ~ N(0.4, 0.5²): the reverse SDE then samples the data distribution exactly, so the samples'
 * mean and variance must match 0.4 and 0.25 within their standard errors (10,000 values: SE 0.005
 * on the mean, about 0.0035 on the variance; five SEs allowed) up to the solver's error, which the
 * tolerance bounds; looser tolerances take fewer evaluations; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE, adaptiveSde, continuousSchedule, makeSchedule, mixturePosteriorMeans, sampleMoments, seededNoise, type DenoiseFn } from '../../src/diffusion';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE);
const cs = continuousSchedule(schedule);
const G = [{ weight: 1, mean: 0.4, std: 0.5 }];
const exact: DenoiseFn = (xt, t) => tf.tidy(() => mixturePosteriorMeans(G, xt, cs.alphaBar(t)).eps);
const shape: [number, number, number, number] = [4, 50, 50, 1];

function run(tol: number, model: DenoiseFn = exact) {
  const xT = tf.randomNormal(shape, 0, 1, 'float32', 7) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  let values: Float32Array | null = null;
  let evaluations = 0;
  try {
    for (const f of adaptiveSde(model, schedule, 'epsilon', xT, seededNoise(shape, 3), { rtol: tol, atol: tol })) {
      if (f.index === f.total - 1) {
        values = f.xt.dataSync() as Float32Array;
        evaluations = f.evaluations;
        expect(f.tPrev).toBe(-1);
      }
    }
  } finally {
    expect(tf.memory().numTensors).toBe(before);
    xT.dispose();
  }
  return { values: values!, evaluations };
}

describe('adaptive SDE solver (Gotta Go Fast)', () => {
  for (const tol of [0.01, 0.05]) {
    it(`samples N(0.4, 0.5²) at tolerance ${tol}`, () => {
      const m = sampleMoments(run(tol).values);
      expect(Math.abs(m.mean - 0.4)).toBeLessThan(5 * m.seMean);
      expect(Math.abs(m.variance - 0.25)).toBeLessThan(5 * m.seVariance);
    });
  }

  it('takes fewer evaluations at looser tolerances, and frees everything when the model throws', () => {
    const evals = [0.01, 0.05, 0.2].map((tol) => run(tol).evaluations);
    expect(evals[0]).toBeGreaterThan(evals[1]);
    expect(evals[1]).toBeGreaterThan(evals[2]);
    let calls = 0;
    const failing: DenoiseFn = (x, t) => {
      if (++calls === 5) throw new Error('boom');
      return exact(x, t);
    };
    expect(() => run(0.05, failing)).toThrow('boom');
  });
});
