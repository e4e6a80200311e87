/**
 * EMA of model weights (src/models/ema.ts) on the wasm backend: the recursion against float64
 * closed forms, warm-up, sampling with the EMA (withShadow / copyTo) and tensor hygiene.
 */
import { mulberry32 } from '../../src/diffusion/random';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { Ema } from '../../src/models/ema';
import { UNET_CONFIGS } from '../../src/models/setup/unet-config';
import { createUNet } from '../../src/models/unet';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** Deterministic values in [-2, 2). */
function rand(seed: number, n: number): Float64Array {
  const next = mulberry32(seed);
  return Float64Array.from({ length: n }, () => next() * 4 - 2);
}

/** Float32-exact values (so float64 expectations start from what the variables hold). */
const f32 = (x: Float64Array): Float64Array => Float64Array.from(Float32Array.from(x));

function makeWeights(seed: number): Map<string, tf.Variable> {
  const make = (values: Float64Array, shape: number[]): tf.Variable => {
    const init = tf.tensor(Float32Array.from(values), shape, 'float32');
    const v = tf.variable(init);
    init.dispose(); // the variable keeps the data
    return v;
  };
  return new Map([
    ['a.w', make(rand(seed, 6), [2, 3])],
    ['a.b', make(rand(seed + 1, 3), [3])],
  ]);
}

/** v ← values, leaving no temporary tensor behind. */
function set(v: tf.Variable, values: Float64Array): void {
  tf.tidy(() => v.assign(tf.tensor(Float32Array.from(values), v.shape, 'float32')));
}

function disposeAll(weights: Map<string, tf.Variable>): void {
  for (const v of weights.values()) v.dispose();
}

function expectClose(actual: Float32Array, expected: Float64Array, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(tol);
}

