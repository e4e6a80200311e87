/**
 * Convolution gradient kernels for the TensorFlow.js `wasm` backend, built on its fast (XNNPACK)
 * forward `Conv2D`.
 *
 * `Conv2DBackpropFilter`: tfjs-backend-wasm 4.22 ships none, so training any conv layer on wasm
 * fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'". The filter gradient
 * is itself a convolution on transposed operands (see shared/docs/MEASURED.md): with x padded as
 * the forward conv pads it,
 *
 *   dW = transpose(conv2d(transpose(xPad, [3,1,2,0]),       // [ci, Hp, Wp, n]   "batch" ci, "channels" n
 *                         transpose(dy,   [1,2,0,3]),       // [Ho, Wo, n, co]   "filter" over the batch
 *                         1, 'valid', dilation [sh, sw]),   // -> [ci, H', W', co]
 *                  [1,2,0,3])                               // -> [H', W', ci, co]
 *        sliced to [kh, kw, ci, co].
 * The forward stride becomes a dilation of the dy "filter". For a 1x1 kernel or very few input
 * channels (stride 1), an im2col + one XNNPACK GEMM is faster and is used instead (the rule and its
 * measurements: {@link chooseFilterGradMethod}).
 *
 * `Conv2DBackpropInput`: wasm ships one, but as a naive loop about 10x slower than a forward conv.
 * It is replaced by a forward conv of dy, zero-dilated by the stride, with the filter flipped
 * spatially and its channel axes swapped (see {@link conv2DBackpropInputWasm}).
 *
 * Both kernels compose the wasm backend's own kernels (PadV2, Transpose, Reverse, Reshape, Conv2D,
 * Slice, StridedSlice, Concat, BatchMatMul) and free every intermediate with `backend.disposeData`, so they record nothing on the
 * gradient tape and leak nothing.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

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

/** How the filter gradient is computed: see {@link conv2DBackpropFilterWasm}. */
export type WasmFilterGradMethod = 'conv' | 'gemm' | 'auto';

let filterGradMethod: WasmFilterGradMethod = 'auto';

/** Forces one formulation of the wasm filter gradient ('auto' = by shape, the default); tests and benchmarks. */
export function setWasmFilterGradMethod(method: WasmFilterGradMethod): void {
  filterGradMethod = method;
}

/** The shape facts {@link chooseFilterGradMethod} decides on. */
export interface FilterGradShape {
  n: number;
  ho: number;
  wo: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
}

/**
 * The formulation 'auto' picks for a filter gradient, by measurement (tfjs 4.22 wasm, 1 thread,
 * the models' 'same' conv shapes at batch 16 and 64, medians of 5 alternating; conv ms / gemm ms):
 *   - 'gemm' wins only where the conv formulation has almost no work per output: a 1x1 kernel
 *     (28x28x96→32: 1.64x at b16, 1.11x at b64; 7x7x64→64: 2.3x at both) and very few input
 *     channels (the input conv 28x28x1→32: 2.2x at b16, 2.9x at b64);
 *   - 'conv' wins for every 3x3 layer with 32 or more input channels (gemm 0.29-0.83x at 28x28 and
 *     14x14; 7x7x64→64 0.77x at b16, 1.21x at b64, 7x7x128→64 0.54x/0.84x): the im2col copies
 *     (9 slices, their stacking and a [9, P, ci] → [9, ci, P] transpose) cost more than the GEMM's
 *     gain, since the conv formulation already runs at 12-18 GFLOP/s in isolation;
 *   - 'conv' always for a stride > 1: wasm's StridedSlice is a generic element loop (gemm 0.03-0.10x).
 * An im2col built by a one-hot depthwise conv (no JS copies) was slower still (0.1-0.5x).
 */
export function chooseFilterGradMethod(s: FilterGradShape): 'conv' | 'gemm' {
  if (s.strideH !== 1 || s.strideW !== 1) return 'conv';
  return s.kh * s.kw === 1 || s.ci <= 4 ? 'gemm' : 'conv';
}

