/**
 * Edits of one input with a trained DiffusionModel (issue 21), as generators of denoising steps the
 * sampling run streams like any other (./sample.ts): SDEdit, inpainting (replacement, DDNM or DPS,
 * with RePaint resampling / DDNM+ time travel) and interpolation (between two seeds' noises, two classes, or two inputs inverted with
 * DDIM first: `inversionFrames`). Latent models edit in latent space: the input is encoded, the mask
 * taken to the latent grid, and the run decoded as sampling runs are.
 */
import * as tf from '@tensorflow/tfjs';
import {
  createSampler,
  ddimInversionLoop,
  inpaintLoop,
  interpolationAlphas,
  restrictTimesteps,
  sampleLoop,
  sdeditPlan,
  sdeditStart,
  seededNoise,
  slerpBatch,
  type DenoiseFn,
  type InversionFrame,
  type NoiseSchedule,
  type Sampler,
  type SamplerConfig,
} from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import { ddnm } from '../diffusion/ddnm';
import { dps } from '../diffusion/dps';
import { replacement, type InpaintMethodFactory } from '../diffusion/inpaint';
import { deriveSeed } from '../data/random';
import { nullLabel } from '../models/setup/unet-config';
import type { DiffusionModel } from '../models/diffusion-model';
import type { UNet } from '../models/unet';
import { denoiserOf, predictedNoise, samplingDenoiser, withPredictedNoise, type DenoisingStep } from './sample';
import { editBatch, type EditRequest } from './edit-config';

/** The input(s) in the denoiser's space [k, h, w, c] and where they are kept [1, h, w, 1]. */
export interface EditSpace {
  x0: tf.Tensor4D;
  /** 1 keep, 0 regenerate, on the denoiser's grid [1, h, w, 1]; null without a mask. */
  keep: tf.Tensor4D | null;
}

/**
 * The input (784 values in [−1, 1]) encoded (latent models) and the mask taken to the latent grid:
 * a latent cell is kept only when every pixel under it is (a min-pool), so no regenerated pixel's
 * content reaches the model through a kept cell; the cells along the mask's edge are regenerated.
 */
export function editSpace(model: DiffusionModel, input: Float32Array, mask: Float32Array | null): EditSpace {
  const x0 = tf.tidy(() => model.encode(tf.tensor4d(input, [input.length / 784, 28, 28, 1])));
  if (mask == null) return { x0, keep: null };
  const f = 28 / x0.shape[1];
  const keep = tf.tidy(() => {
    const full = tf.tensor4d(mask, [1, 28, 28, 1]);
    return f === 1 ? full : (tf.sub(1, tf.maxPool(tf.sub(1, full) as tf.Tensor4D, f, f, 'valid')) as tf.Tensor4D);
  });
  return { x0, keep };
}

/** The sampler of an edit (latents are never clipped); interpolation needs a deterministic one (DDIM, η = 0, unless DPM-Solver++). */
export function editSampler(model: DiffusionModel, schedule: NoiseSchedule, prediction: PredictionType, request: EditRequest): Sampler {
  let cfg: SamplerConfig = model.kind === 'latent' ? { ...request, clipping: 'none' } : { ...request };
  if (request.mode === 'interpolate' && (cfg.kind === 'ddpm' || (cfg.kind === 'ddim' && cfg.eta > 0))) cfg = { ...cfg, kind: 'ddim', eta: 0 };
  return createSampler(schedule, cfg, prediction);
}

/** ε̂ = ε_u + w·((1 − α)·ε_a + α·ε_b − ε_u): guidance toward a mix of two classes, α per image. */
function classMixDenoiser(unet: UNet, a: tf.Tensor1D, b: tf.Tensor1D, none: tf.Tensor1D, alpha: tf.Tensor4D, w: number): DenoiseFn {
  return (xt, t) =>
    tf.tidy(() => {
      const tt = tf.fill([xt.shape[0]], t, 'float32') as tf.Tensor1D;
      const ea = unet.apply(xt, tt, { labels: a });
      const eb = unet.apply(xt, tt, { labels: b });
      const eu = unet.apply(xt, tt, { labels: none });
      const cond = tf.add(tf.mul(ea, tf.sub(1, alpha)), tf.mul(eb, alpha));
      return tf.add(eu, tf.mul(tf.sub(cond, eu), w)) as tf.Tensor4D;
    });
}

interface Conditioning {
  denoise: DenoiseFn;
  tensors: tf.Tensor[];
}

/** The request's denoiser: its class for every image (unknown: the unconditional model) with guidance. */
function conditioning(unet: UNet, request: EditRequest, n: number): Conditioning {
  const classes = unet.config.numClasses ?? 0;
  if (!classes) return { denoise: denoiserOf(unet, null, null, 1), tensors: [] };
  const none = tf.fill([n], nullLabel(unet.config), 'int32') as tf.Tensor1D;
  if (request.mode === 'interpolate' && request.interpolation === 'classes') {
    const a = tf.fill([n], request.digit ?? 0, 'int32') as tf.Tensor1D;
    const b = tf.fill([n], request.digit2 ?? 0, 'int32') as tf.Tensor1D;
    const alpha = tf.tensor4d(Float32Array.from(interpolationAlphas(n)), [n, 1, 1, 1]);
    return { denoise: classMixDenoiser(unet, a, b, none, alpha, request.guidance), tensors: [none, a, b, alpha] };
  }
  if (request.digit === null) return { denoise: denoiserOf(unet, none, none, 0), tensors: [none] };
  const labels = tf.fill([n], request.digit, 'int32') as tf.Tensor1D;
  return { denoise: denoiserOf(unet, labels, none, request.guidance), tensors: [none, labels] };
}

