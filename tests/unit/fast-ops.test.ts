/**
 * The fused ops of src/kernels/fast-ops.ts against tfjs's own autodiff of the plain formulation
 * (layers.ts with setFastOps(false)): forward values and every input's gradient, on the cpu backend
 * (the reference) and on wasm (where they are meant to be fast), for the shapes the models use;
 * no tensor leaks; conv2dFast's forward-conv gradient formulation (the one webgpu uses), forced on
 * cpu and wasm, against the cpu backend's autodiff; and one whole U-Net training step that gives the same loss and weights either way.
 *
 * Tolerance: float32 values of order 1 summed over up to a few thousand terms in a different order,
 * and GroupNorm's one-pass variance: |fast − plain| ≤ 2e-4 + 2e-4·|plain| elementwise.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from '../../src/backends/wasm/conv-gradients';
import { conv2d, dense, groupNorm, silu, upsampleNearest2x } from '../../src/models/layers';
import { convGradChoice, setConvGradStrategy, setFastOps } from '../../src/kernels/fast-ops';
import { UNET_CONFIGS, unetLayout } from '../../src/models/setup/unet-config';
import { createUNet } from '../../src/models/unet';
import { initWeightValues } from '../../src/models/layers';

const ATOL = 2e-4;
const RTOL = 2e-4;

beforeAll(async () => {
  registerWasmConvGradients();
  expect(await tf.setBackend('wasm')).toBe(true);
});

afterEach(() => {
  setFastOps(null);
  setConvGradStrategy(null);
});

function expectClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (ATOL + RTOL * Math.abs(e[i]));
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      at = i;
    }
  }
  expect(at, `${what}: element ${at} is ${a[at]}, expected ${e[at]}`).toBe(-1);
}

/** Value and gradients (w.r.t. every input, for a fixed random output gradient) with fast ops on or off. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], fast: boolean): tf.Tensor[] {
  setFastOps(fast);
  return tf.tidy(() => {
    const y = f(...inputs);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 11);
    const grads = tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs, dy);
    return [y, ...grads];
  });
}

/** Checks value and gradients of `f` fast against plain, and that the fast op leaks nothing. */
function checkOp(label: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): void {
  const plain = valueAndGrads(f, inputs, false);
  const before = tf.memory().numTensors;
  const fast = valueAndGrads(f, inputs, true);
  expect(tf.memory().numTensors - before, `${label}: tensors left`).toBe(fast.length);
  fast.forEach((t, i) => expectClose(t, plain[i], `${label} ${i === 0 ? 'value' : `grad ${i - 1}`}`));
  tf.dispose([...plain, ...fast]);
}

const rnd = (shape: number[], seed: number, mean = 0, std = 1) => tf.randomNormal(shape, mean, std, 'float32', seed);

describe.each(['cpu', 'wasm'])('fast ops on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it.each([
    [[2, 28, 28, 8], 2],
    [[2, 28, 28, 8], 4],
    [[2, 28, 28, 8], 8],
    [[2, 7, 7, 64], 8],
    [[3, 4, 4, 12], 3],
    [[2, 7, 7, 6], 2],
  ] as Array<[number[], number]>)('GroupNorm %j in %i groups', (shape, groups) => {
    const c = shape[3];
    // A mean offset and unequal scales per channel, as after a conv with bias.
    const x = tf.tidy(() => tf.add(tf.mul(rnd(shape, 1), rnd([c], 2, 1, 0.5)), rnd([c], 3, 0, 2)));
    const gamma = rnd([c], 4, 1, 0.3);
    const beta = rnd([c], 5);
    checkOp('groupNorm', (a, g, b) => groupNorm(a as tf.Tensor4D, g, b, groups), [x, gamma, beta]);
    checkOp('silu∘groupNorm', (a, g, b) => silu(groupNorm(a as tf.Tensor4D, g, b, groups)), [x, gamma, beta]);
    tf.dispose([x, gamma, beta]);
  });

  it('SiLU on [2,7,7,16] and [4,128]', () => {
    for (const shape of [[2, 7, 7, 16], [4, 128]]) {
      const x = rnd(shape, 6, 0, 3);
      checkOp('silu', (a) => silu(a), [x]);
      x.dispose();
    }
  });

  it.each([[[2, 14, 14, 8]], [[2, 7, 7, 16]], [[1, 4, 4, 3]], [[2, 3, 5, 2]]])('nearest ×2 upsampling %j', (shape) => {
    const x = rnd(shape, 7);
    checkOp('upsample', (a) => upsampleNearest2x(a as tf.Tensor4D), [x]);
    x.dispose();
  });

  it.each([
    [[2, 28, 28, 1], [3, 3, 1, 8], 1],
    [[2, 28, 28, 8], [3, 3, 8, 8], 2],
    [[2, 14, 14, 8], [1, 1, 8, 16], 1],
    [[2, 7, 7, 16], [3, 3, 16, 16], 2],
    [[2, 7, 7, 16], [3, 3, 16, 8], 1],
  ] as Array<[number[], number[], 1 | 2]>)('conv2d + bias %j * %j, stride %i', (xs, ws, stride) => {
    const x = rnd(xs, 8);
    const w = rnd(ws, 9, 0, 0.3);
    const b = rnd([ws[3]], 10);
    checkOp('conv2d', (a, k, c) => conv2d(a as tf.Tensor4D, k, c, stride), [x, w, b]);
    tf.dispose([x, w, b]);
  });

  it('dense [98,16]·[16,24] + b and [2,32]·[32,128] + b', () => {
    for (const [n, i, o] of [[98, 16, 24], [2, 32, 128]]) {
      const x = rnd([n, i], 12);
      const w = rnd([i, o], 13, 0, 0.3);
      const b = rnd([o], 14);
      checkOp('dense', (a, k, c) => dense(a as tf.Tensor2D, k, c), [x, w, b]);
      tf.dispose([x, w, b]);
    }
  });
});

