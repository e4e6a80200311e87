/**
 * The wasm `Conv2DBackpropFilter` and `Conv2DBackpropInput` kernels (src/backends/wasm/conv-gradients.ts)
 * against the cpu backend's own gradients, and the backend fallback logic in Node.
 *
 * Tolerance: max |wasm - cpu| <= 1e-4 * max(1, max |cpu|). Both compute in float32 but sum in a
 * different order (XNNPACK vs naive loops); differences seen are around 1e-6 to 4e-6.
 * Shapes stay small because the cpu backend's filter gradient is a slow naive loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import {
  chooseFilterGradMethod,
  conv2DBackpropInputWasm,
  originalWasmConv2DBackpropInput,
  registerWasmConvGradients,
  setWasmFilterGradMethod,
} from '../../src/backends/wasm/conv-gradients';
import { BACKEND_ORDER, initBackend } from '../../src/backends/select';
import { maxDiff, values } from './gradient-helpers';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case { n: number; size: number; k: number; ci: number; co: number; stride: number; pad: Pad }


function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
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
});

/** The models' layer kinds, small: 3x3 'same' strides 1 and 2, even and odd sides, 1x1, ci = 1. */
const MODEL_CASES: Case[] = [
  { n: 2, size: 8, k: 3, ci: 6, co: 4, stride: 1, pad: 'same' },
  { n: 2, size: 7, k: 3, ci: 6, co: 4, stride: 1, pad: 'same' },
  { n: 2, size: 8, k: 3, ci: 4, co: 4, stride: 2, pad: 'same' },
  { n: 2, size: 7, k: 3, ci: 4, co: 6, stride: 2, pad: 'same' },
  { n: 3, size: 8, k: 1, ci: 6, co: 3, stride: 1, pad: 'same' },
  { n: 2, size: 8, k: 3, ci: 1, co: 4, stride: 1, pad: 'same' },
  { n: 2, size: 8, k: 3, ci: 5, co: 1, stride: 1, pad: 'same' },
];

describe('wasm Conv2DBackpropFilter, each formulation forced', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  afterAll(async () => {
    setWasmFilterGradMethod('auto');
    await tf.setBackend('wasm');
  });

  for (const method of ['gemm', 'conv'] as const) {
    for (const c of [...CASES, ...MODEL_CASES]) {
      it(`${method} matches the cpu backend: ${label(c)}`, async () => {
        setWasmFilterGradMethod('auto');
        const ref = await filterGrad('cpu', c, 'grad');
        const tol = 1e-4 * Math.max(1, maxAbs(ref));
        setWasmFilterGradMethod(method);
        expect(maxDiff(await filterGrad('wasm', c, 'grad'), ref)).toBeLessThanOrEqual(tol);
        setWasmFilterGradMethod('auto');
      });
    }
  }

  it('gemm leaks no tensors and no backend buffers', async () => {
    await tf.setBackend('wasm');
    setWasmFilterGradMethod('gemm');
    for (const c of [MODEL_CASES[0], MODEL_CASES[2], MODEL_CASES[4], CASES[9]]) {
      await filterGrad('wasm', c, 'grad'); // warm-up
      const tensors = tf.memory().numTensors;
      const buffers = tf.engine().backend.numDataIds();
      await filterGrad('wasm', c, 'grad');
      await filterGrad('wasm', c, 'variableGrads');
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.engine().backend.numDataIds()).toBe(buffers);
    }
    setWasmFilterGradMethod('auto');
  });

  it("'auto' takes gemm only for 1x1 kernels and very few input channels at stride 1", () => {
    const s = { n: 16, ho: 28, wo: 28, ci: 32, co: 32, kh: 3, kw: 3, strideH: 1, strideW: 1 };
    expect(chooseFilterGradMethod(s)).toBe('conv');
    expect(chooseFilterGradMethod({ ...s, ci: 1 })).toBe('gemm');
    expect(chooseFilterGradMethod({ ...s, kh: 1, kw: 1 })).toBe('gemm');
    expect(chooseFilterGradMethod({ ...s, ci: 1, strideH: 2, strideW: 2 })).toBe('conv');
    expect(chooseFilterGradMethod({ ...s, ho: 7, wo: 7, ci: 64, co: 64 })).toBe('conv');
  });
});

interface InputCase {
  n: number; h: number; w: number; ci: number; co: number;
  kh: number; kw: number; strides: [number, number]; pad: Pad;
}

const sq = (n: number, size: number, k: number, ci: number, co: number, stride: number, pad: Pad): InputCase =>
  ({ n, h: size, w: size, ci, co, kh: k, kw: k, strides: [stride, stride], pad });

