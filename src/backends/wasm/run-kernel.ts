/**
 * Running the wasm backend's registered kernels directly from inside another kernel: no engine, no
 * gradient tape, and every intermediate freed with `backend.disposeData`.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataId, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { ConvGradOps } from '../../kernels/conv-gradients';

/** The part of the wasm backend these helpers need (tfjs types a kernel's backend as `{}`). */
export interface DisposingBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Runs one of the wasm backend's registered kernels directly (no engine, no tape). */
export function runWasmKernel(
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
  backend: DisposingBackend,
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel == null) {
    throw new Error(`wasm-gradients: the wasm backend has no '${name}' kernel to build on.`);
  }
  const out = kernel.kernelFunc({ inputs, attrs, backend: backend as object });
  if (Array.isArray(out)) throw new Error(`wasm-gradients: '${name}' returned several outputs.`);
  return out;
}

/** {@link runWasmKernel} on a fixed backend, remembering each output as a temporary. */
export type TempRun = (name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo;

/**
 * Calls f with a {@link TempRun} and frees every tensor it ran, except f's result (also on a throw),
 * so a kernel built this way leaks nothing.
 */
export function withTemps(backend: DisposingBackend, f: (run: TempRun) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  const run: TempRun = (name, inputs, attrs) => {
    const out = runWasmKernel(name, inputs, attrs, backend);
    temps.push(out);
    return out;
  };
  let result: TensorInfo | undefined;
  try {
    result = f(run);
    return result;
  } finally {
    for (const t of temps) if (t !== result) backend.disposeData(t.dataId);
  }
}

/** The conv-gradient formulas' op set (src/kernels/conv-gradients.ts) as wasm kernels. */
export function wasmConvGradOps(run: TempRun): ConvGradOps<TensorInfo> {
  return {
    shape: (t) => t.shape,
    pad: (x, paddings) => run('PadV2', { x }, { paddings, constantValue: 0 }),
    reshape: (x, shape) => run('Reshape', { x }, { shape }),
    transpose: (x, perm) => run('Transpose', { x }, { perm }),
    reverse: (x, dims) => run('Reverse', { x }, { dims }),
    slice: (x, begin, size) => run('Slice', { x }, { begin, size }),
    conv2d: (x, filter, pad, dilations) =>
      run('Conv2D', { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations }),
    padsRank6: true,
  };
}
