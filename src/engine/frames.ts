/**
 * Tensors → protocol image batches: one async read per frame (never dataSync, which stalls
 * WebGPU), copied into a fresh buffer that can be transferred to the page.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../protocol/messages';

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
  let failure: { error: unknown } | null = null;
  // tf.profile leaves the engine in profiling mode if its function throws: catch inside, rethrow after.
  const info = await tf.profile(() => {
    try {
      result = f();
    } catch (error) {
      failure = { error };
    }
    return [];
  });
  if (failure) throw (failure as { error: unknown }).error;
  report(info.peakBytes);
  return result;
}