/** What both formulations receive. */
interface FilterGradProblem {
  x: TensorInfo;
  dy: TensorInfo;
  shape: FilterGradShape;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Zero-pads x as the forward conv did (only as far as any tap reaches); returns x itself if no pad. */
function padInput(p: FilterGradProblem, b: DisposingBackend, keep: (t: TensorInfo) => TensorInfo): TensorInfo {
  const { x, top, bottom, left, right } = p;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const paddings = [[0, 0], [top, bottom], [left, right], [0, 0]];
  return keep(runWasmKernel('PadV2', { x }, { paddings, constantValue: 0 }, b));
}

/** dW as one forward conv on transposed operands (the file header's first formula). */
function filterGradByConv(p: FilterGradProblem, b: DisposingBackend): TensorInfo {
  const { dy } = p;
  const { ci, co, kh, kw, strideH: sh, strideW: sw } = p.shape;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    const xPad = padInput(p, b, keep);
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
    const [, outH, outW] = conv.shape; // >= kh, kw by construction of the padding
    const dw = outH === kh && outW === kw ? conv : keep(
      runWasmKernel('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] }, b),
    );
    // The result is the only tensor not freed below.
    return runWasmKernel('Transpose', { x: dw }, { perm: [1, 2, 0, 3] }, b);
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
}

/**
 * dW as im2col + one GEMM: for each tap (i, j) the slice of the padded input that meets dy through
 * W[i, j], X_ij [P = n·ho·wo, ci] (stride 1: a Slice of xPad viewed as [n, Hp, Wp·ci], whose rows
 * are contiguous runs of wo·ci values; stride > 1: a StridedSlice), stacked on a leading axis
 * ([kh·kw, P, ci], a plain memcpy per tap), transposed to [kh·kw·ci, P], then one matMul by dy
 * viewed as [P, co] without transpose flags, so wasm runs it on XNNPACK:
 *   dW[i, j] = X_ijᵀ · dy   →   [kh·kw·ci, co] = [kh, kw, ci, co].
 */
function filterGradByGemm(p: FilterGradProblem, b: DisposingBackend): TensorInfo {
  const { dy } = p;
  const { n, ho, wo, ci, co, kh, kw, strideH: sh, strideW: sw } = p.shape;
  const rows = n * ho * wo;
  const taps = kh * kw;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    const xPad = padInput(p, b, keep);
    const [, hp, wp] = xPad.shape;
    const unit = sh === 1 && sw === 1;
    const x3 = unit ? keep(runWasmKernel('Reshape', { x: xPad }, { shape: [n, hp, wp * ci] }, b)) : xPad;
    const patches: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        let patch: TensorInfo;
        if (unit) {
          patch = keep(runWasmKernel('Slice', { x: x3 }, { begin: [0, i, j * ci], size: [n, ho, wo * ci] }, b));
        } else {
          patch = keep(
            runWasmKernel(
              'StridedSlice',
              { x: xPad },
              {
                begin: [0, i, j, 0],
                end: [n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, ci],
                strides: [1, sh, sw, 1],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
              b,
            ),
          );
        }
        patches.push(keep(runWasmKernel('Reshape', { x: patch }, { shape: [1, rows, ci] }, b)));
      }
    }
    const cols = taps === 1 ? patches[0] : keep(runWasmKernel('Concat', patches as unknown as Record<string, TensorInfo>, { axis: 0 }, b));
    const colsT = ci === 1 ? cols : keep(runWasmKernel('Transpose', { x: cols }, { perm: [0, 2, 1] }, b));
    const a = keep(runWasmKernel('Reshape', { x: colsT }, { shape: [1, taps * ci, rows] }, b));
    const dy3 = keep(runWasmKernel('Reshape', { x: dy }, { shape: [1, rows, co] }, b));
    const prod = keep(runWasmKernel('BatchMatMul', { a, b: dy3 }, { transposeA: false, transposeB: false }, b));
    // The result (a view of prod) is the only tensor not freed below.
    return runWasmKernel('Reshape', { x: prod }, { shape: [kh, kw, ci, co] }, b);
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
}

/**
 * The kernel function: dW for a 2-D conv of x [n,h,w,ci] whose output gradient is dy [n,ho,wo,co].
 * Handles 'same' (including TF's asymmetric split, computed by `computeConv2DInfo`), 'valid',
 * a numeric pad and explicit paddings; NHWC only. Two formulations, picked per shape by
 * {@link chooseFilterGradMethod} (or forced by {@link setWasmFilterGradMethod}).
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
  const [n, h, w, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const [kh, kw] = filterShape;
  const { strideHeight: sh, strideWidth: sw } = convInfo;
  const { top, left } = convInfo.padInfo;
  if (top < 0 || left < 0) throw new Error('wasm Conv2DBackpropFilter: negative padding is not supported.');
  // Pad only as far as the last tap of the last output position reaches; rows/columns beyond it
  // never meet a dy value (and rounding modes such as 'ceil' may need more than padInfo says).
  const bottom = Math.max(0, (ho - 1) * sh + kh - h - top);
  const right = Math.max(0, (wo - 1) * sw + kw - w - left);
  const shape: FilterGradShape = { n, ho, wo, ci, co, kh, kw, strideH: sh, strideW: sw };
  const problem: FilterGradProblem = { x, dy, shape, top, bottom, left, right };
  const method = filterGradMethod === 'auto' ? chooseFilterGradMethod(shape) : filterGradMethod;
  return method === 'gemm' ? filterGradByGemm(problem, b) : filterGradByConv(problem, b);
};

/** Attributes tfjs-core passes to `Conv2DBackpropInput` (mirrors `Conv2DBackpropInputAttrs`). */
interface InputGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** wasm's own (naive) `Conv2DBackpropInput`, kept as the fallback once ours replaces it. */
let originalInputGrad: KernelConfig | undefined;

/** wasm's built-in `Conv2DBackpropInput` (undefined before {@link registerWasmConvGradients}). */
export function originalWasmConv2DBackpropInput(): KernelConfig | undefined {
  return originalInputGrad;
}

/**
 * The kernel function: dx [n,h,w,ci] for a 2-D conv of x (shape `inputShape`) with filter
 * [kh,kw,ci,co], from its output gradient dy [n,ho,wo,co], as one forward conv:
 *
 *   D  = dy with sh-1 zero rows after each row and sw-1 zero columns after each column
 *        (Reshape to [n,ho,1,wo,1,co], PadV2 to [n,ho,sh,wo,sw,co], Reshape to [n,ho*sh,wo*sw,co])
 *   W' = transpose(reverse(W, [0,1]), [0,1,3,2])                         // [kh, kw, co, ci]
 *   dx = conv2d(D, W', 1, explicit pads [kh-1-top, bottom'], [kw-1-left, right'])
 *
 * where bottom'/right' make the padded D exactly h+kh-1 by w+kw-1, so dx has x's shape even when
 * the forward conv never reached x's last rows/columns (their gradient is then 0). Pads that come
 * out negative (a forward pad larger than kh-1, or D's trailing zeros reaching past x) crop D with
 * a Slice instead. Since dy[o] meets x[o*s - top + k] through W[k], dx[i] = sum over o*s = i + top - k
 * of dy[o] W[k], which is this conv. NHWC only; anything else goes to wasm's own kernel.
 */
export const conv2DBackpropInputWasm: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as InputGradAttrs;
  if (dataFormat !== 'NHWC') {
    if (originalInputGrad == null) {
      throw new Error(`wasm Conv2DBackpropInput supports dataFormat 'NHWC' only, got '${dataFormat}'.`);
    }
    return originalInputGrad.kernelFunc(args);
  }
  const b = backend as DisposingBackend;
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
  const [n, h, w] = inputShape;
  const [, ho, wo, co] = dy.shape;
  const [kh, kw] = filter.shape;
  const { strideHeight: sh, strideWidth: sw } = convInfo;
  const { top, left } = convInfo.padInfo;

  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    const flipped = keep(runWasmKernel('Reverse', { x: filter }, { dims: [0, 1] }, b));
    const wT = keep(runWasmKernel('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }, b));
    let d = dy;
    if (sh > 1 || sw > 1) {
      const d6 = keep(runWasmKernel('Reshape', { x: dy }, { shape: [n, ho, 1, wo, 1, co] }, b));
      const paddings = [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]];
      const dilated = keep(runWasmKernel('PadV2', { x: d6 }, { paddings, constantValue: 0 }, b));
      d = keep(runWasmKernel('Reshape', { x: dilated }, { shape: [n, ho * sh, wo * sw, co] }, b));
    }
    // Pads around D so that a 'valid' conv with a kh x kw filter yields exactly h x w.
    let [padTop, padLeft] = [kh - 1 - top, kw - 1 - left];
    let [padBottom, padRight] = [h + kh - 1 - padTop - d.shape[1], w + kw - 1 - padLeft - d.shape[2]];
    if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
      const [cropTop, cropLeft] = [Math.max(0, -padTop), Math.max(0, -padLeft)];
      const size = [
        n,
        d.shape[1] - cropTop - Math.max(0, -padBottom),
        d.shape[2] - cropLeft - Math.max(0, -padRight),
        co,
      ];
      d = keep(runWasmKernel('Slice', { x: d }, { begin: [0, cropTop, cropLeft, 0], size }, b));
      [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) => Math.max(0, p));
    }
    const explicit = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    // The result is the only tensor not freed below.
    return runWasmKernel(
      'Conv2D',
      { x: d, filter: wT },
      { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [1, 1] },
      b,
    );
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
};

let filterRegistered = false;
let inputReplaced = false;

/**
 * Registers {@link conv2DBackpropFilterWasm} as the wasm backend's `Conv2DBackpropFilter`, and
 * replaces wasm's naive `Conv2DBackpropInput` by {@link conv2DBackpropInputWasm} (keeping the
 * original as the fallback for NCHW, with its setup so the fallback works whichever comes first).
 * Idempotent; leaves an existing filter-gradient registration (e.g. a future tfjs that ships one)
 * in place. Call it after importing '@tensorflow/tfjs-backend-wasm' (whose kernels it builds on),
 * before or after the backend started: these kernels need no setup of their own.
 */
export function registerWasmConvGradients(): void {
  if (!filterRegistered) {
    if (tf.getKernel('Conv2DBackpropFilter', 'wasm') == null) {
      tf.registerKernel({
        kernelName: 'Conv2DBackpropFilter',
        backendName: 'wasm',
        kernelFunc: conv2DBackpropFilterWasm,
      });
    }
    filterRegistered = true;
  }
  if (!inputReplaced) {
    const current = tf.getKernel('Conv2DBackpropInput', 'wasm');
    if (current == null) return; // the wasm backend is not imported yet: try again next call
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
}
