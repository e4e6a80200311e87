/**
 * Reverse sampling with a trained DiffusionModel: the denoiser (its EMA weights when it has them)
 * as the math core's DenoiseFn, with classifier-free guidance for class-conditional models, x_T
 * drawn from a seed, and every step's frame handed to the caller.
 */
import * as tf from '@tensorflow/tfjs';
import {
  adaptiveDpmSolver,
  adaptiveSde,
  classifierFreeGuidance,
  continuousSchedule,
  createSampler,
  MIN_ALPHA_BAR_FOR_EPS,
  predictEpsFromX0,
  sampleLoop,
  seededNoise,
  type DenoiseFn,
  type NoiseSchedule,
  type SampleFrame,
} from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import { deriveSeed } from '../data/random';
import { nullLabel } from '../models/setup/unet-config';
import type { UNet } from '../models/unet';
import type { DiffusionModel } from '../models/diffusion-model';
import { adaptiveOrder, ADAPTIVE_MAX_EVALUATIONS, requestExtras, type SamplingRequest } from './config';

/** The class labels of a request: one digit for all, or 0..9 cycling. */
export function requestLabels(numImages: number, digit: number | null): Int32Array {
  return Int32Array.from({ length: numImages }, (_, i) => digit ?? i % 10);
}

/** The U-Net as a function of (x_t, integer timestep t) for a whole batch, with labels. */
function conditionalDenoiser(unet: UNet) {
  return (xt: tf.Tensor4D, t: number, labels?: tf.Tensor): tf.Tensor4D =>
    tf.tidy(() => unet.apply(xt, tf.fill([xt.shape[0]], t, 'float32') as tf.Tensor1D, { labels: labels as tf.Tensor1D | undefined }));
}

/** The denoiser a sampler calls: guided when the model is class-conditional, plain otherwise. */
export function denoiserOf(unet: UNet, labels: tf.Tensor1D | null, nullLabels: tf.Tensor1D | null, guidance: number): DenoiseFn {
  const model = conditionalDenoiser(unet);
  if (!unet.config.numClasses || labels == null || nullLabels == null) return (xt, t) => model(xt, t);
  return classifierFreeGuidance(model, labels, nullLabels, guidance);
}

/**
 * The denoiser with its EMA weights (caller disposes), or the denoiser itself. No copy of the U-Net
 * is built: the EMA as it is now is swapped into the model's own weights around each evaluation and
 * the training weights put back after it (src/models/ema.ts, EmaSwap), so training steps that run
 * between the sampler's steps see their own weights and the run sees one EMA from start to end.
 */
export function samplingDenoiser(model: DiffusionModel, useEma: boolean): { unet: UNet; owned: boolean } {
  if (!useEma || model.ema == null) return { unet: model.denoiser, owned: false };
  const denoiser = model.denoiser;
  const swap = model.ema.swap();
  const unet: UNet = {
    config: denoiser.config,
    weights: denoiser.weights,
    apply: (x, t, options) => swap.run(() => denoiser.apply(x, t, options)),
    dispose: () => swap.dispose(),
  };
  return { unet, owned: true };
}

/**
 * A reverse step as the denoising player shows it: the frame, plus the x_t the denoiser saw and the
 * noise ε̂ it predicted there.
 */
export interface DenoisingStep extends SampleFrame {
  /** x_t at t: x_T at step 0, then the previous step's result. Owned by the generator, like xt and x0. */
  input: tf.Tensor4D;
  /** ε̂ = (x_t − √ᾱ_t·x̂0) / √(1−ᾱ_t). Owned by the generator. */
  eps: tf.Tensor4D;
}

/**
 * The predicted noise from x_t and the predicted x0, whatever the model predicts (ε, x0 or v): the
 * samplers turn every output into this pair (with x0 clipped as configured, and ε re-derived from
 * the clipped x0 as DDIM does), so ε̂ from (x_t, x̂0) is the ε̂ the sampler used. ᾱ is floored for
 * ε-prediction exactly as the samplers floor it (MIN_ALPHA_BAR_FOR_EPS). Caller owns the result.
 */
export function predictedNoise(input: tf.Tensor4D, x0: tf.Tensor4D, t: number, schedule: NoiseSchedule, prediction: PredictionType): tf.Tensor4D {
  // The adaptive solver steps from fractional timesteps: read ᾱ there as it does (log-linear between the table's entries).
  const ab = Number.isInteger(t) ? schedule.alphasCumprod[t] : continuousSchedule(schedule).alphaBar(t);
  return predictEpsFromX0(input, x0, prediction === 'epsilon' ? Math.max(ab, MIN_ALPHA_BAR_FOR_EPS) : ab);
}

