/** How conv2dFast (./conv.ts) computes its filter and input gradients, per backend. */
import * as tf from '@tensorflow/tfjs';

/** How conv2dFast's backward computes one of the conv's two gradients. */
export type ConvGradStrategy =
  /** The backend's registered Conv2DBackpropFilter / Conv2DBackpropInput kernel (tf.conv2dTranspose for dx). */
  | 'kernel'
  /** One forward conv with plain tf ops (./conv-gradients.ts). */
  | 'forward-conv';

/** The strategy for the filter gradient dW and for the input gradient dx. */
export interface ConvGradChoice {
  filter: ConvGradStrategy;
  input: ConvGradStrategy;
}

/**
 * Per-backend choice of conv2dFast's gradients, keyed by {@link convGradBackendKey}; compared per
 * conv and on the U-Net train step by `npm run bench:webgpu` (see README's Benchmarks section).
 * - webgpu:swiftshader (WebGPU emulated on the CPU): tfjs's Conv2DBackpropFilter, one invocation per
 *   weight looping over batch × output positions, is a good CPU loop, and the forward-conv dW (pad,
 *   transposes, im2col, split-K matMul, slice) only adds dispatches; the forward-conv dx was slower too.
 * - webgpu on a GPU: that kernel gives the GPU only ci·co·kh·kw invocations of batch·ho·wo serial
 *   steps each, while the forward-conv dW runs on the im2col + matMul path, which splits K across
 *   workgroups for this small [ci·kh·kw, co] output. dx stays on the kernel: webgpu's
 *   Conv2DBackpropInput is already matMul-based (Conv2DDerInputMMProgram).
 * - wasm: the registered kernels are ours (src/backends/wasm/conv-gradients.ts), the same
 *   forward-conv formulas run on the wasm kernels directly, without tape or engine overhead.
 * - webgl, cpu (the reference) and any other backend: their own kernels.
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