describe('conv gradient strategies', () => {
  it('chooses per backend: forward convs on webgpu, the registered kernels on SwiftShader, wasm and cpu', () => {
    expect(convGradChoice('webgpu').filter).toBe('forward-conv');
    expect(convGradChoice('webgpu:swiftshader')).toEqual({ filter: 'kernel', input: 'kernel' });
    expect(convGradChoice('wasm')).toEqual({ filter: 'kernel', input: 'kernel' });
    expect(convGradChoice('cpu')).toEqual({ filter: 'kernel', input: 'kernel' });
    expect(convGradChoice('some-new-backend')).toEqual({ filter: 'kernel', input: 'kernel' });
    setConvGradStrategy('forward-conv');
    expect(convGradChoice('wasm')).toEqual({ filter: 'forward-conv', input: 'forward-conv' });
    setConvGradStrategy({ filter: 'forward-conv', input: 'kernel' });
    expect(convGradChoice('cpu')).toEqual({ filter: 'forward-conv', input: 'kernel' });
  });

  /** Value and gradients of conv2d + bias on `backend` from the same seeded inputs, as Float32Arrays. */
  async function convGrads(backend: string, fast: boolean, xs: number[], ws: number[], stride: 1 | 2): Promise<Float32Array[]> {
    expect(await tf.setBackend(backend)).toBe(true);
    const x = rnd(xs, 30);
    const w = rnd(ws, 31, 0, 0.3);
    const b = rnd([ws[3]], 32);
    const before = tf.memory().numTensors;
    const out = valueAndGrads((a, k, c) => conv2d(a as tf.Tensor4D, k, c, stride), [x, w, b], fast);
    expect(tf.memory().numTensors - before, `${backend}: tensors left`).toBe(out.length);
    const arrays = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose([...out, x, w, b]);
    return arrays;
  }

  const sizes = [7, 8, 14, 28];
  const cases: Array<[number, number, 1 | 2]> = [];
  for (const size of sizes) for (const k of [1, 3]) for (const stride of [1, 2] as const) cases.push([size, k, stride]);

  it.each(cases)('forward-conv dW and dx on cpu and wasm match cpu autodiff: side %i, kernel %i, stride %i', async (size, k, stride) => {
    const [ci, co] = size === 28 ? [2, 3] : [3, 5];
    const xs = [2, size, size, ci];
    const ws = [k, k, ci, co];
    const reference = await convGrads('cpu', false, xs, ws, stride); // tfjs's own gradients on cpu
    setConvGradStrategy('forward-conv');
    for (const backend of ['cpu', 'wasm']) {
      const fast = await convGrads(backend, true, xs, ws, stride);
      fast.forEach((a, i) => {
        const e = reference[i];
        expect(a.length).toBe(e.length);
        let worst = -1;
        for (let j = 0; j < e.length; j++) {
          if (!(Math.abs(a[j] - e[j]) <= ATOL + RTOL * Math.abs(e[j]))) worst = j;
        }
        expect(worst, `${backend} ${['value', 'dx', 'dW', 'db'][i]}: element ${worst} is ${a[worst]}, expected ${e[worst]}`).toBe(-1);
      });
    }
    setConvGradStrategy(null);
  });
});

describe('a whole U-Net training step (small preset, batch 2, wasm)', () => {
  it('gives the same loss and updated weights with the fast ops as with the plain formulation', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const config = UNET_CONFIGS.small;
    const step = (fast: boolean): { loss: tf.Tensor; weights: Map<string, tf.Tensor> } => {
      setFastOps(fast);
      const model = createUNet(config, 3);
      // Zero-initialised weights get random values, so that every gradient is non-trivial.
      for (const spec of unetLayout(config).weights) {
        if (spec.init === 'glorot') continue;
        tf.tidy(() => model.weights.get(spec.name)!.assign(tf.tensor(initWeightValues({ ...spec, init: 'glorot' }, 5), spec.shape)));
      }
      const opt = tf.train.sgd(0.1);
      const loss = tf.tidy(() => {
        const x = rnd([2, 28, 28, 1], 20) as tf.Tensor4D;
        const target = rnd([2, 28, 28, 1], 21);
        const t = tf.tensor1d([50, 700]);
        const labels = tf.tensor1d([3, 10], 'int32');
        const vars = [...model.weights.values()];
        const { value, grads } = tf.variableGrads(
          () => tf.losses.meanSquaredError(target, model.apply(x, t, { labels, training: true })) as tf.Scalar,
          vars,
        );
        opt.applyGradients(grads);
        return value;
      });
      const weights = new Map([...model.weights].map(([k, v]) => [k, tf.clone(v)]));
      opt.dispose();
      model.dispose();
      return { loss, weights };
    };
    const before = tf.memory().numTensors;
    const plain = step(false);
    const fast = step(true);
    expect(tf.memory().numTensors - before).toBe(2 * (1 + plain.weights.size));
    expectClose(fast.loss, plain.loss, 'loss');
    for (const [name, w] of plain.weights) expectClose(fast.weights.get(name)!, w, name);
    tf.dispose([plain.loss, fast.loss, ...plain.weights.values(), ...fast.weights.values()]);
  });
});
