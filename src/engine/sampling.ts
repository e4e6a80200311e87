/**
 * Reverse sampling with a trained U-Net: wraps the model as the math core's DenoiseFn, draws x_T
 * from a seed, and hands the sampler's per-step frames to the caller.
 */
import * as tf from '@tensorflow/tfjs';
import { createSampler, sampleLoop, seededNoise, type NoiseSchedule, type SampleFrame } from '../diffusion';
import type { PredictionType, SamplerConfig } from '../diffusion/config';
import { deriveSeed } from '../data/random';
import type { UNet } from '../models/unet';

export interface SamplingRequest extends SamplerConfig {
  numImages: number;
  seed: number;
}

/** The U-Net as a function of (x_t, integer timestep t) for a whole batch. */
export function denoiserOf(model: UNet) {
  return (xt: tf.Tensor4D, t: number): tf.Tensor4D =>
    tf.tidy(() => model.apply(xt, tf.fill([xt.shape[0]], t, 'float32') as tf.Tensor1D));
}

/**
 * A generator over every reverse step's x_t and predicted x0 (tensors owned by the loop: read them
 * before resuming the generator; see src/diffusion/sample-loop.ts). Seeded: the same seed gives the
 * same images. x_T is made here and freed when the generator finishes or is returned from.
 */
export function* sampleFrames(
  model: UNet,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: SamplingRequest,
): Generator<SampleFrame, void, void> {
  const { imageSize, imageChannels } = model.config;
  const shape: [number, number, number, number] = [request.numImages, imageSize, imageSize, imageChannels];
  const sampler = createSampler(schedule, request, prediction);
  const xT = tf.randomNormal(shape, 0, 1, 'float32', deriveSeed(request.seed, 0)) as tf.Tensor4D;
  try {
    yield* sampleLoop(denoiserOf(model), sampler, xT, seededNoise(shape, deriveSeed(request.seed, 1)));
  } finally {
    xT.dispose();
  }
}
