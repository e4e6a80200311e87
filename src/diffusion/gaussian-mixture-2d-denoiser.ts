/**
 * The exact ("perfect model") denoisers of 2-D Gaussian-mixture data as the samplers call models:
 * a DenoiseFn for the diffusion samplers (raw output of the ε, x0 or v parameterization at integer
 * timestep t) and a VelocityFn for the flow-matching samplers, both on [n, 1, 1, 2] tensors. They
 * read the points back and evaluate the float64 closed forms of ./gaussian-mixture-2d.ts (a
 * few thousand 2-D points: cheaper than a dozen tensor ops per component on the wasm backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from './config';
import type { VelocityFn } from './flow-matching';
import { diffusionCorruption, flowCorruption, mixturePosterior2D, normalizeMixture2D, type MixtureComponent2D } from './gaussian-mixture-2d';
import type { DenoiseFn } from './sampler';
import type { NoiseSchedule } from './schedule';

function points2D(x: tf.Tensor4D): Float32Array {
  if (x.shape[1] * x.shape[2] * x.shape[3] !== 2) throw new Error(`2-D points must be laid out [n, 1, 1, 2], got [${x.shape.join(', ')}].`);
  return x.dataSync() as Float32Array;
}

/** The exact model's raw output for `prediction` at timestep t: E[ε|x_t], E[x0|x_t] or √ᾱ·E[ε] − √(1−ᾱ)·E[x0]. */
export function mixtureDenoiser2D(components: readonly MixtureComponent2D[], schedule: NoiseSchedule, prediction: PredictionType): DenoiseFn {
  const mixture = normalizeMixture2D(components);
  return (xt, t) => {
    if (!Number.isInteger(t) || t < 0 || t >= schedule.T) throw new Error(`timestep must be an integer in [0, ${schedule.T - 1}], got ${t}.`);
    const c = diffusionCorruption(schedule.alphasCumprod[t]);
    const { x0, eps } = mixturePosterior2D(mixture, c, points2D(xt));
    const out = prediction === 'epsilon' ? eps : prediction === 'x0' ? x0 : eps.map((e, i) => c.a * e - c.b * x0[i]);
    return tf.tensor4d(Float32Array.from(out), xt.shape);
  };
}

/** The exact flow-matching velocity E[ε − x0 | x_t] at time t ∈ [0, 1]. */
export function mixtureVelocity2D(components: readonly MixtureComponent2D[]): VelocityFn {
  const mixture = normalizeMixture2D(components);
  return (xt, t) => {
    const { x0, eps } = mixturePosterior2D(mixture, flowCorruption(t), points2D(xt));
    return tf.tensor4d(Float32Array.from(eps, (e, i) => e - x0[i]), xt.shape);
  };
}
