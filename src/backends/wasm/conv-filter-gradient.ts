/**
 * `Conv2DBackpropFilter` for the TensorFlow.js `wasm` backend, which tfjs-backend-wasm 4.22 lacks
 * (training any conv layer on wasm otherwise fails with "Kernel 'Conv2DBackpropFilter' not
 * registered for backend 'wasm'"). Two formulations on the wasm kernels, picked per shape by
 * {@link chooseFilterGradMethod}: one XNNPACK forward conv on transposed operands (the formula in
 * src/kernels/conv-gradients.ts), or im2col + one XNNPACK GEMM ({@link filterGradByGemm}).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { filterGradByConv, padForFilterGrad, type ConvGradGeometry } from '../../kernels/conv-gradients';
import { wasmConvGradOps, withTemps, type DisposingBackend, type TempRun } from './run-kernel';

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
 * The formulation 'auto' picks for a filter gradient (per-shape timings: README's Benchmarks section):
 *   - 'gemm' only where the conv formulation has almost no work per output: a 1x1 kernel, or very
 *     few input channels (the U-Net's input conv), at stride 1;
 *   - 'conv' for larger kernels with more channels: im2col's copies (a slice per tap, their
 *     stacking and a transpose) cost more than the GEMM gains over the forward conv;
 *   - 'conv' always for a stride > 1: wasm's StridedSlice is a generic element loop.
 */
export function chooseFilterGradMethod(s: FilterGradShape): 'conv' | 'gemm' {
  if (s.strideH !== 1 || s.strideW !== 1) return 'conv';
  return s.kh * s.kw === 1 || s.ci <= 4 ? 'gemm' : 'conv';
}

/**
 * dW as im2col + one GEMM: for each tap (i, j) the slice of the padded input that meets dy through
 * W[i, j], X_ij [P = n·ho·wo, ci] (stride 1: a Slice of xPad viewed as [n, Hp, Wp·ci], whose rows
 * are contiguous runs of wo·ci values; stride > 1: a StridedSlice), stacked on a leading axis
 * ([kh·kw, P, ci], a plain memcpy per tap), transposed to [kh·kw·ci, P], then one matMul by dy
 * viewed as [P, co] without transpose flags, so wasm runs it on XNNPACK:
 *   dW[i, j] = X_ijᵀ · dy   →   [kh·kw·ci, co] = [kh, kw, ci, co].
 */
function filterGradByGemm(run: TempRun, x: TensorInfo, dy: TensorInfo, s: FilterGradShape, g: ConvGradGeometry): TensorInfo {
  const { n, ho, wo, ci, co, kh, kw, strideH: sh, strideW: sw } = s;
  const rows = n * ho * wo;
  const taps = kh * kw;
  const xPad = padForFilterGrad(wasmConvGradOps(run), x, dy, g);
  const [, hp, wp] = xPad.shape;
  const unit = sh === 1 && sw === 1;
  const x3 = unit ? run('Reshape', { x: xPad }, { shape: [n, hp, wp * ci] }) : xPad;
  const patches: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const patch = unit
        ? run('Slice', { x: x3 }, { begin: [0, i, j * ci], size: [n, ho, wo * ci] })
        : run('StridedSlice', { x: xPad }, {
          begin: [0, i, j, 0],
          end: [n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, ci],
          strides: [1, sh, sw, 1],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        });
      patches.push(run('Reshape', { x: patch }, { shape: [1, rows, ci] }));
    }
  }
  const cols = taps === 1 ? patches[0] : run('Concat', patches as unknown as Record<string, TensorInfo>, { axis: 0 });
  const colsT = ci === 1 ? cols : run('Transpose', { x: cols }, { perm: [0, 2, 1] });
  const a = run('Reshape', { x: colsT }, { shape: [1, taps * ci, rows] });
  const dy3 = run('Reshape', { x: dy }, { shape: [1, rows, co] });
  const prod = run('BatchMatMul', { a, b: dy3 }, { transposeA: false, transposeB: false });
  return run('Reshape', { x: prod }, { shape: [kh, kw, ci, co] });
}

/**
 * The kernel function: dW for a 2-D conv of x [n,h,w,ci] whose output gradient is dy [n,ho,wo,co].
 * Handles 'same' (including TF's asymmetric split, computed by `computeConv2DInfo`), 'valid',
 * a numeric pad and explicit paddings; NHWC only. Both formulations run the wasm kernels directly
 * and free every intermediate, so they record nothing on the gradient tape and leak nothing.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as DisposingBackend;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
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
  const [n, , , ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const [kh, kw] = filterShape;
  const { strideHeight: sh, strideWidth: sw } = convInfo;
  const { top, left } = convInfo.padInfo;
  if (top < 0 || left < 0) throw new Error('wasm Conv2DBackpropFilter: negative padding is not supported.');
  const g: ConvGradGeometry = { kh, kw, strideH: sh, strideW: sw, top, left };
  const shape: FilterGradShape = { n, ho, wo, ci, co, kh, kw, strideH: sh, strideW: sw };
  const method = filterGradMethod === 'auto' ? chooseFilterGradMethod(shape) : filterGradMethod;
  return withTemps(b, (run) => method === 'gemm'
    ? filterGradByGemm(run, x, dy, shape, g)
    : filterGradByConv(wasmConvGradOps(run), x, dy, g));
};

let filterRegistered = false;

/**
 * Registers {@link conv2DBackpropFilterWasm} as the wasm backend's `Conv2DBackpropFilter`. Idempotent;
 * leaves an existing registration (e.g. a future tfjs that ships one) in place.
 */
export function registerWasmConv2DBackpropFilter(): void {
  if (filterRegistered) return;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') == null) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilterWasm,
    });
  }
  filterRegistered = true;
}