describe('Ema', () => {
  it('rejects a decay outside [0, 1) with a clear error', () => {
    const w = makeWeights(1);
    for (const bad of [1, 1.5, -0.01, Number.NaN, Infinity]) {
      expect(() => new Ema(w, bad)).toThrow(/ema: decay must be a number in \[0, 1\)/);
    }
    const zero = new Ema(w, 0);
    zero.dispose();
    disposeAll(w);
  });

  it('matches the closed form d^k·s0 + (1 − d^k)·w after k updates with constant weights', () => {
    const w = makeWeights(2);
    const s0 = new Map([...w].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
    const ema = new Ema(w, 0.9);
    const target = new Map([...w].map(([n, v]) => [n, f32(rand(50 + v.size, v.size))]));
    for (const [n, v] of w) set(v, target.get(n) as Float64Array);
    for (const k of [1, 5, 40]) {
      while (ema.step < k) ema.update();
      const dk = 0.9 ** k;
      for (const [n, s] of ema.shadow) {
        const x0 = s0.get(n) as Float64Array;
        const x1 = target.get(n) as Float64Array;
        const expected = x0.map((v, i) => dk * v + (1 - dk) * x1[i]);
        expectClose(s.dataSync() as Float32Array, expected, 2e-6);
      }
    }
    ema.dispose();
    disposeAll(w);
  });

  it('follows a known sequence of weights (expected computed in float64)', () => {
    const w = makeWeights(3);
    const decay = 0.75;
    const ema = new Ema(w, decay);
    const expected = new Map([...w].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
    for (let step = 0; step < 25; step++) {
      for (const [n, v] of w) {
        const next = f32(rand(1000 + 17 * step + v.size, v.size));
        set(v, next);
        const e = expected.get(n) as Float64Array;
        for (let i = 0; i < e.length; i++) e[i] = decay * e[i] + (1 - decay) * next[i];
      }
      ema.update();
    }
    for (const [n, s] of ema.shadow) expectClose(s.dataSync() as Float32Array, expected.get(n) as Float64Array, 2e-6);
    ema.dispose();
    disposeAll(w);
  });

  it('warms up with decay_t = min(decay, (1 + t) / (10 + t)) when asked', () => {
    const w = makeWeights(4);
    const ema = new Ema(w, 0.5, { warmup: true });
    const expected = new Map([...w].map(([n, v]) => [n, Float64Array.from(v.dataSync())]));
    const decays: number[] = [];
    for (let t = 0; t < 12; t++) {
      const d = ema.nextDecay();
      decays.push(d);
      for (const [n, v] of w) {
        const next = f32(rand(77 + t + v.size, v.size));
        set(v, next);
        const e = expected.get(n) as Float64Array;
        for (let i = 0; i < e.length; i++) e[i] = d * e[i] + (1 - d) * next[i];
      }
      ema.update();
    }
    expect(decays.slice(0, 3)).toEqual([1 / 10, 2 / 11, 3 / 12]);
    expect(decays[8]).toBe(0.5); // (1+8)/(10+8) = 0.5
    expect(decays[11]).toBe(0.5);
    for (const [n, s] of ema.shadow) expectClose(s.dataSync() as Float32Array, expected.get(n) as Float64Array, 2e-6);
    expect(new Ema(w, 0.9).nextDecay()).toBe(0.9);
    ema.dispose();
    disposeAll(w);
  });

  it('leaks no tensor per update, swap or copy, and dispose frees the shadows', () => {
    const w = makeWeights(5);
    const before = tf.memory().numTensors;
    const ema = new Ema(w, 0.99);
    const withShadows = tf.memory().numTensors;
    expect(withShadows).toBe(before + w.size);
    for (let i = 0; i < 10; i++) ema.update();
    expect(tf.memory().numTensors).toBe(withShadows);
    ema.withShadow(() => undefined);
    expect(tf.memory().numTensors).toBe(withShadows);
    const other = makeWeights(6);
    ema.copyTo(other);
    expect(tf.memory().numTensors).toBe(withShadows + other.size);
    disposeAll(other);
    ema.dispose();
    ema.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => ema.update()).toThrow(/after dispose/);
    disposeAll(w);
  });

  it('samples with the EMA weights through withShadow or copyTo, leaving the training weights bit-identical', () => {
    const model = createUNet(UNET_CONFIGS.tiny, 11);
    const ema = new Ema(model.weights, 0.5);
    // Move the training weights away from the shadow so the two differ everywhere.
    for (const v of model.weights.values()) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 3))));
    ema.update();
    const training = new Map([...model.weights].map(([n, v]) => [n, v.dataSync().slice()]));
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const t = tf.tensor1d([10, 500], 'float32');

    const viaSwap = ema.withShadow(() => {
      for (const [n, v] of model.weights) expect(v.dataSync()).toEqual(ema.shadow.get(n)?.dataSync());
      return model.apply(x, t);
    });
    for (const [n, v] of model.weights) expect(v.dataSync()).toEqual(training.get(n));

    const sampler = createUNet(UNET_CONFIGS.tiny, 99);
    ema.copyTo(sampler.weights);
    const viaCopy = sampler.apply(x, t);
    expect(viaCopy.dataSync()).toEqual(viaSwap.dataSync());
    const live = model.apply(x, t);
    expect(live.dataSync()).not.toEqual(viaSwap.dataSync());

    // Restored also when fn throws, and an async fn is refused (after restoring).
    expect(() => ema.withShadow(() => { throw new Error('boom'); })).toThrow('boom');
    expect(() => ema.withShadow(async () => 1)).toThrow(/synchronous/);
    for (const [n, v] of model.weights) expect(v.dataSync()).toEqual(training.get(n));

    const wrong = new Map([...sampler.weights].slice(1));
    expect(() => ema.copyTo(wrong)).toThrow(/target lacks the weight/);
    tf.dispose([x, t, viaSwap, viaCopy, live]);
    sampler.dispose();
    ema.dispose();
    model.dispose();
  });
});
