/**
 * Adaptive step size for the reverse SDE, "Gotta Go Fast" (Jolicoeur-Martineau et al. 2021,
 * Algorithm 1): each step from t to t − h is taken by Euler–Maruyama (x′) and by improved Euler
 * (x″ = ½(x′ + x̃), x̃ the Euler step from x′ with the same noise z), and the error
 *   E = max over images of ‖(x′ − x″) / δ‖₂ / √d,   δ = max(ε_abs, ε_rel·max(|x′|, |x′_prev|))
 * accepts x″ when E ≤ 1 (x′_prev ← x′); either way h ← min(t − t_end, θ·h·E^(−r)) with θ = 0.9 and
 * the paper's exponent r = 0.9. At t_end one more evaluation returns x̂0 (the paper's final denoising).
 *
 * The VP SDE of the discrete schedule read in continuous time (./continuous-time.ts):
 *   dx = [f(t)·x − g²(t)·∇log p_t(x)] dt + g(t) dw̄,  f = d log α / dt,  g² = dσ²/dt − 2fσ² = −2f,
 * with the score −ε̂/σ_t; t is the model's timestep scale (0..T − 1). The drift at (x, t) is kept
 * across rejected tries, so a rejection costs one evaluation. Tensor ownership as in sample-loop.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType, X0Clipping } from './config';
import { continuousSchedule } from './continuous-time';
import type { AdaptiveFrame } from './adaptive-dpm-solver';
import { predictEpsFromX0, toX0AndEps } from './parameterization';
import type { AdaptiveAttempt, DenoiseFn, NoiseFn } from './sampler';
import type { NoiseSchedule } from './schedule';
import { MIN_ALPHA_BAR_FOR_EPS } from './sampler-common';
import { applyX0Clipping } from './thresholding';

export interface AdaptiveSdeOptions {
  rtol: number;
  atol: number;
  clipping?: X0Clipping;
  /** First step (in timesteps, default 10: the paper's 0.01 of [0, 1]), θ (0.9) and the exponent r (0.9). */
  hInit?: number;
  theta?: number;
  exponent?: number;
  /** A run that would pass this many evaluations throws (default 2000). */
  maxEvaluations?: number;
}

/**
 * Runs the adaptive SDE solver from x_T (t = T − 1) to t = 0 and its final denoising, yielding every
 * accepted step (frames as ./adaptive-dpm-solver.ts gives them; the last one holds x̂0, tPrev −1).
 * Draws one `noise()` per try.
 */
