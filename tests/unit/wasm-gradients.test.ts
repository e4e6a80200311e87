/**
 * The wasm `Conv2DBackpropFilter` kernel (src/engine/wasm-gradients.ts) against the cpu backend's
 * own gradient, and the backend fallback logic in Node.
 *
 * Tolerance: max |wasm - cpu| <= 1e-4 * max(1, max |cpu|). Both compute in float32 but sum in a
 * different order (XNNPACK vs naive loops); differences seen are around 1e-6 to 4e-6.
 * Shapes stay small because the cpu backend's filter gradient is a slow naive loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/engine/node-backend';
import { registerWasmConvGradients } from '../../src/engine/wasm-gradients';
import { BACKEND_ORDER, initBackend } from '../../src/engine/backends';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case { n: number; size: number; k: number; ci: number; co: number; stride: number; pad: Pad }

/** Deterministic values in [-0.5, 0.5) (a small LCG), so cpu and wasm see identical inputs. */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Output size of the forward conv, so the upstream gradient g matches its shape. */
function outShape(c: Case): [number, number, number, number] {
  const y = tf.tidy(() => tf.conv2d(tf.zeros([c.n, c.size, c.size, c.ci]) as tf.Tensor4D, tf.zeros([c.k, c.k, c.ci, c.co]) as tf.Tensor4D, c.stride, c.pad));
  const shape = y.shape;
  y.dispose();
  return shape;
}

/** Filter gradient on `backend`, by `tf.grad` or by `tf.variableGrads`, for loss sum(conv(x, w) * g). */
async function filterGrad(backend: 'cpu' | 'wasm', c: Case, via: 'grad' | 'variableGrads'): Promise<Float32Array> {
  await tf.setBackend(backend);
  const yShape = outShape(c);
  const x = tf.tensor4d(values(c.n * c.size * c.size * c.ci, 1), [c.n, c.size, c.size, c.ci]);
  const w0 = tf.tensor4d(values(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
  const g = tf.tensor4d(values(yShape.reduce((a, b) => a * b), 3), yShape);
  const loss = (w: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.stride, c.pad), g));
  let dw: tf.Tensor;
  if (via === 'grad') {
    dw = tf.grad(loss)(w0);
  } else {
    const v = tf.variable(w0);
    const { value, grads } = tf.variableGrads(() => loss(v), [v]);
    value.dispose();
    dw = grads[v.name];
    v.dispose();
  }
  const data = (await dw.data()) as Float32Array;
  tf.dispose([x, w0, g, dw]);
  return data;
}

const CASES: Case[] = [
  { n: 2, size: 7, k: 3, ci: 3, co: 5, stride: 1, pad: 'same' },
  { n: 2, size: 8, k: 3, ci: 2, co: 4, stride: 2, pad: 'same' }, // asymmetric TF 'same' padding
  { n: 2, size: 7, k: 3, ci: 4, co: 3, stride: 2, pad: 'same' },
  { n: 2, size: 8, k: 3, ci: 3, co: 2, stride: 1, pad: 'valid' },
  { n: 2, size: 7, k: 3, ci: 2, co: 6, stride: 2, pad: 'valid' },
  { n: 2, size: 8, k: 1, ci: 5, co: 3, stride: 1, pad: 'same' },
  { n: 3, size: 7, k: 1, ci: 4, co: 2, stride: 2, pad: 'valid' },
  { n: 2, size: 14, k: 3, ci: 8, co: 8, stride: 2, pad: 'same' },
  { n: 2, size: 14, k: 3, ci: 4, co: 6, stride: 1, pad: 'same' },
  { n: 1, size: 28, k: 3, ci: 1, co: 4, stride: 2, pad: 'same' },
  { n: 1, size: 28, k: 3, ci: 2, co: 3, stride: 1, pad: 'valid' },
  { n: 2, size: 8, k: 3, ci: 2, co: 3, stride: 2, pad: 1 }, // numeric padding
  { n: 2, size: 7, k: 3, ci: 2, co: 3, stride: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] }, // explicit
];

const label = (c: Case): string =>
  `x[${c.n},${c.size},${c.size},${c.ci}] w[${c.k},${c.k},${c.ci},${c.co}] stride ${c.stride} pad ${JSON.stringify(c.pad)}`;

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('is registered, and registering again is harmless', () => {
    registerWasmConvGradients();
    registerWasmConvGradients();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  for (const c of CASES) {
    it(`matches the cpu backend: ${label(c)}`, async () => {
      const ref = await filterGrad('cpu', c, 'grad');
      const tol = 1e-4 * Math.max(1, maxAbs(ref));
      expect(maxDiff(await filterGrad('wasm', c, 'grad'), ref)).toBeLessThanOrEqual(tol);
      expect(maxDiff(await filterGrad('wasm', c, 'variableGrads'), ref)).toBeLessThanOrEqual(tol);
    });
  }

  it('leaks no tensors and no backend buffers', async () => {
    await tf.setBackend('wasm');
    // Padded + sliced, a batch and channel of 1 (Transpose takes its copy path), and 1x1 valid.
    for (const c of [CASES[1], CASES[9], CASES[6]]) {
      await filterGrad('wasm', c, 'grad'); // warm-up
      const tensors = tf.memory().numTensors;
      const buffers = tf.engine().backend.numDataIds();
      await filterGrad('wasm', c, 'grad');
      await filterGrad('wasm', c, 'variableGrads');
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.engine().backend.numDataIds()).toBe(buffers);
    }
  });

  it('rejects NCHW with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 2, 4, 4]);
    const dy = tf.zeros([1, 3, 4, 4]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] };
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs)).toThrow(/NHWC/);
    tf.dispose([x, dy]);
  });

  it("wasm's own Conv2DBackpropInput agrees with cpu", async () => {
    for (const c of [CASES[1], CASES[4], CASES[7]]) {
      const dx: Float32Array[] = [];
      for (const backend of ['cpu', 'wasm'] as const) {
        await tf.setBackend(backend);
        const yShape = outShape(c);
        const x = tf.tensor4d(values(c.n * c.size * c.size * c.ci, 1), [c.n, c.size, c.size, c.ci]);
        const w = tf.tensor4d(values(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
        const g = tf.tensor4d(values(yShape.reduce((a, b) => a * b), 3), yShape);
        const d = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, w, c.stride, c.pad), g)))(x);
        dx.push((await d.data()) as Float32Array);
        tf.dispose([x, w, g, d]);
      }
      expect(maxDiff(dx[1], dx[0])).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(dx[0])));
    }
  });
});

describe('initBackend in Node', () => {
  afterAll(async () => {
    await initNodeBackend('wasm');
  });

  it('keeps the preferred order', () => {
    expect(BACKEND_ORDER).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('starts cpu when asked, with no note', async () => {
    const r = await initBackend('cpu');
    expect(r).toEqual({ backend: 'cpu', fallbackNote: null, adapter: null });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('falls back from webgpu to wasm, saying why', async () => {
    const r = await initBackend('webgpu');
    expect(r.backend).toBe('wasm');
    expect(r.adapter).toBeNull();
    expect(r.fallbackNote).toMatch(/webgpu/i);
    expect(r.fallbackNote).toMatch(/wasm/);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('with no request, notes that the GPU backends were unavailable', async () => {
    const r = await initBackend(null);
    expect(r.backend).toBe('wasm');
    expect(r.fallbackNote).toMatch(/webgpu/);
    expect(r.fallbackNote).toMatch(/webgl/);
  });
});
