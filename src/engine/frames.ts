/**
 * Tensors → protocol image batches: one async read per frame (never dataSync, which stalls
 * WebGPU), copied into a fresh buffer that can be transferred to the page.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../worker/protocol';

export async function toImageBatch(images: tf.Tensor4D): Promise<ImageBatch> {
  const [n, h, w, c] = images.shape;
  const data = await images.data();
  const pixels = data instanceof Float32Array ? new Float32Array(data) : Float32Array.from(data);
  return { pixels, n, h, w, c };
}

/**
 * Runs `f` under tf.profile and reports the peak of all live tensor bytes while it ran (weights
 * included): the figure the page shows as peak memory. Use on one step of a run, not every step.
 */
export async function measurePeak<T>(f: () => T, report: (bytes: number) => void): Promise<T> {
  let result!: T;
  const info = await tf.profile(() => {
    result = f();
    return [];
  });
  report(info.peakBytes);
  return result;
}
