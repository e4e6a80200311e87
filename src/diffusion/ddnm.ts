/**
 * DDNM (Wang et al. 2023, "Zero-Shot Image Restoration Using Denoising Diffusion Null-Space Model",
 * ICLR; Algorithm 1 and Eq. 13) for inpainting, where the degradation A = diag(keep) is its own
 * pseudo-inverse A† = A. At each step the model's x̂0 keeps its null-space part and takes its
 * range-space part from the measurement y (the input x0 on the known region):
 *   x̂0' = A†y + (I − A†A)·x̂0 = keep ⊙ y + (1 − keep) ⊙ x̂0,
 * and the reverse step is the sampler's own, taken from the corrected x̂0' with the model's own ε̂,
 * i.e. from the x_t that pair describes,
 *   x̃_t = √ᾱ_t·x̂0' + √(1 − ᾱ_t)·ε̂   (equal to x_t on the unknown region when x̂0 is not clipped);
 * for DDIM (Song et al. 2021, Eq. 12) that is the DDNM code's update (`ddnm_diffusion`),
 *   x_{t'} = √ᾱ_{t'}·x̂0' + √(1 − ᾱ_{t'} − σ_t²)·ε̂ + σ_t·z   (σ_t from the sampler's η),
 * for DDPM (Algorithm 1, line 6) x_{t'} ~ N(μ̃(x̃_t, x̂0'), σ_t²). Unlike replacement, the known region
 * of x_t is never overwritten with independently noised input: it follows from y and the model's ε̂,
 * so it stays consistent with what the model sees. (With the real x_t in DDPM's posterior mean
 * instead of x̃_t, the completion of a correlated Gaussian stays as far from the exact conditional
 * mean as replacement's, even at 1000 steps; with x̃_t it converges to it: the unit tests.)
 * DDNM+'s time travel (§3.3) is RePaint's jump schedule (./inpaint.ts `ResampleOptions`). x̂0 is
 * clipped as the sampler is configured to before the correction.
 */
import * as tf from '@tensorflow/tfjs';
import type { InpaintMethodFactory } from './inpaint';
import { toX0AndEps, vFromX0Eps } from './parameterization';
import type { PredictionType } from './config';
import { applyX0Clipping } from './thresholding';
import { MIN_ALPHA_BAR_FOR_EPS } from './sampler-common';

/** The raw output of a `prediction` model that reads back as (x0, eps) at ᾱ. Call inside a tf.tidy. */
export function outputFor(prediction: PredictionType, x0: tf.Tensor4D, eps: tf.Tensor4D, alphaBar: number): tf.Tensor4D {
  if (prediction === 'epsilon') return eps;
  if (prediction === 'x0') return x0;
  return vFromX0Eps(x0, eps, alphaBar);
}

/** x̂0' = keep ⊙ y + (1 − keep) ⊙ x̂0 (the range-null space decomposition for A = diag(keep)). Call inside a tf.tidy. */
export function nullSpaceCorrection(x0Hat: tf.Tensor4D, y: tf.Tensor4D, keep: tf.Tensor4D): tf.Tensor4D {
  return tf.add(tf.mul(keep, y), tf.mul(tf.sub(1, keep), x0Hat)) as tf.Tensor4D;
}

/** The DDNM method for ./inpaint.ts's loop: starts from x_T itself; each step as in the module doc. */
export const ddnm: InpaintMethodFactory = ({ model, sampler, inputs, noise }) => {
  const { x0: y, keep } = inputs;
  const alphaBar = (t: number) => {
    const ab = t < 0 ? 1 : sampler.schedule.alphasCumprod[t];
    return sampler.prediction === 'epsilon' ? Math.max(ab, MIN_ALPHA_BAR_FOR_EPS) : ab;
  };
  return {
    start: (xT) => xT.clone(),
    step: (x, index) => {
      const t = sampler.timesteps[index];
      const ab = alphaBar(t);
      const [xTilde, out, corrected] = tf.tidy(() => {
        const raw = model(x, t);
        const read = toX0AndEps(sampler.prediction, raw, x, ab);
        const x0Hat = nullSpaceCorrection(applyX0Clipping(read.x0, sampler.config.clipping), y, keep);
        const xt = tf.add(tf.mul(x0Hat, Math.sqrt(ab)), tf.mul(read.eps, Math.sqrt(1 - ab))) as tf.Tensor4D;
        return [xt, outputFor(sampler.prediction, x0Hat, read.eps, ab), x0Hat];
      });
      try {
        const { prevSample, predX0 } = sampler.step(out, index, xTilde, noise);
        predX0.dispose();
        return { prevSample, predX0: corrected };
      } catch (err) {
        corrected.dispose();
        throw err;
      } finally {
        tf.dispose([xTilde, out]);
      }
    },
  };
};