const INPUT_CASES: InputCase[] = [
  sq(2, 7, 3, 3, 5, 1, 'same'),
  sq(2, 8, 3, 2, 4, 2, 'same'), // asymmetric TF 'same' padding (bottom/right only)
  sq(2, 7, 3, 4, 3, 2, 'same'),
  sq(2, 8, 3, 3, 2, 1, 'valid'),
  sq(2, 7, 3, 2, 6, 2, 'valid'),
  sq(2, 8, 3, 3, 2, 2, 'valid'), // last row/column of x never reached by the forward conv
  sq(2, 8, 1, 5, 3, 1, 'same'),
  sq(3, 7, 1, 4, 2, 2, 'valid'), // D's trailing zero row/column reaches past x: cropped
  sq(2, 8, 1, 4, 2, 2, 'same'),
  sq(2, 14, 3, 8, 8, 2, 'same'),
  sq(2, 14, 3, 4, 6, 1, 'same'),
  sq(1, 28, 3, 1, 4, 2, 'same'),
  sq(1, 28, 3, 2, 3, 1, 'valid'),
  sq(2, 8, 3, 2, 3, 2, 1), // numeric padding
  sq(2, 7, 3, 2, 3, 2, [[0, 0], [1, 2], [0, 1], [0, 0]]), // explicit
  sq(2, 7, 3, 2, 3, 1, [[0, 0], [3, 0], [0, 4], [0, 0]]), // pad beyond kh-1: D cropped at the top
  { n: 2, h: 7, w: 8, ci: 3, co: 2, kh: 3, kw: 1, strides: [1, 2], pad: 'same' }, // non-square
  { n: 1, h: 8, w: 7, ci: 2, co: 3, kh: 1, kw: 3, strides: [2, 1], pad: 'valid' },
];

const inputLabel = (c: InputCase): string =>
  `x[${c.n},${c.h},${c.w},${c.ci}] w[${c.kh},${c.kw},${c.ci},${c.co}] strides ${c.strides} pad ${JSON.stringify(c.pad)}`;

/** Input gradient on `backend` by `tf.grad` w.r.t. x, for loss sum(conv(x, w) * g). */
async function inputGrad(backend: 'cpu' | 'wasm', c: InputCase): Promise<Float32Array> {
  await tf.setBackend(backend);
  const x0 = tf.tensor4d(values(c.n * c.h * c.w * c.ci, 1), [c.n, c.h, c.w, c.ci]);
  const w = tf.tensor4d(values(c.kh * c.kw * c.ci * c.co, 2), [c.kh, c.kw, c.ci, c.co]);
  const yShape = tf.tidy(() => tf.conv2d(x0, w, c.strides, c.pad).shape);
  const g = tf.tensor4d(values(yShape.reduce((a, b) => a * b), 3), yShape);
  const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w, c.strides, c.pad), g)))(x0);
  expect(dx.shape).toEqual(x0.shape);
  const data = (await dx.data()) as Float32Array;
  tf.dispose([x0, w, g, dx]);
  return data;
}

describe('wasm Conv2DBackpropInput (forward conv on XNNPACK)', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it("replaces wasm's own kernel once, keeping it as the fallback", () => {
    registerWasmConvGradients();
    registerWasmConvGradients();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2DBackpropInputWasm);
    const original = originalWasmConv2DBackpropInput();
    expect(original).toBeDefined();
    expect(original?.kernelFunc).not.toBe(conv2DBackpropInputWasm);
  });

  for (const c of INPUT_CASES) {
    it(`matches the cpu backend: ${inputLabel(c)}`, async () => {
      const ref = await inputGrad('cpu', c);
      expect(maxDiff(await inputGrad('wasm', c), ref)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(ref)));
    });
  }

  it('matches the cpu backend for conv2dTranspose (whose forward is this kernel)', async () => {
    const out: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const dy = tf.tensor4d(values(2 * 4 * 4 * 6, 4), [2, 4, 4, 6]);
      const w = tf.tensor4d(values(3 * 3 * 3 * 6, 5), [3, 3, 3, 6]);
      const y = tf.conv2dTranspose(dy, w, [2, 7, 7, 3], 2, 'same');
      out.push((await y.data()) as Float32Array);
      tf.dispose([dy, w, y]);
    }
    expect(maxDiff(out[1], out[0])).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(out[0])));
  });

  it('leaks no tensors and no backend buffers', async () => {
    await tf.setBackend('wasm');
    // Stride 1 (no dilation), stride 2 dilated, cropped at the bottom, cropped at the top.
    for (const c of [INPUT_CASES[0], INPUT_CASES[1], INPUT_CASES[7], INPUT_CASES[15]]) {
      await inputGrad('wasm', c); // warm-up
      const tensors = tf.memory().numTensors;
      const buffers = tf.engine().backend.numDataIds();
      await inputGrad('wasm', c);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.engine().backend.numDataIds()).toBe(buffers);
    }
  });

  it("sends NCHW to wasm's own kernel, which agrees with cpu", async () => {
    const out: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const dy = tf.tensor4d(values(2 * 3 * 4 * 4, 6), [2, 3, 4, 4]);
      const filter = tf.tensor4d(values(3 * 3 * 2 * 3, 7), [3, 3, 2, 3]);
      const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 2, 8, 8] };
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
      expect(dx.shape).toEqual([2, 2, 8, 8]);
      out.push((await dx.data()) as Float32Array);
      tf.dispose([dy, filter, dx]);
    }
    expect(maxDiff(out[1], out[0])).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(out[0])));
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
    expect(r).toEqual({ backend: 'cpu', fallbackNote: null, adapter: null, wasmThreads: null });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('falls back from webgpu to wasm, saying why', async () => {
    const r = await initBackend('webgpu');
    expect(r.backend).toBe('wasm');
    expect(r.adapter).toBeNull();
    expect(r.fallbackNote).toMatch(/webgpu/i);
    expect(r.fallbackNote).toMatch(/wasm/);
    expect(r.wasmThreads).toBe(1); // the tests' wasm backend runs single-threaded
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('with no request, notes that the GPU backends were unavailable', async () => {
    const r = await initBackend(null);
    expect(r.backend).toBe('wasm');
    expect(r.fallbackNote).toMatch(/webgpu/);
    expect(r.fallbackNote).toMatch(/webgl/);
  });
});