export function* adaptiveSde(
  model: DenoiseFn,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  xT: tf.Tensor4D,
  noise: NoiseFn,
  options: AdaptiveSdeOptions,
): Generator<AdaptiveFrame, void, void> {
  const { rtol, atol } = options;
  for (const [name, v] of [['rtol', rtol], ['atol', atol]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a finite number > 0, got ${v}.`);
  }
  const clipping = options.clipping ?? 'none';
  const theta = options.theta ?? 0.9;
  const r = options.exponent ?? 0.9;
  const maxEvaluations = options.maxEvaluations ?? 2000;
  const cs = continuousSchedule(schedule);
  const attempts: AdaptiveAttempt[] = [];
  let evaluations = 0;
  /** f(t) = d log α / dt on the table's piece below t (piecewise constant), and g² = −2f. */
  const f = (t: number) => {
    const lo = Math.max(0, Math.min(Math.ceil(t) - 1, cs.tMax - 1));
    return 0.5 * Math.log(cs.alphaBar(lo + 1) / cs.alphaBar(lo));
  };
  /** The model at t read as (x̂0, reverse drift per unit t: −(f·x + g²·ε̂/σ)). New tensors. */
  const evaluate = (x: tf.Tensor4D, t: number): { x0: tf.Tensor4D; drift: tf.Tensor4D } => {
    if (++evaluations > maxEvaluations) throw new Error(`the adaptive SDE solver passed ${maxEvaluations} model evaluations.`);
    const ab = prediction === 'epsilon' ? Math.max(cs.alphaBar(t), MIN_ALPHA_BAR_FOR_EPS) : cs.alphaBar(t);
    const ft = f(t);
    const [x0, drift] = tf.tidy(() => {
      const raw = toX0AndEps(prediction, model(x, t), x, ab);
      const clipped = clipping === 'none' ? raw.x0 : applyX0Clipping(raw.x0, clipping);
      const eps = clipping === 'none' ? raw.eps : predictEpsFromX0(x, clipped, ab);
      // dx/dt = f·x − g²·score = f·x + g²·ε̂/σ; going down in t by h adds −h·(that).
      return [clipped, tf.add(tf.mul(x, ft), tf.mul(eps, (-2 * ft) / Math.sqrt(1 - ab)))];
    });
    return { x0: tf.keep(x0), drift: tf.keep(drift) };
  };

  let t = cs.tMax;
  let h = options.hInit ?? 10;
  let x = xT;
  let xPrev: tf.Tensor4D = xT;
  let atT: { x0: tf.Tensor4D; drift: tf.Tensor4D } | null = null;
  let frame: { xt: tf.Tensor4D; x0: tf.Tensor4D } | null = null;
  let index = 0;
  const alive = new Set<tf.Tensor>();
  try {
    while (t > 1e-9) {
      const step = Math.min(h, t);
      const tNext = t - step < 1e-9 ? 0 : t - step;
      atT ??= evaluate(x, t);
      const here = atT;
      const z = noise();
      alive.add(z);
      const g = Math.sqrt(-2 * f(t) * step);
      const gNext = Math.sqrt(-2 * f(tNext) * step);
      const xEm = tf.tidy(() => tf.add(tf.sub(x, tf.mul(here.drift, step)), tf.mul(z, g)) as tf.Tensor4D);
      alive.add(xEm);
      const at1 = evaluate(xEm, tNext);
      alive.add(at1.x0).add(at1.drift);
      const xHigh = tf.tidy(() => tf.mul(tf.add(xEm, tf.add(tf.sub(x, tf.mul(at1.drift, step)), tf.mul(z, gNext))), 0.5) as tf.Tensor4D);
      const prevRef = xPrev;
      const error = tf.tidy(() => {
        const delta = tf.maximum(tf.mul(tf.maximum(tf.abs(xEm), tf.abs(prevRef)), rtol), atol);
        return tf.max(tf.sqrt(tf.mean(tf.square(tf.div(tf.sub(xEm, xHigh), delta)), [1, 2, 3]))).dataSync()[0];
      });
      tf.dispose([z, at1.x0, at1.drift]);
      alive.delete(z);
      alive.delete(at1.x0);
      alive.delete(at1.drift);
      const accepted = error <= 1;
      attempts.push({ s: t, t: tNext, h: step, error, accepted });
      if (!accepted) {
        xHigh.dispose();
        xEm.dispose();
        alive.delete(xEm);
      } else {
        const from = t;
        if (xPrev !== xT) xPrev.dispose();
        xPrev = xEm;
        alive.delete(xEm);
        const x0s = here.x0;
        here.drift.dispose();
        atT = null;
        x = xHigh;
        t = tNext;
        const last = t <= 1e-9;
        let xt = xHigh;
        if (last) {
          const end = evaluate(xHigh, 0);
          end.drift.dispose();
          xt = end.x0;
        }
        if (frame) {
          if (frame.xt !== x) frame.xt.dispose();
          frame.x0.dispose();
        }
        frame = { xt, x0: x0s };
        yield { index, total: last ? index + 1 : index + 2, t: from, tPrev: last ? -1 : t, xt, x0: x0s, attempts, evaluations };
        index++;
        if (last) return;
      }
      h = Math.min(theta * step * Math.pow(Math.max(error, 1e-12), -r), t);
    }
  } finally {
    if (frame) {
      frame.x0.dispose();
      if (frame.xt !== x) frame.xt.dispose();
    }
    if (atT) tf.dispose([atT.x0, atT.drift]);
    if (x !== xT) x.dispose();
    if (xPrev !== xT && xPrev !== x) xPrev.dispose();
    for (const a of alive) a.dispose();
  }
}
