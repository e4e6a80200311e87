/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2), generalized to a subsequence of timesteps
 * as diffusers' `DDPMScheduler` does: between t and t' = prev(t) it uses the step's own
 * α'_t = ᾱ_t / ᾱ_{t'} and β'_t = 1 − α'_t; with all T steps these are exactly the schedule's α_t, β_t
 * and the precomputed posterior tables are used.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseFn, StepOutput } from './sampler';
import { SamplerBase } from './sampler-common';

export class DdpmSampler extends SamplerBase {
  readonly kind = 'ddpm' as const;

  /** Noise is added on every step but the last (Algorithm 2: z = 0 when t = 1). */
  isStochastic(index: number): boolean {
    return this.prevTimestep(index) >= 0;
  }

  /**
   * Posterior-mean coefficients and variance of q(x_{t'} | x_t, x0) for the step at `index`:
   * μ̃ = coef1·x0 + coef2·x_t, coef1 = √ᾱ_{t'}·β'_t / (1 − ᾱ_t), coef2 = √α'_t·(1 − ᾱ_{t'}) / (1 − ᾱ_t),
   * β̃ = (1 − ᾱ_{t'}) / (1 − ᾱ_t)·β'_t (Ho et al. 2020, Eqs. 6–7); σ² = β'_t or β̃ (§3.2).
   */
  coefficients(index: number): { coef1: number; coef2: number; variance: number } {
    const t = this.timesteps[index];
    const tp = this.prevTimestep(index);
    const s = this.schedule;
    if (tp === t - 1 && this.alphaBar(t) === s.alphasCumprod[t]) {
      const variance = this.config.ddpmVariance === 'beta' ? s.betas[t] : s.posteriorVariance[t];
      return { coef1: s.posteriorMeanCoef1[t], coef2: s.posteriorMeanCoef2[t], variance: tp < 0 ? 0 : variance };
    }
    const ab = this.alphaBar(t);
    const abPrev = this.alphaBar(tp);
    const alpha = ab / abPrev;
    const beta = 1 - alpha;
    const coef1 = (Math.sqrt(abPrev) * beta) / (1 - ab);
    const coef2 = (Math.sqrt(alpha) * (1 - abPrev)) / (1 - ab);
    const betaTilde = ((1 - abPrev) / (1 - ab)) * beta;
    const variance = tp < 0 ? 0 : this.config.ddpmVariance === 'beta' ? beta : betaTilde;
    return { coef1, coef2, variance };
  }

  /**
   * x_{t'} = μ̃(x_t, x̂0) + σ_t·z, z ~ N(0, I) (Ho et al. 2020, Eq. 7 with x̂0 from the model, which for
   * an ε-model is Algorithm 2 line 4 / Eq. 11).
   */
  step(modelOutput: tf.Tensor4D, index: number, xt: tf.Tensor4D, noise?: NoiseFn): StepOutput {
    this.checkIndex(index);
    const { coef1, coef2, variance } = this.coefficients(index);
    const ab = this.alphaBar(this.timesteps[index]);
    const [prevSample, predX0] = tf.tidy(() => {
      const { x0 } = this.readOutput(modelOutput, xt, ab);
      let mean: tf.Tensor4D = tf.add(tf.mul(x0, coef1), tf.mul(xt, coef2));
      if (variance > 0) {
        const z = this.drawNoise(xt, noise);
        mean = tf.add(mean, tf.mul(z, Math.sqrt(variance)));
        z.dispose();
      }
      return [mean, x0];
    });
    return { prevSample, predX0 };
  }
}
