/**
 * The adaptive DPM-Solver-12 / -23 and early stopping, against closed forms.
 *
 * Data x0 ~ N(μ, s²) i.i.d. per element, with its exact denoiser (analytic.ts) read at continuous t
 * (the schedule's log α interpolated as the solver reads it). The probability-flow ODE then has a
 * closed-form solution: every marginal is Gaussian, x_t ~ N(α_t·μ, v_t) with v_t = α_t²·s² + σ_t², and
 * a 1-D ODE flow is monotone, so it is the quantile map: z = (x_t − α_t·μ)/√v_t stays constant along
 * every trajectory, and x_t' = α_t'·μ + √v_t'·z exactly.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLER,
  DEFAULT_SCHEDULE,
  adaptiveDpmSolver,
  adaptiveSampleAll,
  continuousSchedule,
  createSampler,
  makeSchedule,
  mixturePosteriorMeans,
  sampleAll,
  sampleLoop,
  type AdaptiveDpmSolverOptions,
  type DenoiseFn,
  type GaussianComponent,
} from '../../src/diffusion';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE); // linear, T = 1000
const cs = continuousSchedule(schedule);
const MU = 0.4;
const S = 0.5;
const G: GaussianComponent[] = [{ weight: 1, mean: MU, std: S }];
const shape: [number, number, number, number] = [8, 4, 4, 1];

/** The exact ε-model at any continuous t. */
const exactEps: DenoiseFn = (xt, t) => tf.tidy(() => mixturePosteriorMeans(G, xt, cs.alphaBar(t)).eps);

/** The exact flow map from t = T − 1 to t' (t' = −1: clean data, α = 1, σ = 0). */
function exactFlow(xT: Float32Array, tTo: number): Float64Array {
  const aT = cs.alpha(cs.tMax);
  const vT = aT * aT * S * S + 1 - aT * aT;
  const a = tTo < 0 ? 1 : cs.alpha(tTo);
  const v = a * a * S * S + (tTo < 0 ? 0 : 1 - a * a);
  return Float64Array.from(xT, (x) => a * MU + Math.sqrt(v / vT) * (x - aT * MU));
}

const rms = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
};

function run(options: AdaptiveDpmSolverOptions, model: DenoiseFn = exactEps) {
  const xT = tf.randomNormal(shape, 0, 1, 'float32', 7) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const out = adaptiveSampleAll(model, schedule, 'epsilon', xT, options);
  const values = out.sample.dataSync() as Float32Array;
  out.sample.dispose();
  expect(tf.memory().numTensors).toBe(before);
  const x = xT.dataSync() as Float32Array;
  xT.dispose();
  return { ...out, values, xT: x };
}

describe('continuousSchedule', () => {
  it('matches the table at integers and inverts λ', () => {
    for (const t of [0, 1, 17, 500, 999]) {
      expect(cs.alphaBar(t)).toBeCloseTo(schedule.alphasCumprod[t], 12);
      expect(cs.inverseLambda(cs.lambda(t))).toBeCloseTo(t, 6);
    }
    expect(cs.inverseLambda(cs.lambda(250.3))).toBeCloseTo(250.3, 6);
    expect(cs.lambda(100.5)).toBeLessThan(cs.lambda(100));
  });
});

describe('adaptive DPM-Solver', () => {
  for (const order of [2, 3] as const) {
    for (const form of ['data', 'noise'] as const) {
      it(`DPM-Solver-${order === 2 ? '12' : '23'} (${form}) reaches the exact flow map within tolerance`, () => {
        const tol = 1e-3;
        const r = run({ order, form, rtol: tol, atol: tol });
        const err = rms(r.values, exactFlow(r.xT, 0));
        expect(err).toBeLessThan(tol);
        expect(r.attempts.at(-1)?.t).toBe(0);
        expect(r.evaluations).toBeLessThan(200);
      });
    }
  }

  it('takes fewer evaluations at looser tolerances, and its error grows with them', () => {
    const runs = [1e-4, 1e-3, 1e-2].map((tol) => run({ order: 2, rtol: tol, atol: tol }));
    const evals = runs.map((r) => r.evaluations);
    const errors = runs.map((r) => rms(r.values, exactFlow(r.xT, 0)));
    expect(evals[0]).toBeGreaterThan(evals[1]);
    expect(evals[1]).toBeGreaterThan(evals[2]);
    expect(errors[2]).toBeGreaterThan(errors[0]);
    // The tolerances bound local errors; the global error stays within twice them here (1.1× at 1e-4).
    for (const [i, tol] of [1e-4, 1e-3, 1e-2].entries()) expect(errors[i]).toBeLessThan(2 * tol);
  });

  it('at a tight tolerance gives what a fine fixed-step run gives (DDIM over all 1000 timesteps)', () => {
    const r = run({ order: 3, rtol: 1e-5, atol: 1e-5, denoiseToZero: true });
    const xT = tf.tensor4d(r.xT, shape);
    const fine = sampleAll(exactEps, createSampler(schedule, { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 1000, spacing: 'linspace', clipping: 'none' }, 'epsilon'), xT);
    const fineValues = fine.dataSync();
    tf.dispose([xT, fine]);
    expect(rms(r.values, fineValues)).toBeLessThan(2e-3);
    // Both land on the exact clean-data map up to DDIM's first-order error.
    expect(rms(r.values, exactFlow(r.xT, -1))).toBeLessThan(2e-3);
  });

  it('streams frames (the last one marked) and frees everything when stopped early or when the model throws', () => {
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    let frames = 0;
    for (const f of adaptiveDpmSolver(exactEps, schedule, 'epsilon', xT, { order: 2, rtol: 1e-2, atol: 1e-2 })) {
      frames++;
      expect(f.t).toBeGreaterThan(f.tPrev);
      if (frames === 3) break;
    }
    expect(frames).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    let calls = 0;
    const failing: DenoiseFn = (x, t) => {
      if (++calls === 6) throw new Error('boom');
      return exactEps(x, t);
    };
    expect(() => adaptiveSampleAll(failing, schedule, 'epsilon', xT, { order: 3, rtol: 1e-3, atol: 1e-3 })).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    xT.dispose();
  });
});

