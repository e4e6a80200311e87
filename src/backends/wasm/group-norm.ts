/**
 * The inference GroupNorm kernel (src/kernels/group-norm-inference.ts) on the TensorFlow.js `wasm`
 * backend: JavaScript over views of the wasm heap, as ./slice.ts reads its input.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { GROUP_NORM_KERNEL, groupNormInto, type GroupNormAttrs } from '../../kernels/group-norm-inference';

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  dataIdMap: { get(id: DataId): unknown };
}

const groupNormWasm: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const b = backend as WasmHeapBackend;
  const out = b.makeOutput(x.shape, 'float32');
  // Views of the heap go stale when it grows: take them after the output is allocated.
  const [batch, c] = [x.shape[0], x.shape[x.shape.length - 1]];
  groupNormInto(b.typedArrayFromHeap(x), b.typedArrayFromHeap(gamma), b.typedArrayFromHeap(beta), b.typedArrayFromHeap(out), batch, c, attrs as GroupNormAttrs);
  return out;
};

/** Registers the kernel on wasm (once the wasm backend is imported; idempotent). */
export function registerWasmGroupNorm(): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, 'wasm') != null) return;
  tf.registerKernel({ kernelName: GROUP_NORM_KERNEL, backendName: 'wasm', kernelFunc: groupNormWasm });
}
