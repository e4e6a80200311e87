/**
 * Fused forward + backward ops (tf.customGrad) for the models' hot layers: GroupNorm, SiLU, nearest
 * ×2 upsampling, dense and conv2d + bias. Each is written with few, large tf ops whose kernels are
 * fast on the wasm backend (measured; see src/cli/bench-unet.ts), and with pure tf ops only, so the
 * same code runs on cpu, webgl and webgpu.
 *
 * What makes the plain formulations slow on wasm (tfjs 4.22, measured on [16,28,28,32]):
 * - every tensor an op saves for its gradient is copied (the engine clones it; wasm's Identity is a
 *   memcpy), and every saved copy adds a Cast to the backward pass; a customGrad saves only what
 *   its gradient needs;
 * - reductions over non-innermost axes (Mean/Sum over [1,2]) transpose first; a matMul by ones
 *   does the same sum several times faster;
 * - matMul with transposeA/transposeB leaves XNNPACK for a naive loop (about 8x slower): the
 *   gradients here transpose explicitly and call a plain matMul;
 * - broadcastTo/tile runs wasm's Tile, about 50 ms for a 2x upsample of [16,28,28,32];
 * - each full-size elementwise op costs about a millisecond at that size, so the analytic
 *   gradients below are arranged to touch full-size tensors as few times as possible.
 *
 * `setFastOps(false)` switches the models (layers.ts) back to the plain formulation, which tfjs
 * differentiates itself with its own gradients on every backend: for the equivalence test and the
 * benchmarks only. conv2dFast's gradients are chosen per backend ({@link CONV_GRAD_BY_BACKEND}).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Backends on which the fused ops are on by default, by measurement: on wasm they made the U-Net's
 * train step about 1.4x faster (src/cli/bench-unet.ts); on WebGPU-on-SwiftShader the whole set made
 * it 0.64-0.72x as fast as tfjs's own ops (npm run bench:webgpu), and nothing has been measured on
 * a real GPU or on webgl yet, so those keep tfjs's ops until a measurement says otherwise.
 */
const FAST_BY_DEFAULT = new Set(['wasm', 'cpu']);

let fastOps: boolean | null = null;

/** Forces the fused ops on or off; null returns to the per-backend default. Tests and benchmarks. */
export function setFastOps(on: boolean | null): void {
  fastOps = on;
}

/** Whether layers.ts uses the fused ops on the current backend. */
export function fastOpsEnabled(): boolean {
  return fastOps ?? FAST_BY_DEFAULT.has(tf.getBackend());
}

/** The forward part of a custom op: the op's inputs and the save function → value and gradient. */
type CustomOp<T extends tf.Tensor> = (
  inputs: tf.Tensor[],
  save: tf.GradSaveFunc,
) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

/** tf.customGrad with the inputs as an array (tfjs types each argument as Tensor | GradSaveFunc). */
function customOp<T extends tf.Tensor>(f: CustomOp<T>): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) =>
    f(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as tf.GradSaveFunc),
  ) as (...inputs: tf.Tensor[]) => T;
}

/**
 * a [m,k] · b [k,n] with b or a given transposed, as tf.matMul(a, b, transposeA, transposeB). On wasm
 * the transposed forms run a naive loop; an explicit Transpose plus XNNPACK's matMul is several
 * times faster. Elsewhere the flags are cheaper than a separate transpose.
 */
function matMulT(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}

/**
 * Sum of x [n, c] over its rows → [c], as xᵀ · ones [n,1]: on wasm a matrix-vector product beats
 * Sum (which transposes first) and ones [1,n] · x (XNNPACK repacks x as weights on every call).
 */
function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(x, tf.ones([x.shape[0], 1]), true, false), [x.shape[1]]);
}

/**
 * Per-example sum of x [b, h, w, c] over its positions → [b, c]. On wasm, a global average pool
 * (XNNPACK) times h·w: 0.11 ms for [32, 28, 28, 32] against 0.81 ms for a batched matMul by ones
 * (a matrix-vector product per example, which wasm runs as a naive loop) and 1.2 ms for Sum over
 * the positions (which transposes first). Elsewhere the batched matMul by ones. No full-size
 * reshape on wasm: tfjs counts a reshaped view's bytes again in its memory figures (tf.memory,
 * tf.profile), so views of activations inflate the measured peak.
 */
