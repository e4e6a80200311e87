/**
 * GroupNorm for inference as ONE kernel: its name, its arithmetic and
 * the call the models make. The kernel itself is registered per backend (on wasm, in JavaScript
 * over views of the heap: src/backends/wasm/group-norm.ts).
 *
 * On the 7x7 latents the latent denoiser works on, a step is dominated by per-op overhead, not by
 * arithmetic (issue 19): the differentiable GroupNorm (./group-norm.ts) is about 25 kernels (sums,
 * reshapes, the statistics on [b, g, c/g], the scale and shift). This kernel does the same math in
 * three passes over x: per-example, per-channel sums reduced to the group mean, then the variance
 * (two-pass, in float64), then y = x·(γ/σ) + (β − μγ/σ). SiLU stays with the backend's own kernels:
 * JavaScript's Math.exp here made the fused kernel slower than wasm's SIMD sigmoid.
 *
 * Inference only: it has no gradient, so src/models/layers.ts calls it only outside a gradient tape
 * (sampling, evaluation); training keeps the differentiable ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { recordingGradients } from './fast-ops';

export const GROUP_NORM_KERNEL = 'DiffusionPlaygroundGroupNorm';

export interface GroupNormAttrs extends NamedAttrMap {
  groups: number;
  eps: number;
}

/**
 * The kernel's arithmetic on plain arrays (NHWC x of `batch` examples with c channels): exported
 * for the unit test, which checks it against the closed form on known data.
 */
export function groupNormInto(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  out: Float32Array,
  batch: number,
  c: number,
  { groups, eps }: GroupNormAttrs,
): void {
  // Integers as int32 (`| 0`): a division's result is a double, and double loop indices make every
  // typed-array access several times slower.
  const positions = (x.length / (batch * c)) | 0;
  const cg = (c / groups) | 0;
  const n = positions * cg;
  // Per-channel accumulators and coefficients: the inner loops index by channel only (no division).
  const sum = new Float64Array(c);
  const meanC = new Float64Array(c);
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let e = 0; e < batch; e++) {
    const from = e * positions * c;
    const to = from + positions * c;
    // Strided loops with the accumulator in a local: an indexed accumulator (sum[ch] += …) is a
    // load and a store per element, several times slower.
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let i = from + ch; i < to; i += c) s += x[i];
      sum[ch] = s;
    }
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) s += sum[ch];
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) meanC[ch] = s / n;
    }
    for (let ch = 0; ch < c; ch++) {
      const m = meanC[ch];
      let s = 0;
      for (let i = from + ch; i < to; i += c) {
        const d = x[i] - m;
        s += d * d;
      }
      sum[ch] = s;
    }
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) s += sum[ch];
      const rstd = 1 / Math.sqrt(s / n + eps);
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
        scale[ch] = rstd * gamma[ch];
        shift[ch] = beta[ch] - meanC[ch] * rstd * gamma[ch];
      }
    }
    for (let i = from; i < to; i += c) for (let ch = 0; ch < c; ch++) out[i + ch] = x[i + ch] * scale[ch] + shift[ch];
  }
}

let enabled = true;

/** Turns the inference kernel off (the differentiable ops everywhere) or back on: benchmarks and tests only. */
export function setGroupNormKernel(on: boolean): void {
  enabled = on;
}

/**
 * Up to this many elements the JavaScript kernel beats the backend's ~25 SIMD kernels; above it their
 * per-op cost is small against the work. Measured with `npm run bench:latent-designs`
 * (Node wasm, batch 8, 2026-12-03): a latent U-Net step 1.36× faster with it at 9,408 elements per
 * GroupNorm (7x7x24), 0.93× at 18,816 (7x7x48) and the pixel U-Net 0.88× at 100,352 (28x28x16).
 */
export const GROUP_NORM_KERNEL_MAX_ELEMENTS = 12_288;

/**
 * Whether {@link groupNormInference} should run for x now: the backend has the kernel, no gradient
 * is being recorded, and x is small enough for it to win.
 */
export function groupNormKernelUsable(x: tf.Tensor): boolean {
  return enabled && x.size <= GROUP_NORM_KERNEL_MAX_ELEMENTS && !recordingGradients() && tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()) != null;
}

/** GroupNorm of x [b, …, c] as one kernel; check {@link groupNormKernelUsable} first. */
export function groupNormInference<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps: number): T {
  const attrs: GroupNormAttrs = { groups, eps };
  return tf.engine().runKernel(GROUP_NORM_KERNEL, { x, gamma, beta } as unknown as tf.NamedTensorMap, attrs) as T;
}