/** The request's inpainting method (./edit-config.ts INPAINT_METHODS). */
export function inpaintMethodOf(request: Pick<EditRequest, 'inpaintMethod' | 'dpsScale'>): InpaintMethodFactory {
  if (request.inpaintMethod === 'ddnm') return ddnm;
  if (request.inpaintMethod === 'dps') return dps({ scale: request.dpsScale });
  return replacement;
}

/** The noise of seed s for n images: the x_T a sampling run of n images with seed s starts from. */
function seedNoise(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  return tf.randomNormal(shape, 0, 1, 'float32', deriveSeed(seed, 0)) as tf.Tensor4D;
}

/**
 * Both inputs of an interpolation inverted with DDIM ([2, h, w, c] as frames: clone the last one's
 * x). Every tensor made here is freed when the generator ends or is returned from.
 */
export function* inversionFrames(model: DiffusionModel, schedule: NoiseSchedule, prediction: PredictionType, request: EditRequest): Generator<InversionFrame, void, void> {
  if (request.input2 == null) throw new Error('interpolating between inputs needs a second input.');
  const sampler = editSampler(model, schedule, prediction, request);
  const { unet, owned } = samplingDenoiser(model, request.useEma);
  const both = new Float32Array(2 * 784);
  both.set(request.input);
  both.set(request.input2, 784);
  const x0 = tf.tidy(() => model.encode(tf.tensor4d(both, [2, 28, 28, 1])));
  const cond = conditioning(unet, { ...request, mode: 'sdedit' }, 2);
  try {
    yield* ddimInversionLoop(cond.denoise, schedule, prediction, sampler.timesteps, x0);
  } finally {
    tf.dispose([x0, ...cond.tensors]);
    if (owned) unet.dispose();
  }
}

/**
 * The edit's reverse steps (ownership as in ./sample.ts). `inverted` ([2, h, w, c], the caller's)
 * is needed for interpolation between inputs. SDEdit of strength 0 yields nothing: the result is
 * the input.
 */
export function* editSteps(
  model: DiffusionModel,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: EditRequest,
  inverted: tf.Tensor4D | null = null,
): Generator<DenoisingStep, void, void> {
  const n = editBatch(request);
  const shape = model.sampleShape(n);
  const sampler = editSampler(model, schedule, prediction, request);
  const { unet, owned } = samplingDenoiser(model, request.useEma);
  const cond = conditioning(unet, request, n);
  const made: tf.Tensor[] = [...cond.tensors];
  const keep = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
  const noise = seededNoise(shape, deriveSeed(request.seed, 1));
  try {
    if (request.mode === 'sdedit' || request.mode === 'inpaint') {
      const space = editSpace(model, request.input, request.mode === 'inpaint' ? request.mask : null);
      keep(space.x0);
      if (space.keep) keep(space.keep);
      const x0 = space.x0.shape[0] === n ? space.x0 : keep(tf.tile(space.x0, [n, 1, 1, 1]) as tf.Tensor4D);
      const eps = keep(seedNoise(shape, request.seed));
      if (request.mode === 'sdedit') {
        const plan = sdeditPlan(schedule, sampler.timesteps, request.strength);
        if (plan.steps === 0) return;
        restrictTimesteps(sampler, plan.startIndex);
        const start = keep(sdeditStart(plan, x0, eps));
        yield* withPredictedNoise(sampleLoop(cond.denoise, sampler, start, noise), start, schedule, prediction);
        return;
      }
      for (const frame of inpaintLoop(cond.denoise, sampler, { x0, keep: space.keep!, xT: eps }, noise, { jump: request.jump, resample: request.resample }, inpaintMethodOf(request))) {
        const epsHat = predictedNoise(frame.input, frame.x0, frame.t, schedule, prediction);
        try {
          yield { ...frame, eps: epsHat };
        } finally {
          epsHat.dispose();
        }
      }
      return;
    }
    const alphas = interpolationAlphas(n);
    let xT: tf.Tensor4D;
    if (request.interpolation === 'inputs') {
      if (inverted == null || inverted.shape[0] !== 2) throw new Error('interpolating between inputs needs both inputs inverted first.');
      const [a, b] = tf.split(inverted, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
      xT = keep(slerpBatch(a, b, alphas));
      tf.dispose([a, b]);
    } else {
      const one: [number, number, number, number] = [1, shape[1], shape[2], shape[3]];
      const a = keep(seedNoise(one, request.seed));
      const b = request.interpolation === 'seeds' ? keep(seedNoise(one, request.seed2)) : a;
      xT = keep(slerpBatch(a, b, alphas));
    }
    yield* withPredictedNoise(sampleLoop(cond.denoise, sampler, xT, noise), xT, schedule, prediction);
  } finally {
    tf.dispose(made);
    if (owned) unet.dispose();
  }
}
