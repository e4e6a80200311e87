/**
 * `Conv2DBackpropInput` for the TensorFlow.js `wasm` backend as one XNNPACK forward conv (the
 * formula in src/kernels/conv-gradients.ts). tfjs-backend-wasm 4.22 ships one, but as a naive loop
 * far slower than a forward conv (README's Benchmarks section); it stays the fallback for NCHW.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { inputGradByConv } from '../../kernels/conv-gradients';
import { wasmConvGradOps, withTemps, type DisposingBackend } from './run-kernel';

/** wasm's own (naive) `Conv2DBackpropInput`, kept as the fallback once ours replaces it. */
let originalInputGrad: KernelConfig | undefined;

/** wasm's built-in `Conv2DBackpropInput` (undefined before {@link replaceWasmConv2DBackpropInput}). */
export function originalWasmConv2DBackpropInput(): KernelConfig | undefined {
  return originalInputGrad;
}

/**
 * The kernel function: dx [n,h,w,ci] for a 2-D conv of x (shape `inputShape`) with filter
 * [kh,kw,ci,co], from its output gradient dy [n,ho,wo,co]. Any padding and strides; the wasm
 * kernels run directly, every intermediate freed. NHWC only; anything else goes to wasm's own kernel.
 */
export const conv2DBackpropInputWasm: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (dataFormat !== 'NHWC') {
    if (originalInputGrad == null) {
      throw new Error(`wasm Conv2DBackpropInput supports dataFormat 'NHWC' only, got '${dataFormat}'.`);
    }
    return originalInputGrad.kernelFunc(args);
  }
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const convInfo = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const [kh, kw] = filter.shape;
  const { strideHeight: strideH, strideWidth: strideW } = convInfo;
  const { top, left } = convInfo.padInfo;
  const g = { kh, kw, strideH, strideW, top, left };
  return withTemps(backend as DisposingBackend, (run) => inputGradByConv(wasmConvGradOps(run), dy, filter, inputShape, g));
};

let inputReplaced = false;

/**
 * Replaces wasm's naive `Conv2DBackpropInput` by {@link conv2DBackpropInputWasm}, keeping the
 * original (with its setup, so the fallback works whichever comes first). Idempotent; does nothing
 * until the wasm backend is imported (then the next call replaces it).
 */
export function replaceWasmConv2DBackpropInput(): void {
  if (inputReplaced) return;
  const current = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (current == null) return;
  if (current.kernelFunc !== conv2DBackpropInputWasm) {
    originalInputGrad = current;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropInputWasm,
      setupFunc: current.setupFunc,
      disposeFunc: current.disposeFunc,
    });
  }
  inputReplaced = true;
}
