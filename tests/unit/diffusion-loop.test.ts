/**
 * The sampling loop: frames, tensor ownership, no leaks (complete runs, early stops, exceptions),
 * reproducible seeded noise, clipping, guidance and zero-terminal-SNR edge cases.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLER,
  DEFAULT_SCHEDULE,
  SAMPLER_KINDS,
  X0_CLIPPINGS,
  classifierFreeGuidance,
  createSampler,
  makeSchedule,
  mixtureDenoiser,
  sampleAll,
  sampleLoop,
  seededNoise,
  type DenoiseFn,
  type SamplerConfig,
} from '../../src/diffusion';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE);
const MIX = [
  { weight: 0.3, mean: -0.5, std: 0.15 },
  { weight: 0.7, mean: 0.5, std: 0.2 },
];
const shape: [number, number, number, number] = [4, 3, 3, 2];
const cfg = (patch: Partial<SamplerConfig>): SamplerConfig => ({ ...DEFAULT_SAMPLER, steps: 12, ...patch });

describe('sampleLoop', () => {
  it('yields one frame per step with its timesteps, and the last frame is the final sample', async () => {
    const sampler = createSampler(schedule, cfg({ kind: 'ddim', spacing: 'trailing' }), 'epsilon');
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
    const model = mixtureDenoiser(MIX, schedule, 'epsilon');
    const frames: { t: number; tPrev: number; xt: tf.Tensor4D; x0: tf.Tensor4D }[] = [];
    let final: Float32Array | null = null;
    for (const frame of sampleLoop(model, sampler, xT)) {
      expect(frame.total).toBe(12);
      expect(frame.index).toBe(frames.length);
      expect(frame.t).toBe(sampler.timesteps[frame.index]);
      expect(frame.xt.shape).toEqual(shape);
      expect(frame.x0.shape).toEqual(shape);
      frames.push(frame);
      if (frame.index > 0) expect(frames[frame.index - 1].xt.isDisposed).toBe(true); // freed on resume
      final = (await frame.xt.data()) as Float32Array;
    }
    expect(frames.map((f) => f.t)).toEqual([...sampler.timesteps]);
    expect(frames.map((f) => f.tPrev)).toEqual([...sampler.timesteps.slice(1), -1]);
    expect(frames.every((f) => f.xt.isDisposed && f.x0.isDisposed)).toBe(true);
    expect(xT.isDisposed).toBe(false); // the caller's
    const again = sampleAll(model, sampler, xT);
    expect(await again.data()).toEqual(final);
    tf.dispose([xT, again]);
  });

  for (const kind of SAMPLER_KINDS) {
    for (const clipping of X0_CLIPPINGS) {
      it(`${kind}, clipping ${clipping}: tf.memory().numTensors is unchanged after a whole loop, an early stop and a throw`, () => {
        const sampler = createSampler(schedule, cfg({ kind, clipping, eta: 0.5 }), 'v');
        const model = mixtureDenoiser(MIX, schedule, 'v');
        const xT = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
        const start = tf.memory().numTensors;
        let n = 0;
        for (const frame of sampleLoop(model, sampler, xT)) n = frame.index + 1;
        expect(n).toBe(12);
        expect(tf.memory().numTensors).toBe(start);
        // Early stop: `break` calls the generator's return().
        for (const frame of sampleLoop(model, sampler, xT)) if (frame.index === 3) break;
        expect(tf.memory().numTensors).toBe(start);
        const gen = sampleLoop(model, sampler, xT);
        gen.next();
        gen.next();
        gen.return();
        expect(tf.memory().numTensors).toBe(start);
        // A model that fails mid-run.
        let calls = 0;
        const failing: DenoiseFn = (x, t) => {
          if (++calls === 5) throw new Error('model failed');
          return model(x, t);
        };
        expect(() => {
          for (const frame of sampleLoop(failing, sampler, xT)) void frame;
        }).toThrow('model failed');
        expect(tf.memory().numTensors).toBe(start);
        // sampleAll leaves exactly its result.
        const out = sampleAll(model, sampler, xT);
        expect(tf.memory().numTensors).toBe(start + 1);
        tf.dispose([out, xT]);
      });
    }
  }

  it('is reproducible for a seed (default noise and seededNoise) and reusable (DPM history reset)', async () => {
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const model = mixtureDenoiser(MIX, schedule, 'epsilon');
    for (const kind of SAMPLER_KINDS) {
      const sampler = createSampler(schedule, cfg({ kind, eta: 1 }), 'epsilon');
      const a = sampleAll(model, sampler, xT);
      const b = sampleAll(model, sampler, xT);
      const c = sampleAll(model, sampler, xT, seededNoise(shape, 0));
      const d = sampleAll(model, sampler, xT, seededNoise(shape, 1));
      expect(await a.data()).toEqual(await b.data());
      expect(await a.data()).toEqual(await c.data());
      if (kind !== 'dpmpp') expect(await a.data()).not.toEqual(await d.data()); // stochastic kinds only
      tf.dispose([a, b, c, d]);
    }
    xT.dispose();
  });

  it('clips or thresholds the predicted x0 of every frame', async () => {
    // An x0-model that predicts 3·x_t: far outside [−1, 1].
    const wild: DenoiseFn = (x) => tf.mul(x, 3);
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 4) as tf.Tensor4D;
    for (const clipping of ['clip', 'dynamic'] as const) {
      const sampler = createSampler(schedule, cfg({ kind: 'ddim', clipping }), 'x0');
      for (const frame of sampleLoop(wild, sampler, xT)) {
        const x0 = await frame.x0.data();
        expect(Math.max(...x0.map(Math.abs))).toBeLessThanOrEqual(1 + 1e-6);
      }
    }
    xT.dispose();
  });

  it('works with classifier-free guidance and with zero terminal SNR (ε floored, v exact)', async () => {
    const zsnr = makeSchedule({ ...DEFAULT_SCHEDULE, rescaleZeroTerminalSnr: true });
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 5) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1, 0, 1]);
    const nullLabels = tf.fill([4], 2);
    const start = tf.memory().numTensors;
    for (const prediction of ['epsilon', 'v'] as const) {
      for (const kind of SAMPLER_KINDS) {
        const base = mixtureDenoiser(MIX, zsnr, prediction);
        // Label 1 shifts the output a little: enough to make the guided output differ.
        const cond = (x: tf.Tensor4D, t: number, l: tf.Tensor) =>
          tf.tidy(() => tf.add(base(x, t), tf.mul(tf.reshape(tf.equal(l, 1), [-1, 1, 1, 1]).toFloat(), 0.01)) as tf.Tensor4D);
        const guided = classifierFreeGuidance(cond, labels, nullLabels, 3);
        const sampler = createSampler(zsnr, cfg({ kind, spacing: 'trailing', clipping: 'none' }), prediction);
        expect(sampler.timesteps[0]).toBe(999); // starts at ᾱ = 0
        const out = sampleAll(guided, sampler, xT);
        expect((await out.data()).every(Number.isFinite)).toBe(true);
        out.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose([xT, labels, nullLabels]);
  });
});