function sumPositions(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  if (tf.getBackend() !== 'wasm') return tf.reshape(tf.matMul(tf.ones([b, 1, h * w]), tf.reshape(x, [b, h * w, c])), [b, c]);
  return tf.reshape(tf.mul(tf.avgPool(x, [h, w], 1, 'valid'), h * w), [b, c]);
}

/** Sum of dy [b, h, w, c] over examples and positions → [c] (a conv's bias gradient). */
function sumBatchPositions(dy: tf.Tensor4D): tf.Tensor1D {
  const [b, h, w, c] = dy.shape;
  if (tf.getBackend() !== 'wasm') return sumRows(tf.reshape(dy, [b * h * w, c]) as tf.Tensor2D);
  return tf.sum(sumPositions(dy), 0);
}

/** SiLU x · σ(x); gradient dy · (σ + y · (1 − σ)) from the saved σ and output y (4 full-size ops). */
const siluOp = customOp(([x], save) => {
  const s = tf.sigmoid(x);
  const y = tf.mul(x, s);
  save([s, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sv, yv] = saved;
      return [tf.mul(dy, tf.add(sv, tf.mul(yv, tf.sub(1, sv))))];
    },
  };
});

/** SiLU x · σ(x) as one fused op. */
export function siluFast<T extends tf.Tensor>(x: T): T {
  return siluOp(x) as T;
}

/**
 * GroupNorm over NHWC x [b,h,w,c] with `groups` groups of c/groups channels, γ and β [c].
 *
 * Forward: per-channel sums of x and x² over positions (two matMuls by ones), group statistics on
 * [b, g, c/g] (tiny), then y = x·A + B with A = γ/σ and B = β − μ·A per example and channel: three
 * full-size ops (x², ·A, +B). The variance is E[x²] − μ² (one pass), clamped at 0.
 *
 * Backward (x̂ = (x − μ)/σ, dx̂ = dy·γ, means over the n = h·w·c/g values of a group):
 *   dx = (1/σ)(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) = A·dy + C·x + D,
 *   with C = −m₂/σ², D = −m₁/σ − C·μ, m₁ = mean(dx̂), m₂ = mean(dx̂·x̂), both from the per-channel
 *   sums Σdy and Σdy·x (two matMuls by ones); dγ = Σ_b (Σdy·x − μΣdy)/σ, dβ = Σ_b Σdy.
 *   Five full-size ops (dy·x, A·dy, C·x, +, +D).
 */
