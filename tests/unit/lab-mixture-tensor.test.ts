/**
 * The exact mixture denoiser in TensorFlow.js ops (src/diffusion/gaussian-mixture-2d-denoiser.ts)
 * against the float64 closed forms (src/diffusion/gaussian-mixture-2d.ts) and against central
 * finite differences of log q(x_t); it reads nothing back and frees every tensor it makes.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import {
  corruptedMixture2D,
  diffusionCorruption,
  flowCorruption,
  flowMixtureVelocity2D,
  mixtureLogDensity2D,
  mixtureOptimalEps2D,
  mixtureOptimalV2D,
  mixtureOptimalX02D,
  mixturePosterior2D,
  type LinearCorruption,
  type MixtureComponent2D,
} from '../../src/diffusion/gaussian-mixture-2d';
import { mixtureDenoiser2D, mixturePosterior2DTensor, mixtureVelocity2D } from '../../src/diffusion/gaussian-mixture-2d-denoiser';
import { makeSchedule } from '../../src/diffusion/schedule';

const MIX: MixtureComponent2D[] = [
  { mean: [1.5, 0.5], std: 0.3, weight: 2 },
  { mean: [-1, 1], std: 0.5, weight: 1 },
  { mean: [0, -1.5], std: 0.2, weight: 1 },
  { mean: [-2, -2], std: 0, weight: 0.5 },
];
/** Near the modes, between them and far out (where the softmax is one-sided). */
const POINTS = [0.3, 0.2, -1.2, 0.8, 1.0, -0.7, 0.0, 0.0, 2.1, 1.4, 1.52, 0.49, -6, 5, 9, -8, -2.01, -1.99];

beforeAll(async () => {
  await initNodeBackend('wasm');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Largest |a − b| relative to max(1, |b|). */
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

function tensorPosterior(c: LinearCorruption, points: number[]) {
  const x = tf.tensor2d(points, [points.length / 2, 2]);
  const p = mixturePosterior2DTensor(MIX, c, x);
  const out = { x0: p.x0.dataSync().slice(), eps: p.eps.dataSync().slice(), score: p.score.dataSync().slice() };
  tf.dispose([x, p.x0, p.eps, p.score]);
  return out;
}

const CORRUPTIONS: Array<[string, LinearCorruption]> = [
  ['ᾱ = 0.999', diffusionCorruption(0.999)],
  ['ᾱ = 0.6', diffusionCorruption(0.6)],
  ['ᾱ = 0.05', diffusionCorruption(0.05)],
  ['ᾱ = 0', diffusionCorruption(0)],
  ['flow t = 0.3', flowCorruption(0.3)],
  ['flow t = 1', flowCorruption(1)],
];

describe('the exact mixture denoiser in tf ops', () => {
  for (const [name, c] of CORRUPTIONS) {
    it(`matches the float64 closed form (x0, ε, score) at ${name}`, () => {
      const reference = mixturePosterior2D(MIX, c, POINTS);
      const got = tensorPosterior(c, POINTS);
      // float32 against float64: the score scales with 1/v, so it is compared relative to its size.
      expect(maxError(got.x0, reference.x0)).toBeLessThan(1e-4);
      expect(maxError(got.eps, reference.eps)).toBeLessThan(1e-4);
      expect(maxError(got.score, reference.score)).toBeLessThan(1e-4);
    });
  }

  it('its score is the gradient of log q(x_t) (central finite differences of the float64 log-density)', () => {
    for (const c of [diffusionCorruption(0.6), diffusionCorruption(0.05), flowCorruption(0.3)]) {
      const marginal = corruptedMixture2D(MIX, c);
      const { score } = tensorPosterior(c, POINTS.slice(0, 12));
      const h = 1e-5;
      for (let i = 0; i < 6; i++) {
        for (let d = 0; d < 2; d++) {
          const plus = POINTS.slice(2 * i, 2 * i + 2);
          const minus = plus.slice();
          plus[d] += h;
          minus[d] -= h;
          const fd = (mixtureLogDensity2D(marginal, plus)[0] - mixtureLogDensity2D(marginal, minus)[0]) / (2 * h);
          expect(score[2 * i + d]).toBeCloseTo(fd, 3);
        }
      }
    }
  });

  it('as the samplers call it: ε, x0 and v outputs and the flow velocity match the closed forms; no read-back, no leak', () => {
    const schedule = makeSchedule(DEFAULT_SCHEDULE);
    const n = POINTS.length / 2;
    const x = tf.tensor4d(POINTS, [n, 1, 1, 2]);
    const reads = vi.spyOn(tf.engine(), 'readSync');
    const before = tf.memory().numTensors;
    const outputs: Array<[tf.Tensor, Float64Array]> = [];
    for (const t of [0, 250, 999]) {
      const ab = schedule.alphasCumprod[t];
      outputs.push([mixtureDenoiser2D(MIX, schedule, 'epsilon')(x, t), mixtureOptimalEps2D(MIX, ab, POINTS)]);
      outputs.push([mixtureDenoiser2D(MIX, schedule, 'x0')(x, t), mixtureOptimalX02D(MIX, ab, POINTS)]);
      outputs.push([mixtureDenoiser2D(MIX, schedule, 'v')(x, t), mixtureOptimalV2D(MIX, ab, POINTS)]);
    }
    for (const t of [0, 0.5, 1]) outputs.push([mixtureVelocity2D(MIX)(x, t), flowMixtureVelocity2D(MIX, t, POINTS)]);
    expect(reads).not.toHaveBeenCalled();
    expect(tf.memory().numTensors).toBe(before + outputs.length);
    for (const [out, reference] of outputs) {
      expect(out.shape).toEqual([n, 1, 1, 2]);
      expect(maxError(out.dataSync(), reference)).toBeLessThan(1e-4);
    }
    expect(reads, 'the spy sees synchronous reads (dataSync above)').toHaveBeenCalled();
    tf.dispose(outputs.map(([out]) => out));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
