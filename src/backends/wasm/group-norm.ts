/**
 * The inference GroupNorm kernel (src/kernels/group-norm-inference.ts) on the TensorFlow.js `wasm`
 * backend: JavaScript over views of the wasm heap, as ./slice.ts reads its input.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { WasmHeapBackend } from './slice';
import { GROUP_NORM_KERNEL, groupNormInto, type GroupNormAttrs } from '../../kernels/group-norm-inference';

const groupNormWasm: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const b = backend as WasmHeapBackend;
  const out = b.makeOutput(x.shape, 'float32');
  // Views of the heap go stale when it grows: take them after the output is allocated.
  const [batch, c] = [x.shape[0], x.shape[x.shape.length - 1]];
  const heap = (t: TensorInfo) => b.typedArrayFromHeap(t) as Float32Array;
  groupNormInto(heap(x), heap(gamma), heap(beta), heap(out), batch, c, attrs as GroupNormAttrs);
  return out;
};

/** Registers the kernel on wasm (once the wasm backend is imported; idempotent). */
export function registerWasmGroupNorm(): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, 'wasm') != null) return;
  tf.registerKernel({ kernelName: GROUP_NORM_KERNEL, backendName: 'wasm', kernelFunc: groupNormWasm });
}
