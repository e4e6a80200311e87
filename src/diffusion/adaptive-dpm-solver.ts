/**
 * Adaptive step size DPM-Solver-12 and DPM-Solver-23 (Lu et al. 2022, "DPM-Solver", §4.2 and
 * Algorithm 4; the reference `DPM_Solver.dpm_solver_adaptive`): each step from s to t is solved twice,
 * at order k − 1 (x_low) and at order k (x_high) sharing their model evaluations, and the local error
 *   E = max over images of ‖(x_high − x_low) / δ‖₂ / √d,   δ = max(atol, rtol·max(|x_low|, |x_prev|))
 * decides: E ≤ 1 accepts x_high (x_prev ← x_low), and either way the next step size in λ (the
 * half-log-SNR) is h ← min(θ·h·E^(−1/k), λ_end − λ_s) with θ = 0.9. The user gives tolerances, not a
 * step count; steps end exactly at t_end (the schedule's first timestep, t = 0).
 *
 * Both forms of the paper are here: 'noise' (DPM-Solver, the ε model) and 'data' (DPM-Solver++, the
 * x0 model, where clipping applies). The discrete schedule is read in continuous time
 * (./continuous-time.ts) and the model is called at fractional timesteps. The model output at s is
 * kept across rejected tries, so a rejection costs k − 1 evaluations, not k.
 *
 * As a generator it yields after every accepted step (so a run can stream frames and stop between
 * steps). Tensor ownership is sample-loop.ts's: a frame's xt and x0 belong to the generator and are
 * disposed when it resumes; xT stays the caller's; every tensor is freed however the run ends.
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType, X0Clipping } from './config';
import { continuousSchedule, type ContinuousSchedule } from './continuous-time';
import { EarlyStop, type EarlyStopConfig, type EarlyStopInfo } from './early-stop';
import { predictEpsFromX0, toX0AndEps } from './parameterization';
import type { AdaptiveAttempt, DenoiseFn } from './sampler';
import type { NoiseSchedule } from './schedule';
import type { SampleFrame } from './sample-loop';
import { MIN_ALPHA_BAR_FOR_EPS } from './sampler-common';
import { applyX0Clipping } from './thresholding';

export type AdaptiveOrder = 2 | 3;
export type DpmSolverForm = 'noise' | 'data';

export interface AdaptiveDpmSolverOptions {
  /** 2: DPM-Solver-12 (orders 1 and 2); 3: DPM-Solver-23 (orders 2 and 3). */
  order: AdaptiveOrder;
  rtol: number;
  atol: number;
  /** 'data' (DPM-Solver++, default) or 'noise' (DPM-Solver). */
  form?: DpmSolverForm;
  clipping?: X0Clipping;
  /** First step size in λ (default 0.05, the reference's) and the safety factor θ (0.9). */
  hInit?: number;
  theta?: number;
  /** Where the ODE ends (continuous t, default 0), and whether one more evaluation there returns x̂0 (default false). */
  tEnd?: number;
  denoiseToZero?: boolean;
  /** A run that would pass this many evaluations throws (default 2000). */
  maxEvaluations?: number;
  earlyStop?: EarlyStopConfig;
}

export interface AdaptiveFrame extends SampleFrame {
  /** Every try so far (the same array, growing) and the model evaluations so far. */
  attempts: readonly AdaptiveAttempt[];
  evaluations: number;
}

