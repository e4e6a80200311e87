/**
 * The worker's half of the denoising player: every step's predicted noise ε̂ is the noise the
 * model's output stands for, whatever it predicts (ε, x0 or v), and x_t = √ᾱ·x̂0 + √(1−ᾱ)·ε̂ holds
 * at every step; the step recorder turns steps into positions 0..N (x_T, each step's x_t with its
 * predictions, the final sample) as bytes, batched, with nothing lost or repeated.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLER, DEFAULT_SCHEDULE, PREDICTION_TYPES, createSampler, makeSchedule, mixtureDenoiser, sampleLoop, toX0AndEps } from '../../src/diffusion';
import { withPredictedNoise } from '../../src/sampling/sample';
import { StepRecorder } from '../../src/engine/step-record';
import { IMAGE_RANGE, NOISE_RANGE, dequantize, quantize } from '../../src/protocol/quantize';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE);
const MIX = [
  { weight: 0.4, mean: -0.4, std: 0.2 },
  { weight: 0.6, mean: 0.5, std: 0.2 },
];
const shape: [number, number, number, number] = [3, 4, 4, 1];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('withPredictedNoise', () => {
  for (const prediction of PREDICTION_TYPES) {
    it(`gives the model's own ε̂ for ${prediction}-prediction, at every step, and frees everything`, () => {
      const before = tf.memory().numTensors;
      const model = mixtureDenoiser(MIX, schedule, prediction);
      const sampler = createSampler(schedule, { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 6, clipping: 'none' }, prediction);
      const xT = tf.randomNormal(shape, 0, 1, 'float32', 5) as tf.Tensor4D;
      let expectedInput = xT.clone();
      let steps = 0;
      for (const step of withPredictedNoise(sampleLoop(model, sampler, xT), xT, schedule, prediction)) {
        const ab = schedule.alphasCumprod[step.t];
        expect(maxAbsDiff(step.input.dataSync(), expectedInput.dataSync()), 'input is the previous result').toBe(0);
        const raw = tf.tidy(() => {
          const out = model(step.input, step.t);
          const { x0, eps } = toX0AndEps(prediction, out, step.input, ab);
          return [x0.dataSync(), eps.dataSync()];
        });
        expect(maxAbsDiff(step.x0.dataSync(), raw[0])).toBeLessThan(1e-4);
        expect(maxAbsDiff(step.eps.dataSync(), raw[1]), `ε̂ at t = ${step.t}`).toBeLessThan(2e-3);
        const rebuilt = tf.tidy(() => tf.add(tf.mul(step.x0, Math.sqrt(ab)), tf.mul(step.eps, Math.sqrt(1 - ab))).dataSync());
        expect(maxAbsDiff(rebuilt, step.input.dataSync())).toBeLessThan(1e-4);
        expectedInput.dispose();
        expectedInput = step.xt.clone();
        steps++;
      }
      expect(steps).toBe(6);
      expectedInput.dispose();
      xT.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('frees its tensors when the run stops early', () => {
    const before = tf.memory().numTensors;
    const sampler = createSampler(schedule, { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 8 }, 'epsilon');
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const step of withPredictedNoise(sampleLoop(mixtureDenoiser(MIX, schedule, 'epsilon'), sampler, xT), xT, schedule, 'epsilon')) {
      if (step.index === 3) break;
    }
    expect(xT.isDisposed).toBe(false);
    xT.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('StepRecorder', () => {
  const images = { n: 2, h: 2, w: 2, c: 1 };
  const size = 8;
  const values = (v: number) => new Float32Array(size).fill(v);

  it('records positions 0..N: x_T, each step with its predictions, the final sample; batched without gaps', () => {
    const rec = new StepRecorder(7, 3, images, null);
    rec.start(values(-1));
    rec.add({ t: 90, xNext: values(-0.5), x0: values(0.25), eps: values(1.5) });
    const first = rec.flush()!;
    expect(first).toMatchObject({ type: 'sample/steps', run: 7, steps: 3, first: 0, count: 1, images, latents: null });
    expect([...first.t]).toEqual([90]);
    expect(first.x[0]).toBe(0); // x_T = −1
    expect(dequantize(first.x0[0], IMAGE_RANGE)).toBeCloseTo(0.25, 2);
    expect(dequantize(first.eps![0], NOISE_RANGE)).toBeCloseTo(1.5, 1);
    expect(rec.flush()).toBeNull();
    rec.add({ t: 60, xNext: values(0), x0: values(0.5), eps: values(-1) });
    rec.add({ t: 30, xNext: values(0.75), x0: values(0.75), eps: values(0) });
    const rest = rec.flush()!;
    expect(rest).toMatchObject({ first: 1, count: 3 });
    expect([...rest.t]).toEqual([60, 30, -1]);
    expect(rest.x.length).toBe(3 * size);
    // Position 1's x_t is step 1's result; the final sample is the last result, with ε̂ = 0.
    expect(rest.x[0]).toBe(quantize([-0.5], IMAGE_RANGE)[0]);
    expect(rest.x[2 * size]).toBe(quantize([0.75], IMAGE_RANGE)[0]);
    expect(rest.x0[2 * size]).toBe(rest.x[2 * size]);
    expect(dequantize(rest.eps![2 * size], NOISE_RANGE)).toBeCloseTo(0, 1);
  });

  it('keeps a latent model’s decodings as images and its latents beside them', () => {
    const latents = { n: 2, h: 1, w: 1, c: 3 };
    const rec = new StepRecorder(1, 1, images, latents);
    rec.start(new Float32Array(6).fill(2), values(-1));
    rec.add({ t: 5, xNext: new Float32Array(6).fill(1), x0: new Float32Array(6).fill(1), eps: new Float32Array(6).fill(-4), decodedNext: values(1), decodedX0: values(1) });
    const m = rec.flush()!;
    expect(m.count).toBe(2);
    expect(m.eps).toBeNull();
    expect(m.x.length).toBe(2 * size);
    expect(m.latents!.x.length).toBe(2 * 6);
    expect(m.latents!.eps[0]).toBe(0); // −4 is the bottom of the latent range
    expect(m.x[0]).toBe(0);
    expect(m.x[size]).toBe(255);
  });
});
