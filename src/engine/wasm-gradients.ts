/**
 * A `Conv2DBackpropFilter` kernel for the TensorFlow.js `wasm` backend.
 *
 * Why: tfjs-backend-wasm 4.22 ships no `Conv2DBackpropFilter`, so training any conv layer on wasm
 * fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'". The filter gradient
 * is itself a convolution, so it can be computed with the backend's fast (XNNPACK) forward `Conv2D`
 * on transposed operands (see shared/docs/MEASURED.md): with x padded as the forward conv pads it,
 *
 *   dW = transpose(conv2d(transpose(xPad, [3,1,2,0]),       // [ci, Hp, Wp, n]   "batch" ci, "channels" n
 *                         transpose(dy,   [1,2,0,3]),       // [Ho, Wo, n, co]   "filter" over the batch
 *                         1, 'valid', dilation [sh, sw]),   // -> [ci, H', W', co]
 *                  [1,2,0,3])                               // -> [H', W', ci, co]
 *        sliced to [kh, kw, ci, co].
 *
 * The forward stride becomes a dilation of the dy "filter". The kernel composes the wasm backend's
 * own kernels (PadV2, Transpose, Conv2D, Slice) and frees every intermediate with
 * `backend.disposeData`, so it records nothing on the gradient tape and leaks nothing.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** The part of the wasm backend this kernel needs (tfjs types the kernel's backend as `{}`). */
interface DisposingBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Attributes tfjs-core passes to `Conv2DBackpropFilter` (mirrors `Conv2DBackpropFilterAttrs`). */
interface FilterGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Runs one of the wasm backend's registered kernels directly (no engine, no tape). */
function runWasmKernel(
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

/**
 * The kernel function: dW for a 2-D conv of x [n,h,w,ci] whose output gradient is dy [n,ho,wo,co].
 * Handles 'same' (including TF's asymmetric split, computed by `computeConv2DInfo`), 'valid',
 * a numeric pad and explicit paddings; NHWC only.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as DisposingBackend;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as FilterGradAttrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got '${dataFormat}'.`);
  }
  const convInfo = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const [, h, w, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const [kh, kw] = filterShape;
  const { strideHeight: sh, strideWidth: sw } = convInfo;
  const { top, left } = convInfo.padInfo;
  if (top < 0 || left < 0) throw new Error('wasm Conv2DBackpropFilter: negative padding is not supported.');
  // Pad only as far as the last tap of the last output position reaches; rows/columns beyond it
  // never meet a dy value (and rounding modes such as 'ceil' may need more than padInfo says).
  const bottom = Math.max(0, (ho - 1) * sh + kh - h - top);
  const right = Math.max(0, (wo - 1) * sw + kw - w - left);

  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    let xPad = x;
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      const paddings = [[0, 0], [top, bottom], [left, right], [0, 0]];
      xPad = keep(runWasmKernel('PadV2', { x }, { paddings, constantValue: 0 }, b));
    }
    // [ci, Hp, Wp, n]: the input channels become the batch, the examples become the channels.
    const xT = keep(runWasmKernel('Transpose', { x: xPad }, { perm: [3, 1, 2, 0] }, b));
    // [ho, wo, n, co]: dy becomes a filter that spans the whole output, dilated by the stride.
    const dyT = keep(runWasmKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, b));
    const conv = keep(
      runWasmKernel(
        'Conv2D',
        { x: xT, filter: dyT },
        { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] },
        b,
      ),
    );
    const [, outH, outW] = conv.shape; // >= kh, kw by construction of the padding above
    const dw = outH === kh && outW === kw ? conv : keep(
      runWasmKernel('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] }, b),
    );
    // The result is the only tensor not freed below.
    const result = runWasmKernel('Transpose', { x: dw }, { perm: [1, 2, 0, 3] }, b);
    return result;
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
};

let registered = false;

/**
 * Registers {@link conv2DBackpropFilterWasm} as the wasm backend's `Conv2DBackpropFilter`.
 * Idempotent, and leaves an existing registration (e.g. a future tfjs that ships one) in place.
 * Call it before the first gradient on wasm; registering after the backend started is fine, since
 * this kernel needs no setup of its own.
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') == null) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilterWasm,
    });
  }
  registered = true;
}
