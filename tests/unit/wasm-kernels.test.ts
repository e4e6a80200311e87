/**
 * The wasm Slice and BatchMatMul replacements (src/backends/wasm/slice.ts, batch-matmul.ts)
 * against the cpu backend's kernels on the same values: every rank 1-4 slice kind (contiguous, row
 * runs, empty) and matrix products with batches, broadcast batches and transpose flags, on both the
 * per-entry XNNPACK path and the original kernel's. No tensor is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { batchMatMulWasm, worthXnnpack } from '../../src/backends/wasm/batch-matmul';
import { sliceWasm } from '../../src/backends/wasm/slice';
import { maxDiff, values } from './gradient-helpers';

/** Runs f on `backend` with the same input values; returns its output values and shape. */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<{ v: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const y = f();
  const out = { v: (await y.data()) as Float32Array, shape: y.shape };
  y.dispose();
  return out;
}

beforeAll(async () => {
  await initNodeBackend('wasm');
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('wasm Slice', () => {
  it('is the registered kernel', () => {
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc).toBe(sliceWasm);
  });

  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [10], begin: [3], size: [5] },
    { shape: [2, 25, 8], begin: [1, 0, 0], size: [1, 25, 8] }, // contiguous (the concat gradient's case)
    { shape: [6, 7], begin: [1, 2], size: [4, 3] },
    { shape: [3, 5, 6], begin: [0, 1, 2], size: [2, 3, 4] },
    { shape: [2, 6, 6, 3], begin: [0, 1, 1, 0], size: [2, 4, 4, 3] }, // an im2col tap
    { shape: [2, 5, 4, 6], begin: [1, 0, 2, 1], size: [1, 5, 2, -1] },
    { shape: [3, 4], begin: [1, 0], size: [0, 4] }, // empty
  ];
  for (const c of cases) {
    it(`slices ${JSON.stringify(c.shape)} at ${JSON.stringify(c.begin)} size ${JSON.stringify(c.size)} as the cpu backend does`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const make = () => tf.slice(tf.tensor(values(n, 5), c.shape), c.begin, c.size);
      const want = await on('cpu', () => tf.tidy(make));
      const before = (await tf.setBackend('wasm'), tf.memory().numTensors);
      const got = await on('wasm', () => tf.tidy(make));
      expect(tf.memory().numTensors).toBe(before);
      expect(got.shape).toEqual(want.shape);
      expect(maxDiff(got.v, want.v)).toBe(0); // a copy: bit-identical
    });
  }

  it('slices int32 tensors too', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const y = tf.slice(x, [1, 1], [2, 1]);
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual([4, 6]);
    tf.dispose([x, y]);
  });
});

describe('wasm BatchMatMul', () => {
  it('is the registered kernel', () => {
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(batchMatMulWasm);
  });

  it('takes the per-entry XNNPACK path only for matrix-matrix entries', () => {
    expect(worthXnnpack(49, 64)).toBe(true);
    expect(worthXnnpack(1, 64)).toBe(false);
    expect(worthXnnpack(64, 1)).toBe(false);
  });

  const cases: [number[], number[], boolean, boolean][] = [
    [[3, 9, 10], [3, 10, 12], false, false],
    [[3, 10, 9], [3, 10, 12], true, false],
    [[3, 9, 10], [3, 12, 10], false, true],
    [[3, 10, 9], [3, 12, 10], true, true],
    [[1, 9, 10], [4, 10, 12], false, false], // a broadcast
    [[2, 3, 9, 10], [10, 12], false, false], // b broadcast over two batch axes
    [[4, 49, 16], [4, 49, 16], false, true], // attention's q·kᵀ
    [[5, 1, 20], [5, 20, 8], false, false], // matrix-vector: the original kernel
    [[30, 8], [30, 1], true, false],
    [[9, 10], [10, 12], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    it(`multiplies ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} x ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''} as the cpu backend does`, async () => {
      const na = sa.reduce((a, b) => a * b, 1);
      const nb = sb.reduce((a, b) => a * b, 1);
      const make = () => tf.matMul(tf.tensor(values(na, 1), sa), tf.tensor(values(nb, 2), sb), ta, tb);
      const want = await on('cpu', () => tf.tidy(make));
      const before = (await tf.setBackend('wasm'), tf.memory().numTensors);
      const got = await on('wasm', () => tf.tidy(make));
      expect(tf.memory().numTensors).toBe(before);
      expect(got.shape).toEqual(want.shape);
      const scale = Math.max(1, ...Array.from(want.v, Math.abs));
      expect(maxDiff(got.v, want.v)).toBeLessThan(1e-5 * scale);
    });
  }

  it('differentiates like the cpu backend (attention-shaped products and their gradients)', async () => {
    const f = () =>
      tf.tidy(() => {
        const q = tf.tensor3d(values(2 * 12 * 8, 3), [2, 12, 8]);
        const k = tf.tensor3d(values(2 * 12 * 8, 4), [2, 12, 8]);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.softmax(tf.matMul(a, b, false, true)), b))));
        const [da, db] = g([q, k]);
        return tf.concat([da.flatten(), db.flatten()]);
      });
    const want = await on('cpu', f);
    const got = await on('wasm', f);
    expect(maxDiff(got.v, want.v)).toBeLessThan(1e-4 * Math.max(1, ...Array.from(want.v, Math.abs)));
  });
});