describe('early stopping', () => {
  const ddim = (steps: number) => createSampler(schedule, { ...DEFAULT_SAMPLER, kind: 'ddim', steps, spacing: 'trailing', clipping: 'none' }, 'epsilon');
  const exactInt: DenoiseFn = (xt, t) => tf.tidy(() => mixturePosteriorMeans(G, xt, schedule.alphasCumprod[t]).eps);

  for (const threshold of [0.3, 0.1]) {
    it(`'noise' at ${threshold}: returns x̂0 within the threshold of the full run's result, and saves evaluations`, () => {
      const xT = tf.randomNormal(shape, 0, 1, 'float32', 11) as tf.Tensor4D;
      const full = sampleAll(exactInt, ddim(50), xT);
      const before = tf.memory().numTensors;
      let stoppedAt = -1;
      let saved = 0;
      let values: Float32Array | null = null;
      for (const f of sampleLoop(exactInt, ddim(50), xT, undefined, { earlyStop: { criterion: 'noise', threshold } })) {
        if (f.earlyStop?.stopped) {
          stoppedAt = f.index;
          saved = f.earlyStop.saved;
          expect(f.index).toBe(f.total - 1);
          expect(f.tPrev).toBe(-1);
          values = f.xt.dataSync() as Float32Array;
        }
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(stoppedAt).toBeGreaterThan(0);
      expect(saved).toBe(50 - stoppedAt - 1);
      expect(saved).toBeGreaterThan(0);
      expect(rms(values!, full.dataSync())).toBeLessThan(threshold);
      tf.dispose([xT, full]);
    });
  }

  it(`'change' stops once x̂0 has settled (two point masses: the mode decided); its threshold does not bound the distance left`, () => {
    const twoPoints: GaussianComponent[] = [
      { weight: 0.5, mean: -0.5, std: 0 },
      { weight: 0.5, mean: 0.5, std: 0 },
    ];
    const model: DenoiseFn = (xt, t) => tf.tidy(() => mixturePosteriorMeans(twoPoints, xt, schedule.alphasCumprod[t]).eps);
    // One element an image: each image's mode is decided at mid noise, and x̂0 then comes to rest.
    const xT = tf.randomNormal([4, 1, 1, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const full = sampleAll(model, ddim(50), xT);
    const fullValues = full.dataSync();
    const threshold = 0.02;
    const before = tf.memory().numTensors;
    let last: { index: number; value: number; saved: number; x: Float32Array } | null = null;
    for (const f of sampleLoop(model, ddim(50), xT, undefined, { earlyStop: { criterion: 'change', threshold } })) {
      if (f.index === f.total - 1) last = { index: f.index, value: f.earlyStop?.value ?? Infinity, saved: f.earlyStop?.saved ?? 0, x: f.xt.dataSync() as Float32Array };
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(last!.value).toBeLessThanOrEqual(threshold);
    expect(last!.saved).toBe(50 - last!.index - 1);
    expect(last!.saved).toBeGreaterThan(0);
    // A small last change does not mean little change is left (here 0.22 RMS): only the 'noise'
    // criterion bounds the distance to the final answer (by half its measure, for Gaussian data).
    expect(rms(last!.x, fullValues)).toBeGreaterThan(threshold);
    expect(rms(last!.x, fullValues)).toBeLessThan(0.5);
    tf.dispose([xT, full]);
  });

  it('stops the adaptive solver the same way', () => {
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 13) as tf.Tensor4D;
    const plain = adaptiveSampleAll(exactEps, schedule, 'epsilon', xT, { order: 2, rtol: 1e-3, atol: 1e-3, denoiseToZero: true });
    const stopped = adaptiveSampleAll(exactEps, schedule, 'epsilon', xT, { order: 2, rtol: 1e-3, atol: 1e-3, earlyStop: { criterion: 'noise', threshold: 0.1 } });
    expect(stopped.evaluations).toBeLessThan(plain.evaluations);
    expect(rms(stopped.sample.dataSync(), exactFlow(xT.dataSync() as Float32Array, -1))).toBeLessThan(0.1);
    tf.dispose([xT, plain.sample, stopped.sample]);
  });
});