export function groupNormFast(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps = 1e-5): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const cg = c / groups;
  const n = h * w * cg;
  const perChannel = (t: tf.Tensor) => tf.reshape(t, [b, 1, 1, c]);
  const op = customOp<tf.Tensor4D>(([xIn, gammaIn, betaIn], save) => {
    const x4 = xIn as tf.Tensor4D;
    const s1 = tf.reshape(sumPositions(x4), [b, groups, cg]);
    const s2 = tf.reshape(sumPositions(tf.square(x4)), [b, groups, cg]);
    const mean = tf.div(tf.sum(s1, 2, true), n); // [b,g,1]
    const variance = tf.relu(tf.sub(tf.div(tf.sum(s2, 2, true), n), tf.square(mean)));
    const rstd = tf.rsqrt(tf.add(variance, eps)); // [b,g,1]
    const gammaG = tf.reshape(gammaIn, [1, groups, cg]);
    const a = tf.mul(rstd, gammaG); // [b,g,cg]
    const shift = tf.sub(tf.reshape(betaIn, [1, groups, cg]), tf.mul(mean, a));
    const y = tf.add(tf.mul(x4, perChannel(a)), perChannel(shift)) as tf.Tensor4D;
    save([x4, mean, rstd, gammaG]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, r, gG] = saved as [tf.Tensor4D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dy4 = dy as tf.Tensor4D;
        const sdy = tf.reshape(sumPositions(dy4), [b, groups, cg]); // Σ dy
        const sdyx = tf.reshape(sumPositions(tf.mul(dy4, xs)), [b, groups, cg]); // Σ dy·x
        const centred = tf.sub(sdyx, tf.mul(mu, sdy)); // Σ dy·(x − μ)
        const dBeta = tf.reshape(tf.sum(sdy, 0), [c]);
        const dGamma = tf.reshape(tf.sum(tf.mul(r, centred), 0), [c]);
        const m1 = tf.div(tf.sum(tf.mul(gG, sdy), 2, true), n); // mean(dx̂)      [b,g,1]
        const m2 = tf.div(tf.sum(tf.mul(tf.mul(gG, r), centred), 2, true), n); // mean(dx̂·x̂) [b,g,1]
        const coefC = tf.neg(tf.mul(tf.square(r), m2));
        const coefD = tf.sub(tf.neg(tf.mul(r, m1)), tf.mul(coefC, mu));
        const ones = tf.ones([1, 1, cg]);
        const aC = perChannel(tf.mul(r, gG));
        const cC = perChannel(tf.mul(coefC, ones));
        const dC = perChannel(tf.mul(coefD, ones));
        const dx = tf.add(tf.add(tf.mul(dy4, aC), tf.mul(xs, cC)), dC);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}

/**
 * Nearest ×2 upsampling [b,h,w,c] → [b,2h,2w,c]. Forward: tf.image.resizeNearestNeighbor (exact
 * for a factor of 2 without align-corners or half-pixel centres); backward: the sum over each 2x2
 * block, as 4 · avgPool 2x2 stride 2 (the cpu backend's own resize gradient is wrong, and wasm's
 * Tile behind a broadcast upsample is slow).
 */
const upsampleOp = customOp<tf.Tensor4D>(([x]) => {
  const x4 = x as tf.Tensor4D;
  const [, h, w] = x4.shape;
  return {
    value: tf.image.resizeNearestNeighbor(x4, [2 * h, 2 * w]),
    gradFunc: (dy: tf.Tensor4D) => [tf.mul(tf.avgPool(dy, 2, 2, 'valid'), 4)],
  };
});

/** Nearest ×2 upsampling as one fused op (see above). */
export function upsampleNearest2xFast(x: tf.Tensor4D): tf.Tensor4D {
  return upsampleOp(x);
}

/** Dense layer; gradients through plain (untransposed) matMuls on wasm. */
const denseOp = customOp<tf.Tensor2D>(([x, w, bias], save) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias }) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [matMulT(dy2, ws, false, true), matMulT(xs, dy2, true, false), sumRows(dy2)];
    },
  };
});

/** x [n,in] · w [in,out] + b [out] as one fused op. */
export function denseFast(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return denseOp(x, w, b);
}

/** How conv2dFast's backward computes one of the conv's two gradients. */
export type ConvGradStrategy =
  /** The backend's registered Conv2DBackpropFilter / Conv2DBackpropInput kernel (tf.conv2dTranspose for dx). */
  | 'kernel'
  /** One forward conv with plain tf ops ({@link filterGradByConv}, {@link inputGradByConv}). */
  | 'forward-conv';

/** The strategy for the filter gradient dW and for the input gradient dx. */
export interface ConvGradChoice {
  filter: ConvGradStrategy;
  input: ConvGradStrategy;
}

/**
 * Per-backend choice of conv2dFast's gradients, keyed by {@link convGradBackendKey} (tf.getBackend(),
 * with WebGPU on SwiftShader, a CPU emulation, apart from WebGPU on a GPU). Chosen by measurement
 * (`npm run bench:webgpu`: one conv's forward + backward per strategy, and the U-Net train step):
 * - webgpu:swiftshader (headless Chromium here; Chromium 156, 2 cores, one run, 2026-11-26): tfjs's
 *   Conv2DBackpropFilter, one invocation per weight looping over batch × output positions, is a
 *   fine CPU loop, and the forward-conv dW (pad, 2 transposes, im2col, split-K matMul, slice,
 *   transpose) only adds dispatches. One conv fwd + bwd, kernels → forward-conv dW:
 *   [2,28,28,16]*[3,3,16,16] s1 321 → 818 ms, [2,28,28,16]*[3,3,16,32] s2 146 → 386 ms,
 *   [2,14,14,32]*[3,3,32,32] s1 313 → 501 ms; at batch 16: 2884 → 5122, 1787 → 1735, 2371 → 1788 ms
 *   (mixed, noisy). The forward-conv dx was slower in every case. So: the kernels.
 * - webgpu (a GPU adapter): the same kernel gives a GPU only ci·co·kh·kw invocations (9,216 for a
 *   3x3 32→32 conv) of batch·ho·wo serial steps each (50,176 at batch 64 on 28x28); the forward-conv
 *   dW runs on the backend's im2col + matMul path, which splits K across workgroups for this small
 *   [ci·kh·kw, co] output. NOT YET MEASURED on a GPU (none here): confirm with `npm run bench:webgpu`
 *   on one (its per-conv table compares both) and change this entry if the kernel wins. The input
 *   gradient stays on the kernel: webgpu's Conv2DBackpropInput is already matMul-based
 *   (Conv2DDerInputMMProgram).
 * - webgl: not measured; the kernels.
 * - wasm: the registered kernels are ours (src/backends/wasm/conv-gradients.ts: the same forward-conv
 *   formulations, written against the wasm kernels directly, without tape or engine overhead).
 * - cpu: its own kernels (the reference; the cpu backend is far too slow to train convs anyway).
 * Any other backend: the kernels.
 */
