/**
 * Forward process, parameterization round trips, thresholding, loss and guidance.
 * Backend: wasm (float32), as the CLI runs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SCHEDULE,
  PREDICTION_TYPES,
  classifierFreeGuidance,
  diffusionLoss,
  diffusionLossPerItem,
  drawTimesteps,
  dynamicThreshold,
  clipX0,
  makeSchedule,
  marginal,
  minSnrWeight,
  predictEpsFromV,
  predictEpsFromX0,
  predictX0FromEps,
  predictX0FromV,
  qSample,
  sampleMoments,
  snr,
  targetFor,
  toX0AndEps,
  vFromX0Eps,
} from '../../src/diffusion';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE); // linear, T = 1000
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('forward process', () => {
  it('q_sample has mean √ᾱ·x0 and variance 1 − ᾱ, within sampling error', async () => {
    // n = 20000 items, x0 = 0.7 everywhere, half at t = 100 and half at t = 900 (per-item t).
    // Per group of m = 10000: SE(mean) = √((1 − ᾱ)/m), SE(var) = (1 − ᾱ)·√(2/m) (Gaussian, exact
    // for the sample variance up to O(1/m)); tolerance 5 SE (two-sided p ≈ 6e-7 per check).
    const n = 20000;
    const m = n / 2;
    const t = new Int32Array(n).map((_, i) => (i < m ? 100 : 900));
    const x0 = tf.fill([n, 1, 1, 1], 0.7) as tf.Tensor4D;
    const eps = tf.randomNormal([n, 1, 1, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const xt = qSample(schedule, x0, t, eps);
    const values = await xt.data();
    tf.dispose([x0, eps, xt]);
    for (const [from, tt] of [[0, 100], [m, 900]]) {
      const stats = sampleMoments(values.subarray(from, from + m));
      const ab = schedule.alphasCumprod[tt];
      expect(Math.abs(stats.mean - Math.sqrt(ab) * 0.7)).toBeLessThan(5 * Math.sqrt((1 - ab) / m));
      expect(Math.abs(stats.variance - (1 - ab))).toBeLessThan(5 * (1 - ab) * Math.sqrt(2 / m));
      const { mean, std } = marginal(schedule, tt);
      expect(mean).toBe(Math.sqrt(ab));
      expect(std).toBeCloseTo(Math.sqrt(1 - ab), 15);
    }
  });

  it('rejects timesteps out of range', () => {
    const x = tf.zeros([2, 1, 1, 1]) as tf.Tensor4D;
    expect(() => qSample(schedule, x, [0, 1000], x)).toThrow(/t\[1\] must be an integer in \[0, 999\], got 1000/);
    expect(() => qSample(schedule, x, [0], x)).toThrow(/one timestep per batch item/);
    expect(() => marginal(schedule, -1)).toThrow(/must be an integer in \[0, 999\]/);
    x.dispose();
  });
});

describe('parameterizations', () => {
  it('ε ↔ x0 ↔ v round trips are exact to float32 precision', () => {
    // Float32 unit roundoff u = 2⁻²⁴. Each conversion is a handful of float32 operations on values
    // of size ≤ M, so its error is ≤ c·u·M·κ where κ is the amplification of the formula:
    // 1/√ᾱ for x0 from ε, 1/√(1 − ᾱ) for ε from x0, 1 for the v forms (coefficients ≤ 1).
    // We allow c = 8 (the number of roundings along each chain, with room).
    const u = 2 ** -24;
    const n = 4096;
    const start = tf.memory().numTensors;
    const x0 = tf.randomUniform([n, 2, 2, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
    const eps = tf.randomNormal([n, 2, 2, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const t of [0, 10, 100, 500, 900, 999]) {
      const ab = schedule.alphasCumprod[t];
      const xt = qSample(schedule, x0, new Int32Array(n).fill(t), eps);
      const M = Math.max(...[x0, eps, xt].map((a) => tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0])));
      const tol = (kappa: number) => 8 * u * M * kappa;
      const v = vFromX0Eps(x0, eps, ab);
      const checks: [tf.Tensor, tf.Tensor, number][] = [
        [predictX0FromEps(xt, eps, ab), x0, 1 / Math.sqrt(ab)],
        [predictEpsFromX0(xt, x0, ab), eps, 1 / Math.sqrt(1 - ab)],
        [predictX0FromV(xt, v, ab), x0, 2],
        [predictEpsFromV(xt, v, ab), eps, 2],
        [tf.tidy(() => vFromX0Eps(predictX0FromV(xt, v, ab), predictEpsFromV(xt, v, ab), ab)), v, 4],
      ];
      for (const prediction of PREDICTION_TYPES) {
        const out = targetFor(prediction, x0, eps, ab);
        const got = toX0AndEps(prediction, out, xt, ab);
        const kappa = prediction === 'v' ? 2 : 1 / Math.sqrt(prediction === 'epsilon' ? ab : 1 - ab);
        checks.push([got.x0, x0, kappa], [got.eps, eps, kappa]);
        // A per-item ᾱ tensor gives the same answer (its roots are taken in float32: ≤ u relative on √ᾱ).
        const abT = tf.fill([n, 1, 1, 1], ab);
        const gotT = toX0AndEps(prediction, out, xt, abT);
        checks.push([gotT.x0, x0, 2 * kappa], [gotT.eps, eps, 2 * kappa]);
        tf.dispose([out, abT]);
      }
      for (const [a, b, kappa] of checks) {
        expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(tol(kappa));
        a.dispose();
      }
      tf.dispose([xt, v]);
    }
    tf.dispose([x0, eps]);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('thresholding', () => {
  it('clip bounds x0 to [−1, 1]; dynamic thresholding rescales by the 99.5th percentile of |x0|', async () => {
    const d = 1001;
    const wide = Float32Array.from({ length: d }, (_, i) => -3 + (6 * i) / (d - 1));
    const narrow = Float32Array.from({ length: d }, (_, i) => 0.5 * Math.sin(i));
    const x0 = tf.tensor4d([...wide, ...narrow], [2, d, 1, 1]);
    const clipped = await clipX0(x0).data();
    expect(Math.max(...clipped.map(Math.abs))).toBe(1);
    const out = await dynamicThreshold(x0).data();
    // Reference: s = torch.quantile(|x|, 0.995) (linear interpolation between order statistics), max(s, 1).
    const sorted = Float64Array.from(wide.map(Math.abs)).sort();
    const pos = 0.995 * (d - 1);
    const lo = Math.floor(pos);
    const s = Math.max(1, sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]));
    expect(s).toBeGreaterThan(2.9);
    for (let i = 0; i < d; i++) {
      expect(out[i]).toBeCloseTo(Math.min(Math.max(wide[i], -s), s) / s, 5);
      expect(out[d + i]).toBeCloseTo(narrow[i], 6); // s = max(·, 1) = 1: unchanged
    }
    x0.dispose();
  });
});

describe('loss', () => {
  const n = 64;
  const rng = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

  it('min-SNR-γ weights follow Hang et al. 2023 for each parameterization', () => {
    expect(minSnrWeight(20, 5, 'epsilon')).toBeCloseTo(0.25, 15);
    expect(minSnrWeight(2, 5, 'epsilon')).toBe(1);
    expect(minSnrWeight(0, 5, 'epsilon')).toBe(1); // SNR = 0 (zero terminal SNR) is finite
    expect(minSnrWeight(20, 5, 'x0')).toBe(5);
    expect(minSnrWeight(2, 5, 'x0')).toBe(2);
    expect(minSnrWeight(20, 5, 'v')).toBeCloseTo(5 / 21, 15);
    expect(minSnrWeight(2, 5, 'v')).toBeCloseTo(2 / 3, 15);
    expect(() => minSnrWeight(1, 0, 'v')).toThrow(/minSnrGamma must be > 0/);
  });

  it('the same x0 error costs the same weighted loss in ε, x0 and v form (min-SNR-γ = 5)', () => {
    // ε̂ − ε = −√SNR·(x̂0 − x0) and v̂ − v = −√(SNR + 1)·(x̂0 − x0) at fixed x_t, so the per-parameterization
    // weights all reduce to min(SNR, γ)·‖x̂0 − x0‖².
    const t = drawTimesteps(n, schedule.T, rng(3));
    const x0 = tf.randomUniform([n, 4, 4, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    const eps = tf.randomNormal([n, 4, 4, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const delta = tf.randomNormal([n, 4, 4, 1], 0, 0.1, 'float32', 7) as tf.Tensor4D;
    const losses = PREDICTION_TYPES.map((prediction) =>
      diffusionLossPerItem({
        schedule,
        prediction,
        x0,
        t,
        eps,
        minSnrGamma: 5,
        model: (xt) =>
          tf.tidy(() => {
            const ab = tf.tensor4d(Float32Array.from(t, (ti) => schedule.alphasCumprod[ti]), [n, 1, 1, 1]);
            const x0Hat: tf.Tensor4D = tf.add(x0, delta);
            return targetFor(prediction, x0Hat, predictEpsFromX0(xt, x0Hat, ab), ab);
          }),
      }).arraySync(),
    );
    const expected = tf.tidy(() => tf.mean(tf.square(delta), [1, 2, 3]).arraySync() as number[]);
    for (let i = 0; i < n; i++) {
      const w = Math.min(snr(schedule, t[i]), 5);
      for (const l of losses) expect(Math.abs(l[i] - w * expected[i])).toBeLessThan(2e-3 * w * expected[i] + 1e-7);
    }
    tf.dispose([x0, eps, delta]);
  });

  it('is zero for the exact target, differentiable, leak-free, and drawTimesteps covers 0..T−1', () => {
    const t = drawTimesteps(n, schedule.T, { uniform: rng(9) });
    expect(t.every((ti) => ti >= 0 && ti < schedule.T)).toBe(true);
    const counts = new Int32Array(10);
    drawTimesteps(20000, 10, rng(1)).forEach((ti) => counts[ti]++);
    // Each count ~ Binomial(20000, 0.1): mean 2000, SD 42.4; 5 SD = 212.
    counts.forEach((c) => expect(Math.abs(c - 2000)).toBeLessThan(212));
    const start = tf.memory().numTensors;
    const x0 = tf.randomUniform([n, 4, 4, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    const eps = tf.randomNormal([n, 4, 4, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const exact = diffusionLoss({ schedule, prediction: 'epsilon', x0, t, eps, model: () => eps.clone() });
    expect(exact.dataSync()[0]).toBe(0);
    const scale = tf.tidy(() => tf.variable(tf.scalar(0.5)));
    const { value, grads } = tf.variableGrads(() =>
      diffusionLoss({ schedule, prediction: 'v', x0, t, eps, minSnrGamma: 5, model: (xt) => tf.mul(xt, scale) }),
    );
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    expect(Number.isFinite(grads[scale.name].dataSync()[0])).toBe(true);
    expect(grads[scale.name].dataSync()[0]).not.toBe(0);
    tf.dispose([x0, eps, exact, scale, value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('classifier-free guidance', () => {
  it('ε̂ = ε_u + w(ε_c − ε_u), one batched call, and w = 1 skips the unconditional pass', () => {
    const calls: number[] = [];
    // A toy conditional model: output = x_t·(1 + label); the null label 0 makes it the identity.
    const modelCond = (xt: tf.Tensor4D, _t: number, labels: tf.Tensor) => {
      calls.push(xt.shape[0]);
      return tf.mul(xt, tf.reshape(tf.add(labels, 1), [-1, 1, 1, 1])) as tf.Tensor4D;
    };
    const labels = tf.tensor1d([1, 2, 3]);
    const nullLabels = tf.zeros([3]);
    const xt = tf.tensor4d([1, -2, 0.5], [3, 1, 1, 1]);
    const start = tf.memory().numTensors;
    for (const batched of [true, false]) {
      for (const w of [0, 1, 3.5]) {
        calls.length = 0;
        const out = classifierFreeGuidance(modelCond, labels, nullLabels, w, { batched })(xt, 10);
        const expected = [1, -2, 0.5].map((x, i) => x + w * (x * (2 + i) - x));
        expect([...out.dataSync()].map((v, i) => v - expected[i]).every((e) => Math.abs(e) < 1e-6)).toBe(true);
        expect(calls).toEqual(w === 0 || w === 1 ? [3] : batched ? [6] : [3, 3]);
        out.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(start);
    expect(() => classifierFreeGuidance(modelCond, labels, nullLabels, -1)).toThrow(/guidance scale w must be a finite number ≥ 0/);
    tf.dispose([labels, nullLabels, xt]);
  });
});
