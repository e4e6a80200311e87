/**
 * DDIM inversion (Song et al. 2021, DDIM §4.3 / Eq. 13; Dhariwal & Nichol 2021, App. F): the
 * deterministic DDIM update (η = 0) run backwards, from the clean input up to the first timestep of
 * the sampler's schedule, so that DDIM sampling from the result gives the input back (up to the
 * discretization error of the ODE, which shrinks with the step size). With positions p = N (clean,
 * ᾱ = 1), N−1, …, 0 at timesteps t_p of the sampler, the clean input is read as x_{t_{N−1}} (the
 * smallest timestep: ᾱ_0 = 0.9999 on the linear schedule), and the step from p + 1 to p evaluates the
 * model at t_{p+1} and sets
 *   x_{t_p} = √ᾱ_{t_p}·x̂0 + √(1 − ᾱ_{t_p})·ε̂,
 * N − 1 model calls in all (DDIM sampling then takes N: its last step goes from t_{N−1} to clean).
 * The predicted x0 is not clipped (clipping would not be inverted by sampling).
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from './config';
import { toX0AndEps } from './parameterization';
import type { DenoiseFn } from './sampler';
import type { NoiseSchedule } from './schedule';

export interface InversionFrame {
  /** 0-based step, of `total` (= the number of timesteps − 1). */
  index: number;
  total: number;
  /** The timestep x now sits at (the last frame: timesteps[0], where sampling starts). */
  t: number;
  /** Owned by the loop: valid until the generator is resumed. */
  x: tf.Tensor4D;
}

/**
 * The inversion as frames (ownership as in ./sample-loop.ts: clone the last frame's x to keep it).
 * `timesteps` are the sampler's, descending. x0 stays the caller's.
 */
export function* ddimInversionLoop(
  model: DenoiseFn,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  timesteps: Int32Array,
  x0: tf.Tensor4D,
): Generator<InversionFrame, void, void> {
  const n = timesteps.length;
  let x: tf.Tensor4D | null = null;
  try {
    for (let k = 0; k < n - 1; k++) {
      const p = n - 2 - k; // the position reached by this step
      const tEval = timesteps[p + 1];
      const abEval = schedule.alphasCumprod[tEval];
      const abNext = schedule.alphasCumprod[timesteps[p]];
      const current: tf.Tensor4D = x ?? x0;
      const next = tf.tidy(() => {
        const out = model(current, tEval);
        const { x0: x0Pred, eps } = toX0AndEps(prediction, out, current, abEval);
        return tf.add(tf.mul(x0Pred, Math.sqrt(abNext)), tf.mul(eps, Math.sqrt(1 - abNext))) as tf.Tensor4D;
      });
      x?.dispose();
      x = next;
      yield { index: k, total: n - 1, t: timesteps[p], x };
    }
  } finally {
    x?.dispose();
  }
}

/** The whole inversion: x at timesteps[0] (a tensor the caller owns). */
export function ddimInvert(
  model: DenoiseFn,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  timesteps: Int32Array,
  x0: tf.Tensor4D,
): tf.Tensor4D {
  let last: tf.Tensor4D | null = null;
  for (const frame of ddimInversionLoop(model, schedule, prediction, timesteps, x0)) {
    if (frame.index === frame.total - 1) last = frame.x.clone();
  }
  if (timesteps.length === 0) throw new Error('ddimInvert: no timesteps.');
  return last ?? x0.clone();
}