export function validateAdaptiveOptions(o: AdaptiveDpmSolverOptions): void {
  if (o.order !== 2 && o.order !== 3) throw new Error(`adaptive order must be 2 or 3, got ${String(o.order)}.`);
  for (const [name, v] of [['rtol', o.rtol], ['atol', o.atol]] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a finite number > 0, got ${v}.`);
  }
}

/** Coefficients of the exponential integrators from s, per form (Lu et al. 2022, Eqs. 3.7-3.9, and DPM-Solver++ Eq. 8). */
class Integrator {
  constructor(
    private readonly cs: ContinuousSchedule,
    private readonly data: boolean,
    private readonly s: number,
    private readonly h: number,
  ) {}
  /** Coefficient of x_s in x_u. */
  x(u: number): number {
    return this.data ? this.cs.sigma(u) / this.cs.sigma(this.s) : this.cs.alpha(u) / this.cs.alpha(this.s);
  }
  /** φ(u, r): x_u (first order) = x(u)·x_s − φ·m_s, with r·h = λ_u − λ_s. */
  phi(u: number, r: number): number {
    const rh = r * this.h;
    return this.data ? this.cs.alpha(u) * Math.expm1(-rh) : this.cs.sigma(u) * Math.expm1(rh);
  }
  /** The signed ψ of the third-order terms: data +α_u·(φ/(rh) + 1), noise −σ_u·(φ/(rh) − 1). */
  psi(u: number, r: number): number {
    const rh = r * this.h;
    return this.data ? this.cs.alpha(u) * (Math.expm1(-rh) / rh + 1) : -this.cs.sigma(u) * (Math.expm1(rh) / rh - 1);
  }
}

/**
 * Runs the adaptive solver from x_T (at t = T − 1) to t_end, yielding every accepted step's frame:
 * `index` counts accepted steps, `total` is index + 2 while the run goes on and index + 1 on the
 * last frame (so `index === total − 1` marks it), `t`/`tPrev` are the step's continuous ends.
 */
export function* adaptiveDpmSolver(
  model: DenoiseFn,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  xT: tf.Tensor4D,
  options: AdaptiveDpmSolverOptions,
): Generator<AdaptiveFrame, void, void> {
  validateAdaptiveOptions(options);
  const { order, rtol, atol } = options;
  const data = (options.form ?? 'data') === 'data';
  const clipping = options.clipping ?? 'none';
  const theta = options.theta ?? 0.9;
  const maxEvaluations = options.maxEvaluations ?? 2000;
  const cs = continuousSchedule(schedule);
  const tEnd = options.tEnd ?? 0;
  const lambdaEnd = cs.lambda(tEnd);
  const early = options.earlyStop ? new EarlyStop(options.earlyStop) : null;
  const attempts: AdaptiveAttempt[] = [];
  let evaluations = 0;
  const owned = new Set<tf.Tensor>();
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.add(tf.keep(t));
    return t;
  };
  const free = (t: tf.Tensor | null) => {
    if (t && owned.delete(t)) t.dispose();
  };

  /** The model at continuous t read as (x̂0, solver output m): m = x̂0 ('data') or ε̂ ('noise'). New, kept tensors. */
  const evaluate = (x: tf.Tensor4D, t: number): { x0: tf.Tensor4D; m: tf.Tensor4D } => {
    if (++evaluations > maxEvaluations) throw new Error(`the adaptive solver passed ${maxEvaluations} model evaluations.`);
    const ab = prediction === 'epsilon' ? Math.max(cs.alphaBar(t), MIN_ALPHA_BAR_FOR_EPS) : cs.alphaBar(t);
    const [x0, m] = tf.tidy(() => {
      const out = model(x, t);
      const raw = toX0AndEps(prediction, out, x, ab);
      const clipped = clipping === 'none' ? raw.x0 : applyX0Clipping(raw.x0, clipping);
      const eps = clipping === 'none' ? raw.eps : predictEpsFromX0(x, clipped, ab);
      return [clipped, data ? clipped.clone() : eps];
    });
    return { x0: keep(x0), m: keep(m) };
  };

  let s = cs.tMax;
  let lambdaS = cs.lambda(s);
  let h = options.hInit ?? 0.05;
  let x = xT;
  let xPrev: tf.Tensor4D = xT;
  let atS: { x0: tf.Tensor4D; m: tf.Tensor4D } | null = null;
  let frame: { xt: tf.Tensor4D; x0: tf.Tensor4D } | null = null;
  let index = 0;
  try {
    while (lambdaEnd - lambdaS > 1e-9 && s - tEnd > 1e-9) {
      const t = h >= lambdaEnd - lambdaS ? tEnd : cs.inverseLambda(lambdaS + h);
      const hStep = cs.lambda(t) - lambdaS;
      atS ??= evaluate(x, s);
      const I = new Integrator(cs, data, s, hStep);
      const ms = atS.m;
      const r1 = order === 2 ? 0.5 : 1 / 3;
      const s1 = cs.inverseLambda(lambdaS + r1 * hStep);
      const xs1 = tf.tidy(() => tf.sub(tf.mul(x, I.x(s1)), tf.mul(ms, I.phi(s1, r1))) as tf.Tensor4D);
      let at1: { x0: tf.Tensor4D; m: tf.Tensor4D };
      try {
        at1 = evaluate(xs1, s1);
      } finally {
        xs1.dispose();
      }
      let low: tf.Tensor4D;
      let high: tf.Tensor4D;
      if (order === 2) {
        [low, high] = tf.tidy(() => {
          const first = tf.sub(tf.mul(x, I.x(t)), tf.mul(ms, I.phi(t, 1))) as tf.Tensor4D;
          return [first, tf.sub(first, tf.mul(tf.sub(at1.m, ms), (0.5 / r1) * I.phi(t, 1))) as tf.Tensor4D];
        });
        free(at1.x0);
        free(at1.m);
      } else {
        const r2 = 2 / 3;
        const s2 = cs.inverseLambda(lambdaS + r2 * hStep);
        const xs2 = tf.tidy(
          () => tf.add(tf.sub(tf.mul(x, I.x(s2)), tf.mul(ms, I.phi(s2, r2))), tf.mul(tf.sub(at1.m, ms), (r2 / r1) * I.psi(s2, r2))) as tf.Tensor4D,
        );
        let at2: { x0: tf.Tensor4D; m: tf.Tensor4D };
        try {
          at2 = evaluate(xs2, s2);
        } finally {
          xs2.dispose();
        }
        [low, high] = tf.tidy(() => {
          const base = tf.sub(tf.mul(x, I.x(t)), tf.mul(ms, I.phi(t, 1)));
          return [
            tf.sub(base, tf.mul(tf.sub(at1.m, ms), (0.5 / r1) * I.phi(t, 1))) as tf.Tensor4D,
            tf.add(base, tf.mul(tf.sub(at2.m, ms), (1 / r2) * I.psi(t, 1))) as tf.Tensor4D,
          ];
        });
        [at1.x0, at1.m, at2.x0, at2.m].forEach(free);
      }
      const prevRef = xPrev;
      const error = tf.tidy(() => {
        const delta = tf.maximum(tf.mul(tf.maximum(tf.abs(low), tf.abs(prevRef)), rtol), atol);
        const r = tf.div(tf.sub(high, low), delta);
        return tf.max(tf.sqrt(tf.mean(tf.square(r), [1, 2, 3]))).dataSync()[0];
      });
      const accepted = error <= 1;
      attempts.push({ s, t, h: hStep, error, accepted });
      if (accepted) {
        const from = s;
        const x0s = atS.x0;
        const alphaS = cs.alpha(s);
        const stop = early ? early.observe(x0s, x, alphaS) : null;
        if (xPrev !== xT) xPrev.dispose();
        xPrev = low;
        x = high;
        s = t;
        lambdaS = cs.lambda(s);
        free(atS.m);
        owned.delete(x0s);
        atS = null;
        const done = !(lambdaEnd - lambdaS > 1e-9 && s - tEnd > 1e-9);
        let xt = high;
        let earlyStop: EarlyStopInfo | undefined;
        if (stop) {
          earlyStop = { value: stop.value, stopped: stop.stop, saved: 0 };
          if (stop.stop) xt = x0s.clone();
        }
        const last = done || earlyStop?.stopped === true;
        if (done && !earlyStop?.stopped && options.denoiseToZero) {
          const end = evaluate(high, tEnd);
          free(end.m);
          owned.delete(end.x0);
          xt = end.x0;
        }
        if (frame) {
          if (frame.xt !== x) frame.xt.dispose();
          frame.x0.dispose();
        }
        frame = { xt, x0: x0s };
        yield {
          index,
          total: last ? index + 1 : index + 2,
          t: from,
          tPrev: last && (options.denoiseToZero || earlyStop?.stopped) ? -1 : s,
          xt,
          x0: x0s,
          attempts,
          evaluations,
          earlyStop,
        };
        index++;
        if (last) return;
      } else {
        low.dispose();
        high.dispose();
      }
      h = Math.min(theta * hStep * Math.pow(Math.max(error, 1e-12), -1 / order), lambdaEnd - lambdaS);
    }
  } finally {
    if (frame) {
      frame.x0.dispose();
      if (frame.xt !== x) frame.xt.dispose();
    }
    if (x !== xT) x.dispose();
    if (xPrev !== xT && xPrev !== x) xPrev.dispose();
    for (const t of owned) t.dispose();
    owned.clear();
    early?.reset();
  }
}

/** Runs the whole solver: the final sample (a clone the caller owns), every try, and the evaluations. */
export function adaptiveSampleAll(
  model: DenoiseFn,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  xT: tf.Tensor4D,
  options: AdaptiveDpmSolverOptions,
): { sample: tf.Tensor4D; attempts: AdaptiveAttempt[]; evaluations: number; steps: number } {
  let last: AdaptiveFrame | null = null;
  let sample: tf.Tensor4D | null = null;
  for (const frame of adaptiveDpmSolver(model, schedule, prediction, xT, options)) {
    last = frame;
    if (frame.index === frame.total - 1) sample = frame.xt.clone();
  }
  if (!sample || !last) throw new Error('the adaptive solver took no step.');
  return { sample, attempts: [...last.attempts], evaluations: last.evaluations, steps: last.index + 1 };
}