export const CONV_GRAD_BY_BACKEND: Readonly<Record<string, ConvGradChoice>> = {
  webgpu: { filter: 'forward-conv', input: 'kernel' },
  'webgpu:swiftshader': { filter: 'kernel', input: 'kernel' },
  webgl: { filter: 'kernel', input: 'kernel' },
  wasm: { filter: 'kernel', input: 'kernel' },
  cpu: { filter: 'kernel', input: 'kernel' },
};

const KERNELS: ConvGradChoice = { filter: 'kernel', input: 'kernel' };
let forcedConvGrad: ConvGradChoice | null = null;

/**
 * The current backend's key in {@link CONV_GRAD_BY_BACKEND}: tf.getBackend(), or
 * 'webgpu:swiftshader' when the WebGPU adapter is SwiftShader (tfjs-backend-webgpu's adapterInfo).
 */
export function convGradBackendKey(): string {
  const name = tf.getBackend();
  if (name !== 'webgpu') return name;
  const info = (tf.backend() as { adapterInfo?: { architecture?: string } }).adapterInfo;
  return info?.architecture === 'swiftshader' ? 'webgpu:swiftshader' : name;
}

/**
 * Forces conv2dFast's gradient strategy on every backend (tests and benchmarks): one strategy for
 * both gradients, a choice per gradient, or null to go back to {@link CONV_GRAD_BY_BACKEND}.
 */
export function setConvGradStrategy(strategy: ConvGradStrategy | ConvGradChoice | null): void {
  forcedConvGrad = typeof strategy === 'string' ? { filter: strategy, input: strategy } : strategy;
}

/** The strategy conv2dFast's backward uses on `backend` (a table key; default: the current backend). */
export function convGradChoice(backend: string = convGradBackendKey()): ConvGradChoice {
  return forcedConvGrad ?? CONV_GRAD_BY_BACKEND[backend] ?? KERNELS;
}

/**
 * dW [kh,kw,ci,co] of a conv of x [n,h,w,ci] (stride s, padding top/left as the forward conv pads)
 * from dy [n,ho,wo,co], as ONE forward conv on transposed operands (shared/docs/MEASURED.md):
 *   dW = transpose(conv2d(transpose(xPad, [3,1,2,0]),   // [ci, Hp, Wp, n]: "batch" ci, "channels" n
 *                         transpose(dy, [1,2,0,3]),     // [ho, wo, n, co]: a filter over the batch
 *                         1, 'valid', dilation s),      // → [ci, ≥kh, ≥kw, co]
 *                  [1,2,0,3]) sliced to [kh,kw,ci,co].
 * x is padded only as far as the last tap of the last output position reaches.
 */
