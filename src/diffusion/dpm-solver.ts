/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2): a second-order multistep solver of
 * the diffusion ODE in its data-prediction (x0) form, in λ_t = log(α_t / σ_t) with α_t = √ᾱ_t and
 * σ_t = √(1 − ᾱ_t). As diffusers' `DPMSolverMultistepScheduler` with algorithm_type "dpmsolver++",
 * solver_order 2, solver_type "midpoint", final_sigmas_type "zero" and its timestep layout (linspace and
 * leading over steps + 1 points without t = 0; see makeTimesteps): the first step has no history and
 * the last step (to σ = 0) is taken at first order, so it returns the final x̂0.
 */
import * as tf from '@tensorflow/tfjs';
import type { StepOutput } from './sampler';
import { SamplerBase } from './sampler-common';

export class DpmSolverPlusPlusSampler extends SamplerBase {
  readonly kind = 'dpmpp' as const;
  /** x̂0 and λ of the previous step (kept across tf.tidy scopes; disposed by reset). */
  private history: { x0: tf.Tensor4D; lambda: number } | null = null;

  protected solverSpacing(): boolean {
    return true;
  }

  /** λ_t = log α_t − log σ_t (½ log-SNR); +∞ at t = −1 (σ = 0). */
  lambda(t: number): number {
    const ab = this.alphaBar(t);
    return 0.5 * (Math.log(ab) - Math.log1p(-ab));
  }

  reset(): void {
    this.history?.x0.dispose();
    this.history = null;
  }

  /**
   * With h = λ_{t'} − λ_t (Lu et al. 2022, Algorithm 2):
   * first order (DPM-Solver++ of order 1, which is DDIM): x_{t'} = (σ_{t'}/σ_t)·x_t − α_{t'}·(e^{−h} − 1)·x̂0;
   * second order, with r = h_{prev}/h and D = (1 + 1/(2r))·x̂0 − 1/(2r)·x̂0_prev:
   * x_{t'} = (σ_{t'}/σ_t)·x_t − α_{t'}·(e^{−h} − 1)·D.
   */
  step(modelOutput: tf.Tensor4D, index: number, xt: tf.Tensor4D): StepOutput {
    this.checkIndex(index);
    if (index === 0) this.reset();
    const t = this.timesteps[index];
    const tp = this.prevTimestep(index);
    const ab = this.alphaBar(t);
    const abPrev = this.alphaBar(tp);
    const lambdaS = this.lambda(t);
    const lambdaT = this.lambda(tp);
    const h = lambdaT - lambdaS;
    const sigmaRatio = Math.sqrt(1 - abPrev) / Math.sqrt(1 - ab);
    const phi = -Math.sqrt(abPrev) * Math.expm1(-h); // −α_{t'}(e^{−h} − 1)
    const history = this.history;
    const firstOrder = history === null || tp < 0;
    const [prevSample, predX0] = tf.tidy(() => {
      const { x0 } = this.readOutput(modelOutput, xt, ab);
      let d: tf.Tensor4D = x0;
      if (!firstOrder && history) {
        const r = (lambdaS - history.lambda) / h;
        // D0 + ½·D1 with D1 = (x̂0 − x̂0_prev) / r (diffusers' midpoint form).
        d = tf.add(x0, tf.mul(tf.sub(x0, history.x0), 0.5 / r)) as tf.Tensor4D;
      }
      const prev = tf.add(tf.mul(xt, sigmaRatio), tf.mul(d, phi)) as tf.Tensor4D;
      return [prev, x0];
    });
    this.reset();
    if (tp >= 0) this.history = { x0: tf.keep(predX0.clone()), lambda: lambdaS };
    return { prevSample, predX0 };
  }
}
