/**
 * Node's wasm backend on its multithreaded SIMD build (src/backends/wasm-threads-node.ts): it starts
 * with a 2-thread pool and a conv (forward and both gradients) matches the cpu backend.
 * The wasm backend is created once per process, so this file asks for threads before anything else
 * initialises wasm (vitest runs each file in its own fork).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend, nodeWasmThreadsInfo } from '../../src/backends/node';
import { values } from './gradient-helpers';
import { defaultBrowserWasmThreads } from '../../src/backends/wasm-paths';


const X: [number, number, number, number] = [4, 10, 10, 8];
const W: [number, number, number, number] = [3, 3, 8, 16];

/** y = conv(x, w) and the gradients of sum(y * g) with respect to x and w, on the active backend. */
async function convAndGrads(): Promise<Float32Array[]> {
  const x = tf.tensor4d(values(X.reduce((a, b) => a * b), 1), X);
  const w = tf.tensor4d(values(W.reduce((a, b) => a * b), 2), W);
  const g = tf.tensor4d(values(4 * 10 * 10 * 16, 3), [4, 10, 10, 16]);
  const f = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Scalar => tf.sum(tf.mul(tf.conv2d(a, b, 1, 'same'), g));
  const y = tf.conv2d(x, w, 1, 'same');
  const [dx, dw] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([x, w]);
  const out = await Promise.all([y, dx, dw].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([x, w, g, y, dx, dw]);
  return out;
}

describe('wasm backend with threads in Node', () => {
  let wasmResults: Float32Array[];

  beforeAll(async () => {
    expect(tf.findBackend('wasm')).toBeNull(); // nothing started wasm earlier in this process
    await initNodeBackend('wasm', { threads: 2 });
    wasmResults = await convAndGrads();
  });

  it("the page's default leaves one core to the page, 1 to 4 threads", () => {
    expect([1, 2, 3, 4, 8, 16].map((cores) => defaultBrowserWasmThreads(cores))).toEqual([1, 1, 2, 3, 4, 4]);
  });

  it('starts the threaded build with a 2-thread pool', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(nodeWasmThreadsInfo()).toEqual({ requested: 2, actual: 2, fallbackReason: null });
  });

  it('computes a conv and its gradients like the cpu backend', async () => {
    await initNodeBackend('cpu');
    const cpuResults = await convAndGrads();
    await initNodeBackend('wasm');
    for (let i = 0; i < cpuResults.length; i++) {
      let maxRef = 1;
      let maxDiff = 0;
      for (let j = 0; j < cpuResults[i].length; j++) {
        maxRef = Math.max(maxRef, Math.abs(cpuResults[i][j]));
        maxDiff = Math.max(maxDiff, Math.abs(cpuResults[i][j] - wasmResults[i][j]));
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-4 * maxRef);
    }
  });

  it('keeps the thread count when wasm is selected again', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    expect(nodeWasmThreadsInfo()?.actual).toBe(2);
  });
});
