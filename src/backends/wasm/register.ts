/**
 * The project's kernels for the TensorFlow.js `wasm` backend, registered in one call: the conv
 * gradients built on XNNPACK's forward conv (./conv-gradients), a Slice that does not copy its
 * whole input out of the heap first (./slice), and a BatchMatMul that runs every product on
 * XNNPACK (./batch-matmul), and an inference GroupNorm in one kernel (./group-norm). Call after the wasm backend is imported; idempotent.
 */
import { registerWasmBatchMatMul } from './batch-matmul';
import { registerWasmConvGradients } from './conv-gradients';
import { registerWasmSlice } from './slice';
import { registerWasmGroupNorm } from './group-norm';

export function registerWasmKernels(): void {
  registerWasmConvGradients();
  registerWasmSlice();
  registerWasmBatchMatMul();
  registerWasmGroupNorm();
}
