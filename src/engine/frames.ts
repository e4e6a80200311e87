/**
 * Tensors → protocol image batches: one async read per frame (never dataSync, which stalls
 * WebGPU), copied into a fresh buffer that can be transferred to the page.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ImageBatch } from '../protocol/messages';

export async function toImageBatch(images: tf.Tensor4D): Promise<ImageBatch> {
  const [n, h, w, c] = images.shape;
  const data = await images.data();
  const pixels = data instanceof Float32Array ? new Float32Array(data) : Float32Array.from(data);
  return { pixels, n, h, w, c };
}
