/**
 * DDIM (Song et al. 2021): the non-Markovian reverse process of Eq. 12 with
 * σ_t(η) = η·√((1 − ᾱ_{t'}) / (1 − ᾱ_t))·√(1 − ᾱ_t / ᾱ_{t'}) (Eq. 16), on any subsequence of
 * timesteps (§4.2). η = 0 is the deterministic DDIM; η = 1 is DDPM's ancestral step with σ² = β̃.
 * As in diffusers' `DDIMScheduler.step`; t' = the next timestep, with ᾱ_{−1} = 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseFn, StepOutput } from './sampler';
import { SamplerBase } from './sampler-common';

export class DdimSampler extends SamplerBase {
  readonly kind = 'ddim' as const;

  /** σ_t(η) of Song et al. 2021, Eq. 16, for the step at `index`. */
  sigma(index: number): number {
    const ab = this.alphaBar(this.timesteps[index]);
    const abPrev = this.alphaBar(this.prevTimestep(index));
    const variance = ((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev);
    return this.config.eta * Math.sqrt(Math.max(variance, 0));
  }

  isStochastic(index: number): boolean {
    return this.sigma(index) > 0;
  }

  /**
   * x_{t'} = √ᾱ_{t'}·x̂0 + √(1 − ᾱ_{t'} − σ_t²)·ε̂ + σ_t·z (Song et al. 2021, Eq. 12), where x̂0 is the
   * "predicted x0" of Eq. 12 (clipped if configured, and ε̂ then re-derived from it).
   */
  step(modelOutput: tf.Tensor4D, index: number, xt: tf.Tensor4D, noise?: NoiseFn): StepOutput {
    this.checkIndex(index);
    const ab = this.alphaBar(this.timesteps[index]);
    const abPrev = this.alphaBar(this.prevTimestep(index));
    const sigma = this.sigma(index);
    const dirCoef = Math.sqrt(Math.max(1 - abPrev - sigma * sigma, 0));
    const [prevSample, predX0] = tf.tidy(() => {
      const { x0, eps } = this.readOutput(modelOutput, xt, ab);
      let prev: tf.Tensor4D = tf.add(tf.mul(x0, Math.sqrt(abPrev)), tf.mul(eps, dirCoef));
      if (sigma > 0) {
        const z = this.drawNoise(xt, noise);
        prev = tf.add(prev, tf.mul(z, sigma));
        z.dispose();
      }
      return [prev, x0];
    });
    return { prevSample, predX0 };
  }
}
