/**
 * The two gradients of a 2-D NHWC convolution, each as ONE forward convolution, written once over a
 * small op set ({@link ConvGradOps}): tf ops for conv2dFast's 'forward-conv' strategy (./conv.ts,
 * {@link tfConvGradOps}) and the wasm backend's kernels for its registered gradient kernels
 * (src/backends/wasm/conv-filter-gradient.ts, conv-input-gradient.ts).
 *
 * For y = conv2d(x, W), x [n,h,w,ci], W [kh,kw,ci,co], strides (sh, sw), forward pads top/left and
 * dy [n,ho,wo,co], output row o meets input row o·sh − top + k through tap k (columns alike).
 *
 * Filter gradient dW[k] = Σ_o x[o·s − top + k] · dy[o]: a correlation of the padded x with dy, the
 * forward stride becoming a dilation of the dy "filter":
 *   dW = transpose(conv2d(transpose(xPad, [3,1,2,0]),   // [ci, Hp, Wp, n]: "batch" ci, "channels" n
 *                         transpose(dy, [1,2,0,3]),     // [ho, wo, n, co]: a filter over the batch
 *                         1, 'valid', dilation s),      // → [ci, ≥kh, ≥kw, co]
 *                  [1,2,0,3])                           // → [≥kh, ≥kw, ci, co], sliced to [kh,kw,ci,co]
 *
 * Input gradient dx[i] = Σ_{o·s = i + top − k} dy[o] · W[k]: a conv of dy zero-dilated by the stride
 * with the spatially flipped, channel-swapped kernel:
 *   D  = dy with s−1 zeros after each row and column
 *   W' = transpose(reverse(W, [0,1]), [0,1,3,2])       // [kh, kw, co, ci]
 *   dx = conv2d(D, W', 1, pads [kh−1−top, bottom'] × [kw−1−left, right'])
 * where bottom'/right' make dx exactly h × w (0 where the forward conv never reached x's last rows);
 * pads that come out negative crop D instead.
 */
import * as tf from '@tensorflow/tfjs';

/** [before, after] per axis. */
export type Paddings = Array<[number, number]>;

/** The ops the gradient formulas are written in; T is a tensor or the backend's TensorInfo. */
export interface ConvGradOps<T> {
  shape(t: T): number[];
  pad(t: T, paddings: Paddings): T;
  reshape(t: T, shape: number[]): T;
  transpose(t: T, perm: number[]): T;
  reverse(t: T, axes: number[]): T;
  slice(t: T, begin: number[], size: number[]): T;
  /** Stride-1 NHWC conv with 'valid' or explicit (rank-4) pads and the given dilations. */
  conv2d(x: T, filter: T, pad: 'valid' | Paddings, dilations: [number, number]): T;
  /** Whether pad takes rank 6, so that one pad zero-dilates dy; otherwise two rank-4 pads (webgpu's Pad stops at rank 4). */
  padsRank6: boolean;
}

/** The forward conv's kernel size, strides and top/left pads (tf.backend_util.computeConv2DInfo's padInfo). */
export interface ConvGradGeometry {
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  top: number;
  left: number;
}

/**
 * The pads of x for the filter gradient: top/left as the forward conv pads, bottom/right only as far
 * as the last tap of the last output position reaches (rows beyond it never meet a dy value; a
 * rounding mode such as 'ceil' may need more than the forward padInfo says).
 */
export function filterGradPads(h: number, w: number, ho: number, wo: number, g: ConvGradGeometry): Paddings {
  const bottom = Math.max(0, (ho - 1) * g.strideH + g.kh - h - g.top);
  const right = Math.max(0, (wo - 1) * g.strideW + g.kw - w - g.left);
  return [[0, 0], [g.top, bottom], [g.left, right], [0, 0]];
}

/** x [n,h,w,ci] zero-padded as {@link filterGradPads} says; x itself when there is nothing to pad. */
export function padForFilterGrad<T>(ops: ConvGradOps<T>, x: T, dy: T, g: ConvGradGeometry): T {
  const [, h, w] = ops.shape(x);
  const [, ho, wo] = ops.shape(dy);
  const paddings = filterGradPads(h, w, ho, wo, g);
  return paddings.every(([a, b]) => a === 0 && b === 0) ? x : ops.pad(x, paddings);
}

