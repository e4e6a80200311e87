/**
 * Schedules and timesteps: invariants of the float64 tables, closed forms, zero terminal SNR, the
 * timestep layouts of Lin et al. 2024 Table 2, and config validation. Pure float64 math, no tensors.
 */
import { describe, expect, it } from 'vitest';
import {
  COSINE_S,
  DEFAULT_SAMPLER,
  DEFAULT_SCHEDULE,
  SCHEDULE_KINDS,
  cosineAlphaBar,
  createSampler,
  makeSchedule,
  makeTimesteps,
  roundHalfEven,
  validateSamplerConfig,
  type ScheduleConfig,
  type ScheduleKind,
} from '../../src/diffusion';

const cfg = (kind: ScheduleKind, T: number, rescale = false): ScheduleConfig => ({
  ...DEFAULT_SCHEDULE,
  kind,
  T,
  rescaleZeroTerminalSnr: rescale,
});

describe('noise schedules', () => {
  for (const kind of SCHEDULE_KINDS) {
    for (const T of [10, 17, 50, 1000]) {
      for (const rescale of [false, true]) {
        it(`${kind}, T = ${T}${rescale ? ', zero terminal SNR' : ''}: tables are consistent`, () => {
          const s = makeSchedule(cfg(kind, T, rescale));
          expect(s.T).toBe(T);
          const last = rescale ? T - 1 : T; // with zero terminal SNR ᾱ_T = 0 exactly
          for (let t = 0; t < T; t++) {
            const ab = s.alphasCumprod[t];
            if (t < last) {
              expect(ab).toBeGreaterThan(0);
              expect(ab).toBeLessThan(1);
            }
            if (t > 0) expect(ab).toBeLessThan(s.alphasCumprod[t - 1]); // strictly decreasing
            if (t > 0) expect(s.logSnr[t]).toBeLessThan(s.logSnr[t - 1]); // log-SNR monotone
            expect(s.betas[t]).toBeGreaterThan(0);
            // β ≤ 0.999 (clipped); rescaling may lift clipped β's a little above it, and sets β_T = 1.
            if (rescale) expect(s.betas[t]).toBeLessThanOrEqual(t === T - 1 ? 1 : 1 - 1e-12);
            else expect(s.betas[t]).toBeLessThanOrEqual(0.999);
            expect(s.sqrtAlphasCumprod[t] ** 2 + s.sqrtOneMinusAlphasCumprod[t] ** 2).toBeCloseTo(1, 14);
            expect(s.alphasCumprodPrev[t]).toBe(t === 0 ? 1 : s.alphasCumprod[t - 1]);
            if (t >= 1) {
              // Posterior q(x_{t−1} | x_t, x0) by Bayes' rule for two Gaussians, independently of Ho et al.'s
              // closed form: precision 1/(1−ᾱ_{t−1}) + α_t/β_t, mean var·(√ᾱ_{t−1}·x0/(1−ᾱ_{t−1}) + √α_t·x_t/β_t).
              const abPrev = s.alphasCumprod[t - 1];
              const v = 1 / (1 / (1 - abPrev) + s.alphas[t] / s.betas[t]);
              expect(s.posteriorVariance[t]).toBeCloseTo(v, 12);
              expect(s.posteriorMeanCoef1[t]).toBeCloseTo((v * Math.sqrt(abPrev)) / (1 - abPrev), 10);
              expect(s.posteriorMeanCoef2[t]).toBeCloseTo((v * Math.sqrt(s.alphas[t])) / s.betas[t], 10);
              expect(s.posteriorLogVarianceClipped[t]).toBeCloseTo(Math.log(v), 10);
            }
          }
          expect(s.posteriorVariance[0]).toBe(0);
          expect(s.posteriorLogVarianceClipped[0]).toBe(Math.log(s.posteriorVariance[1]));
          if (rescale) {
            const plain = makeSchedule(cfg(kind, T, false));
            expect(s.alphasCumprod[T - 1]).toBe(0);
            expect(s.logSnr[T - 1]).toBe(-Infinity);
            expect(s.alphasCumprod[0]).toBeCloseTo(plain.alphasCumprod[0], 15); // keeps ᾱ_1
          }
        });
      }
    }
  }

  it('linear with T = 1000 is Ho et al.: β from 1e-4 to 0.02 and ᾱ_T ≈ 4.0e-5', () => {
    const s = makeSchedule(DEFAULT_SCHEDULE);
    expect(s.betas[0]).toBeCloseTo(1e-4, 15);
    expect(s.betas[999]).toBeCloseTo(0.02, 15);
    // ∏(1 − β_t) = 4.0358e-5 (numpy float64); "≈ 4.0e-5" to 2 significant digits.
    expect(s.alphasCumprod[999]).toBeGreaterThan(3.95e-5);
    expect(s.alphasCumprod[999]).toBeLessThan(4.05e-5);
    expect(s.alphasCumprod[999]).toBeCloseTo(4.035829765375676e-5, 15);
  });

  it('linear scales its β range by 1000 / T', () => {
    const s = makeSchedule(cfg('linear', 100));
    expect(s.betas[0]).toBeCloseTo(1e-3, 15);
    expect(s.betas[99]).toBeCloseTo(0.2, 15);
  });

  it('cosine matches its closed form ᾱ_t = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2)', () => {
    for (const T of [10, 100, 1000]) {
      const s = makeSchedule(cfg('cosine', T));
      const f = (u: number) => Math.cos(((u + COSINE_S) / (1 + COSINE_S)) * (Math.PI / 2)) ** 2;
      // Index t is step t + 1; every step but the last is unclipped (β_T would be 1 and is clipped to 0.999).
      for (let t = 0; t < T - 1; t++) {
        expect(Math.abs(s.alphasCumprod[t] / (f((t + 1) / T) / f(0)) - 1)).toBeLessThan(1e-12);
        expect(s.alphasCumprod[t]).toBeCloseTo(cosineAlphaBar((t + 1) / T), 14);
      }
      expect(s.betas[T - 1]).toBe(0.999);
    }
  });

  it('quadratic and sigmoid start and end at their β range', () => {
    const q = makeSchedule(cfg('quadratic', 1000));
    expect(q.betas[0]).toBeCloseTo(1e-4, 15);
    expect(q.betas[999]).toBeCloseTo(0.02, 15);
    expect(q.betas[500]).toBeLessThan((1e-4 + 0.02) / 2); // convex in t
    const g = makeSchedule({ ...cfg('sigmoid', 1000), betaStart: 1e-4, betaEnd: 0.02 });
    expect(g.betas[0]).toBeCloseTo(1e-4 + 0.0199 / (1 + Math.exp(6)), 15);
    expect(g.betas[999]).toBeCloseTo(1e-4 + 0.0199 / (1 + Math.exp(-6)), 15);
  });

  it('rejects bad configs, naming the parameter and its range', () => {
    expect(() => makeSchedule(cfg('linear', 9))).toThrow(/T must be an integer in \[10, 1000\], got 9/);
    expect(() => makeSchedule(cfg('linear', 1001))).toThrow(/T must be an integer in \[10, 1000\]/);
    expect(() => makeSchedule(cfg('linear', 50.5))).toThrow(/T must be an integer/);
    expect(() => makeSchedule(cfg('exponential' as ScheduleKind, 100))).toThrow(
      /schedule kind must be one of linear, cosine, sigmoid, quadratic, got exponential/,
    );
    expect(() => makeSchedule({ ...DEFAULT_SCHEDULE, betaStart: 0 })).toThrow(/betaStart must be in \(0, 1\)/);
    expect(() => makeSchedule({ ...DEFAULT_SCHEDULE, betaEnd: 1e-5 })).toThrow(/betaEnd must be in \[betaStart/);
    expect(() => makeSchedule({ ...DEFAULT_SCHEDULE, kind: 'cosine', betaEnd: 1e-5 })).not.toThrow(); // no β range
  });
});

describe('timesteps', () => {
  it('reproduce Lin et al. 2024, Table 2 (T = 1000, 10 steps)', () => {
    expect([...makeTimesteps(1000, 10, 'linspace')]).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect([...makeTimesteps(1000, 10, 'leading')]).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect([...makeTimesteps(1000, 10, 'trailing')]).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  });

  it('solver layout drops t = 0 like diffusers DPMSolverMultistep', () => {
    expect([...makeTimesteps(1000, 5, 'linspace', true)]).toEqual([999, 799, 599, 400, 200]);
    expect([...makeTimesteps(1000, 5, 'leading', true)]).toEqual([830, 664, 498, 332, 166]);
  });

  it('are distinct, descending and in range for every steps ≤ T', () => {
    for (const T of [10, 37, 1000]) {
      for (const steps of [1, 2, 3, 7, T - 1, T]) {
        for (const spacing of ['linspace', 'leading', 'trailing'] as const) {
          for (const solver of [false, true]) {
            const ts = makeTimesteps(T, steps, spacing, solver);
            expect(ts.length).toBe(steps);
            ts.forEach((t, i) => {
              expect(t).toBeGreaterThanOrEqual(0);
              expect(t).toBeLessThan(T);
              if (i > 0) expect(t).toBeLessThan(ts[i - 1]);
            });
          }
        }
      }
    }
  });

  it('round half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 937.5, 812.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 938, 812, 2, 3]);
  });

  it('sampler configs are validated, naming the parameter and its range', () => {
    const s = makeSchedule(cfg('linear', 100));
    const bad = (patch: object) => () => createSampler(s, { ...DEFAULT_SAMPLER, ...patch }, 'epsilon');
    expect(bad({ steps: 101 })).toThrow(/steps must be an integer in \[1, T = 100\], got 101/);
    expect(bad({ steps: 0 })).toThrow(/steps must be an integer in \[1, T = 100\]/);
    expect(bad({ eta: -0.1 })).toThrow(/eta must be in \[0, 1\], got -0.1/);
    expect(bad({ eta: 1.5 })).toThrow(/eta must be in \[0, 1\]/);
    expect(bad({ kind: 'euler' })).toThrow(/sampler kind must be one of ddpm, ddim, dpmpp, got euler/);
    expect(bad({ spacing: 'karras' })).toThrow(/spacing must be one of linspace, leading, trailing/);
    expect(bad({ clipping: 'tanh' })).toThrow(/clipping must be one of none, clip, dynamic/);
    expect(bad({ guidance: -1 })).toThrow(/guidance must be a finite number ≥ 0/);
    expect(() => createSampler(s, DEFAULT_SAMPLER, 'score' as 'v')).toThrow(/prediction must be one of epsilon, x0, v/);
    expect(() => validateSamplerConfig({ ...DEFAULT_SAMPLER, steps: 100 }, 100)).not.toThrow();
    expect(() => createSampler(s, DEFAULT_SAMPLER, 'v').setTimesteps(200)).toThrow(/steps must be an integer in \[1, T = 100\]/);
  });
});
