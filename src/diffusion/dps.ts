/**
 * Diffusion Posterior Sampling (Chung et al. 2023, "Diffusion Posterior Sampling for General Noisy
 * Inverse Problems", ICLR; Algorithm 1) for inpainting, y = A·x0 with A = diag(keep): after the
 * sampler's own step from x_t to x'_{t'}, the sample is pulled toward agreeing with the measurement
 * through the model's x̂0(x_t) (Tweedie's estimate, differentiated through the network):
 *   x_{t'} = x'_{t'} − ζ·∇_{x_t} ‖keep ⊙ (y − x̂0(x_t))‖,
 * the norm taken per image. This is the DPS code's `PosteriorSampling.conditioning` (it steps by
 * `scale`·∇‖r‖); in the paper's terms, a step ζ_t·∇‖r‖² with ζ_t = ζ / (2‖r‖) (App. C.1:
 * ζ_t = ζ'/‖y − A(x̂0)‖). The paper runs 1000 DDPM steps; with fewer steps ζ must be larger for the
 * same total pull. x̂0 for the gradient is the unclipped one. Each step costs one forward and one
 * backward pass of the model (about three forward passes' time).
 */
import * as tf from '@tensorflow/tfjs';
import type { InpaintMethodFactory } from './inpaint';
import { toX0AndEps } from './parameterization';
import type { DenoiseFn } from './sampler';
import { MIN_ALPHA_BAR_FOR_EPS } from './sampler-common';
import type { PredictionType } from './config';

export interface DpsOptions {
  /** ζ: the step along −∇_{x_t}‖keep ⊙ (y − x̂0(x_t))‖ (≥ 0; 0 = the plain sampler, unguided). */
  scale: number;
}

export interface MeasurementGradient {
  /** ∇_{x_t} Σ_images ‖keep ⊙ (y − x̂0(x_t))‖. */
  grad: tf.Tensor4D;
  /** The model's raw output at x_t (the one forward pass both uses share). */
  output: tf.Tensor4D;
  /** ‖keep ⊙ (y − x̂0(x_t))‖ per image. */
  residual: tf.Tensor1D;
}

/**
 * The gradient of the measurement residual's norm w.r.t. x_t through the model, with the model's
 * output from the same forward pass. New tensors; x, y and keep stay the caller's.
 */
export function measurementGradient(
  model: DenoiseFn,
  prediction: PredictionType,
  x: tf.Tensor4D,
  t: number,
  alphaBar: number,
  y: tf.Tensor4D,
  keep: tf.Tensor4D,
): MeasurementGradient {
  const held: { output?: tf.Tensor4D; residual?: tf.Tensor1D } = {};
  const ab = prediction === 'epsilon' ? Math.max(alphaBar, MIN_ALPHA_BAR_FOR_EPS) : alphaBar;
  try {
    const grad = tf.grad((xt: tf.Tensor) => {
      const out = model(xt as tf.Tensor4D, t);
      held.output = tf.keep(out);
      const { x0 } = toX0AndEps(prediction, out, xt as tf.Tensor4D, ab);
      const r = tf.mul(keep, tf.sub(y, x0));
      // √(Σ r² + 10⁻¹²): the norm, with a finite gradient (0) where the residual is 0.
      const norms = tf.sqrt(tf.add(tf.sum(tf.square(r), [1, 2, 3]), 1e-12));
      held.residual = tf.keep(norms) as tf.Tensor1D;
      return tf.sum(norms);
    })(x) as tf.Tensor4D;
    return { grad, output: held.output!, residual: held.residual! };
  } catch (err) {
    tf.dispose([held.output, held.residual].filter((v) => v !== undefined) as tf.Tensor[]);
    throw err;
  }
}

/** The DPS method for ./inpaint.ts's loop (module doc): starts from x_T itself. */
export function dps(options: DpsOptions): InpaintMethodFactory {
  const { scale } = options;
  if (!(Number.isFinite(scale) && scale >= 0)) throw new Error(`DPS step ζ must be a finite number ≥ 0, got ${scale}.`);
  return ({ model, sampler, inputs, noise }) => ({
    start: (xT) => xT.clone(),
    step: (x, index) => {
      const t = sampler.timesteps[index];
      if (scale === 0) {
        const [prevSample, predX0] = tf.tidy(() => {
          const step = sampler.step(model(x, t), index, x, noise);
          return [step.prevSample, step.predX0];
        });
        return { prevSample, predX0 };
      }
      const { grad, output, residual } = measurementGradient(model, sampler.prediction, x, t, sampler.schedule.alphasCumprod[t], inputs.x0, inputs.keep);
      residual.dispose();
      try {
        const { prevSample, predX0 } = sampler.step(output, index, x, noise);
        const pulled = tf.tidy(() => tf.sub(prevSample, tf.mul(grad, scale)) as tf.Tensor4D);
        prevSample.dispose();
        return { prevSample: pulled, predX0 };
      } finally {
        tf.dispose([grad, output]);
      }
    },
  });
}