export function filterGradByConv(
  x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, stride: number, top: number, left: number,
): tf.Tensor4D {
  const [, h, w, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const bottom = Math.max(0, (ho - 1) * stride + kh - h - top);
  const right = Math.max(0, (wo - 1) * stride + kw - w - left);
  const xPad = top > 0 || bottom > 0 || left > 0 || right > 0
    ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
    : x;
  const xT = tf.transpose(xPad, [3, 1, 2, 0]);
  const dyT = tf.transpose(dy, [1, 2, 0, 3]);
  const conv = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', stride);
  const [, outH, outW] = conv.shape;
  const dw = outH === kh && outW === kw ? conv : tf.slice(conv, [0, 0, 0, 0], [ci, kh, kw, co]);
  return tf.transpose(dw, [1, 2, 0, 3]);
}

/**
 * dx (shape xShape [n,h,w,ci]) of a conv with filter w [kh,kw,ci,co] (stride s, padding top/left)
 * from dy [n,ho,wo,co], as ONE forward conv: dy zero-dilated by the stride (s−1 zeros after each
 * row and column, by rank-4 pads and reshapes), convolved with the spatially flipped, channel-swapped
 * kernel [kh,kw,co,ci] under explicit pads that make the result exactly h × w (negative pads crop).
 */
export function inputGradByConv(
  dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number], stride: number, top: number, left: number,
): tf.Tensor4D {
  const [n, h, wd] = xShape;
  const [kh, kw, , co] = w.shape;
  const [, ho, wo] = dy.shape;
  const wT = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
  let d = dy;
  if (stride > 1) {
    const z = stride - 1;
    const cols = tf.pad(tf.reshape(dy, [n * ho, wo, 1, co]), [[0, 0], [0, 0], [0, z], [0, 0]]);
    const rows = tf.pad(tf.reshape(cols, [n, ho, 1, wo * stride * co]), [[0, 0], [0, 0], [0, z], [0, 0]]);
    d = tf.reshape(rows, [n, ho * stride, wo * stride, co]);
  }
  let [padTop, padLeft] = [kh - 1 - top, kw - 1 - left];
  let [padBottom, padRight] = [h + kh - 1 - padTop - d.shape[1], wd + kw - 1 - padLeft - d.shape[2]];
  if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
    const [cropTop, cropLeft] = [Math.max(0, -padTop), Math.max(0, -padLeft)];
    const size = [n, d.shape[1] - cropTop - Math.max(0, -padBottom), d.shape[2] - cropLeft - Math.max(0, -padRight), co];
    d = tf.slice(d, [0, cropTop, cropLeft, 0], size);
    [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) => Math.max(0, p));
  }
  return tf.conv2d(d, wT, 1, [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]]);
}

/**
 * 'same' conv (kernel [kh,kw,ci,co], stride 1 or 2) plus bias, forward through tf.fused.conv2d's
 * kernel. Backward: a 1x1 stride-1 conv as two plain matMuls; otherwise dW and dx each either by the
 * backend's kernels (on wasm, the XNNPACK-based ones of src/backends/wasm/conv-gradients.ts) or as one
 * forward conv with plain tf ops, per {@link convGradChoice} (chosen per backend by measurement);
 * the bias gradient as a sum over examples and positions. Saves x and the kernel only (tfjs's fused conv also copies
 * its output).
 */
export function conv2dFast(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor, stride: 1 | 2 = 1): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const op = customOp<tf.Tensor4D>(([xIn, wIn, bIn], save) => {
    save([xIn, wIn]);
    const value = tf.fused.conv2d({ x: xIn as tf.Tensor4D, filter: wIn as tf.Tensor4D, bias: bIn, strides: stride, pad: 'same' });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        const [nb, ho, wo] = dy4.shape;
        const dy2 = tf.reshape(dy4, [nb * ho * wo, co]) as tf.Tensor2D;
        const db = sumBatchPositions(dy4);
        if (kh === 1 && kw === 1 && stride === 1) {
          const x2 = tf.reshape(xs, [nb * ho * wo, ci]) as tf.Tensor2D;
          const w2 = tf.reshape(ws, [ci, co]) as tf.Tensor2D;
          const dx = tf.reshape(matMulT(dy2, w2, false, true), xs.shape);
          const dw = tf.reshape(matMulT(x2, dy2, true, false), ws.shape);
          return [dx, dw, db];
        }
        const choice = convGradChoice();
        const { top, left } = tf.backend_util.computeConv2DInfo(xs.shape, ws.shape, stride, 1, 'same').padInfo;
        const dx = choice.input === 'forward-conv'
          ? inputGradByConv(dy4, ws, xs.shape, stride, top, left)
          : tf.conv2dTranspose(dy4, ws, xs.shape, stride, 'same');
        const dw = choice.filter === 'forward-conv'
          ? filterGradByConv(xs, dy4, kh, kw, stride, top, left)
          : tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: dy4 }, {
            strides: stride,
            pad: 'same',
            dataFormat: 'NHWC',
            dimRoundingMode: undefined,
            filterShape: ws.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dx, dw, db];
      },
    };
  });
  return op(x, w, b);
}