/** dW [kh,kw,ci,co] from x [n,h,w,ci] and dy [n,ho,wo,co] as one forward conv (the header's first formula). */
export function filterGradByConv<T>(ops: ConvGradOps<T>, x: T, dy: T, g: ConvGradGeometry): T {
  const ci = ops.shape(x)[3];
  const co = ops.shape(dy)[3];
  const xPad = padForFilterGrad(ops, x, dy, g);
  const xT = ops.transpose(xPad, [3, 1, 2, 0]);
  const dyT = ops.transpose(dy, [1, 2, 0, 3]);
  const conv = ops.conv2d(xT, dyT, 'valid', [g.strideH, g.strideW]);
  const [, outH, outW] = ops.shape(conv); // ≥ kh, kw by construction of the padding
  const dw = outH === g.kh && outW === g.kw ? conv : ops.slice(conv, [0, 0, 0, 0], [ci, g.kh, g.kw, co]);
  return ops.transpose(dw, [1, 2, 0, 3]);
}

/** dy [n,ho,wo,co] with sh−1 zero rows after each row and sw−1 zero columns after each column. */
function zeroDilate<T>(ops: ConvGradOps<T>, dy: T, sh: number, sw: number): T {
  if (sh === 1 && sw === 1) return dy;
  const [n, ho, wo, co] = ops.shape(dy);
  if (ops.padsRank6) {
    const d6 = ops.reshape(dy, [n, ho, 1, wo, 1, co]);
    const dilated = ops.pad(d6, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    return ops.reshape(dilated, [n, ho * sh, wo * sw, co]);
  }
  let cols = ops.reshape(dy, [n * ho, wo, 1, co]);
  if (sw > 1) cols = ops.pad(cols, [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  let rows = ops.reshape(cols, [n, ho, 1, wo * sw * co]);
  if (sh > 1) rows = ops.pad(rows, [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
  return ops.reshape(rows, [n, ho * sh, wo * sw, co]);
}

/**
 * dx (shape xShape [n,h,w,ci]) from dy [n,ho,wo,co] and the filter w [kh,kw,ci,co] as one forward
 * conv (the header's second formula).
 */
export function inputGradByConv<T>(ops: ConvGradOps<T>, dy: T, w: T, xShape: number[], g: ConvGradGeometry): T {
  const [n, h, wd] = xShape;
  const { kh, kw } = g;
  const co = ops.shape(dy)[3];
  const wT = ops.transpose(ops.reverse(w, [0, 1]), [0, 1, 3, 2]);
  let d = zeroDilate(ops, dy, g.strideH, g.strideW);
  const [, dh, dw] = ops.shape(d);
  // Pads around D so that a 'valid' conv with a kh x kw filter yields exactly h x w.
  let [padTop, padLeft] = [kh - 1 - g.top, kw - 1 - g.left];
  let [padBottom, padRight] = [h + kh - 1 - padTop - dh, wd + kw - 1 - padLeft - dw];
  if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
    const [cropTop, cropLeft] = [Math.max(0, -padTop), Math.max(0, -padLeft)];
    const size = [n, dh - cropTop - Math.max(0, -padBottom), dw - cropLeft - Math.max(0, -padRight), co];
    d = ops.slice(d, [0, cropTop, cropLeft, 0], size);
    [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) => Math.max(0, p));
  }
  return ops.conv2d(d, wT, [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], [1, 1]);
}

/** {@link ConvGradOps} as tf ops (any backend; recorded on the tape like any other op). */
export const tfConvGradOps: ConvGradOps<tf.Tensor> = {
  shape: (t) => t.shape,
  pad: (t, paddings) => tf.pad(t, paddings),
  reshape: (t, shape) => tf.reshape(t, shape),
  transpose: (t, perm) => tf.transpose(t, perm),
  reverse: (t, axes) => tf.reverse(t, axes),
  slice: (t, begin, size) => tf.slice(t, begin, size),
  conv2d: (x, filter, pad, dilations) =>
    tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, pad as 'valid' | tf.backend_util.ExplicitPadding, 'NHWC', dilations),
  padsRank6: false,
};
