/**
 * Fused forward + backward ops (tf.customGrad) for the models' hot layers: GroupNorm, SiLU, nearest
 * ×2 upsampling, dense and conv2d + bias, one file each in this folder; this module is their API.
 * Each is written with few, large tf ops whose kernels are fast on the wasm backend (see
 * src/cli/bench-unet.ts), and with pure tf ops only, so the same code runs on cpu, webgl and webgpu.
 *
 * What makes the plain formulations slow on wasm:
 * - every tensor an op saves for its gradient is copied (the engine clones it; wasm's Identity is a
 *   memcpy), and every saved copy adds a Cast to the backward pass; a customGrad saves only what
 *   its gradient needs;
 * - reductions over non-innermost axes (Mean/Sum over [1,2]) transpose first; a matMul by ones or
 *   an average pool does the same sum faster (./sums.ts);
 * - matMul with transposeA/transposeB leaves XNNPACK for a naive loop: the gradients here
 *   transpose explicitly and call a plain matMul;
 * - broadcastTo/tile runs wasm's slow Tile kernel, which a broadcast upsample would use;
 * - every full-size elementwise op is a pass over memory, so the analytic gradients are arranged
 *   to touch full-size tensors as few times as possible.
 *
 * `setFastOps(false)` switches the models (src/models/layers.ts) back to the plain formulation,
 * which tfjs differentiates itself on every backend: for the equivalence test and the benchmarks
 * only. conv2dFast's gradients are chosen per backend (./conv-grad-strategy.ts).
 */
import * as tf from '@tensorflow/tfjs';

export { siluFast } from './silu';
export { groupNormFast } from './group-norm';
export { upsampleNearest2xFast } from './upsample';
export { denseFast } from './dense';
export { conv2dFast } from './conv';
export {
  CONV_GRAD_BY_BACKEND,
  convGradBackendKey,
  convGradChoice,
  setConvGradStrategy,
  type ConvGradChoice,
  type ConvGradStrategy,
} from './conv-grad-strategy';

/**
 * Backends on which the fused ops are on by default: on wasm they make the U-Net's train step
 * faster (src/cli/bench-unet.ts); on WebGPU emulated on the CPU they were slower than tfjs's own
 * ops (`npm run bench:webgpu`, README's Benchmarks section), so webgpu and webgl keep tfjs's ops
 * until a benchmark on a GPU says otherwise.
 */
const FAST_BY_DEFAULT = new Set(['wasm', 'cpu']);

let fastOps: boolean | null = null;

/** Forces the fused ops on or off; null returns to the per-backend default. Tests and benchmarks. */
export function setFastOps(on: boolean | null): void {
  fastOps = on;
}

/**
 * Whether a gradient tape is recording now (inside tf.grad / variableGrads). Outside one, the
 * custom ops' gradients are never needed, so layers.ts calls the forward kernels directly and skips
 * each custom op's scope (on 7x7 latents the per-op cost is most of a step).
 */
export function recordingGradients(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/** Whether layers.ts uses the fused ops on the current backend. */
export function fastOpsEnabled(): boolean {
  return fastOps ?? FAST_BY_DEFAULT.has(tf.getBackend());
}