/**
 * Adds each step's input x_t and predicted noise to a sampling loop's frames. `xT` stays the
 * caller's; the clones of later inputs and every ε̂ are freed as the loop goes on and when it ends.
 */
export function* withPredictedNoise(
  frames: Generator<SampleFrame, void, void>,
  xT: tf.Tensor4D,
  schedule: NoiseSchedule,
  prediction: PredictionType,
): Generator<DenoisingStep, void, void> {
  let input = xT;
  let eps: tf.Tensor4D | null = null;
  try {
    for (const frame of frames) {
      eps = predictedNoise(input, frame.x0, frame.t, schedule, prediction);
      yield { ...frame, input, eps };
      eps.dispose();
      eps = null;
      // The result of this step is the next step's x_t: keep it past the loop's next step.
      const next = frame.xt.clone();
      if (input !== xT) input.dispose();
      input = next;
    }
  } finally {
    eps?.dispose();
    if (input !== xT) input.dispose();
  }
}

/**
 * A generator over every reverse step's x_t and predicted x0, in the denoiser's space (pixels or
 * latents). Tensors are owned by the loop: read them before resuming (src/diffusion/sample-loop.ts).
 * Seeded: the same seed gives the same images. Everything made here is freed when the generator
 * finishes or is returned from.
 */
export function sampleFrames(
  model: DiffusionModel,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: SamplingRequest,
  useEma = true,
): Generator<SampleFrame, void, void> {
  return sampleWith(model, schedule, prediction, request, useEma, (frames) => frames);
}

/** The same run, each frame with its input x_t and predicted noise ε̂ (for the denoising player). */
export function sampleSteps(
  model: DiffusionModel,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: SamplingRequest,
  useEma = true,
): Generator<DenoisingStep, void, void> {
  return sampleWith(model, schedule, prediction, request, useEma, (frames, xT) => withPredictedNoise(frames, xT, schedule, prediction));
}

function* sampleWith<F>(
  model: DiffusionModel,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: SamplingRequest,
  useEma: boolean,
  wrap: (frames: Generator<SampleFrame, void, void>, xT: tf.Tensor4D) => Generator<F, void, void>,
): Generator<F, void, void> {
  const shape = model.sampleShape(request.numImages);
  // Clipping x0 to [-1, 1] is for pixels; normalized latents have unit variance and would be cut.
  const clipping = model.kind === 'latent' ? 'none' : request.clipping;
  const sampler = createSampler(schedule, { ...request, clipping }, prediction);
  const order = adaptiveOrder(request);
  const { rtol, atol, earlyStop } = requestExtras(request);
  const { unet, owned } = samplingDenoiser(model, useEma);
  const classes = unet.config.numClasses ?? 0;
  const labels = classes ? tf.tensor1d(requestLabels(request.numImages, request.digit), 'int32') : null;
  const nullLabels = classes ? tf.fill([request.numImages], nullLabel(unet.config), 'int32') as tf.Tensor1D : null;
  const xT = tf.randomNormal(shape, 0, 1, 'float32', deriveSeed(request.seed, 0)) as tf.Tensor4D;
  try {
    const denoise = denoiserOf(unet, labels, nullLabels, request.guidance);
    const noise = seededNoise(shape, deriveSeed(request.seed, 1));
    // Early stopping applies to the fixed-step samplers and the adaptive ODE solver (not to the SDE's).
    const frames =
      request.adaptive === 'sde'
        ? adaptiveSde(denoise, schedule, prediction, xT, noise, { rtol, atol, clipping, maxEvaluations: ADAPTIVE_MAX_EVALUATIONS })
        : order
          ? adaptiveDpmSolver(denoise, schedule, prediction, xT, { order, rtol, atol, clipping, maxEvaluations: ADAPTIVE_MAX_EVALUATIONS, earlyStop: earlyStop ?? undefined })
          : sampleLoop(denoise, sampler, xT, noise, { earlyStop: earlyStop ?? undefined });
    yield* wrap(frames, xT);
  } finally {
    tf.dispose([xT, ...(labels ? [labels] : []), ...(nullLabels ? [nullLabels] : [])]);
    if (owned) unet.dispose();
  }
}
