/**
 * SDEdit (Meng et al. 2022, "SDEdit: Guided Image Synthesis and Editing with Stochastic Differential
 * Equations", Algorithm 1): perturb a guide image x0 with the forward process to a chosen noise
 * level t0, x_{t0} = √ᾱ_{t0}·x0 + √(1 − ᾱ_{t0})·ε (q(x_t0 | x0), Ho et al. 2020, Eq. 4), then run the
 * reverse process from t0 with any sampler. The strength s ∈ [0, 1] picks t0 as diffusers'
 * img2img pipeline does: of the sampler's N timesteps only the last k = round(s·N) run (steps scaled
 * to the part of the trajectory that runs), and t0 is the first of them.
 *
 * - s = 0 (k = 0) runs nothing: the result is x0 itself.
 * - s = 1 (k = N) is ordinary sampling: the start is ε itself, exactly the x_T of a sampling run with
 *   the same noise (q(x_T | x0) ≈ N(0, I): ᾱ at the first timestep is 4·10⁻⁵ on the linear schedule).
 */
import * as tf from '@tensorflow/tfjs';
import { sampleLoop, type SampleFrame } from './sample-loop';
import type { DenoiseFn, NoiseFn, Sampler } from './sampler';
import { SamplerBase } from './sampler-common';
import type { NoiseSchedule } from './schedule';

import { sdeditPlan, type SdeditPlan } from './sdedit-plan';

/**
 * Makes `sampler` visit only its timesteps from `startIndex` on (and resets its state). Samplers
 * take any descending subsequence (DDPM and DDIM by their step's own ᾱ_t / ᾱ_{t'}, DPM-Solver++ by λ).
 */
export function restrictTimesteps(sampler: Sampler, startIndex: number): void {
  if (!(sampler instanceof SamplerBase)) throw new Error('restrictTimesteps needs one of the core samplers.');
  const all = sampler.timesteps;
  if (!(Number.isInteger(startIndex) && startIndex >= 0 && startIndex < all.length)) {
    throw new Error(`startIndex must be an integer in [0, ${all.length - 1}], got ${startIndex}.`);
  }
  sampler.timesteps = all.slice(startIndex);
  sampler.reset();
}

/** x_{t0} = √ᾱ·x0 + √(1 − ᾱ)·ε for the plan (ε itself when the whole trajectory runs). New tensor. */
export function sdeditStart(plan: SdeditPlan, x0: tf.Tensor4D, eps: tf.Tensor4D): tf.Tensor4D {
  if (x0.shape.join() !== eps.shape.join()) throw new Error(`eps must have the shape of x0 [${x0.shape.join(', ')}].`);
  if (plan.full) return eps.clone();
  if (plan.steps === 0) return x0.clone();
  return tf.tidy(() => tf.add(tf.mul(x0, Math.sqrt(plan.alphaBar)), tf.mul(eps, Math.sqrt(1 - plan.alphaBar))));
}

/**
 * The SDEdit reverse process as frames (./sample-loop.ts's ownership rules): restricts `sampler` to
 * the plan's timesteps, noises x0 with `eps` and runs the loop. With strength 0 it yields nothing
 * (the result is x0). x0, eps and the sampler stay the caller's.
 */
export function* sdeditLoop(
  model: DenoiseFn,
  sampler: Sampler,
  schedule: NoiseSchedule,
  x0: tf.Tensor4D,
  strength: number,
  eps: tf.Tensor4D,
  noise?: NoiseFn,
): Generator<SampleFrame, void, void> {
  const plan = sdeditPlan(schedule, sampler.timesteps, strength);
  if (plan.steps === 0) return;
  restrictTimesteps(sampler, plan.startIndex);
  const start = sdeditStart(plan, x0, eps);
  try {
    yield* sampleLoop(model, sampler, start, noise);
  } finally {
    start.dispose();
  }
}

/** The whole SDEdit run: the final sample (x0 itself at strength 0), a tensor the caller owns. */
export function sdeditAll(
  model: DenoiseFn,
  sampler: Sampler,
  schedule: NoiseSchedule,
  x0: tf.Tensor4D,
  strength: number,
  eps: tf.Tensor4D,
  noise?: NoiseFn,
): tf.Tensor4D {
  let last: tf.Tensor4D | null = null;
  for (const frame of sdeditLoop(model, sampler, schedule, x0, strength, eps, noise)) {
    if (frame.index === frame.total - 1) last = frame.xt.clone();
  }
  return last ?? x0.clone();
}
