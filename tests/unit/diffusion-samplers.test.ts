/**
 * Exact-denoiser tests: each sampler is driven by the Bayes-optimal model of a known data
 * distribution, and the generated samples' mean, variance and upper-mode weight are compared with
 * what that sampler must produce.
 *
 * Data (every sample one scalar, n = 20000 items of shape [n,1,1,1]):
 *   G = N(0.4, 0.5²)                                 mean 0.4, variance 0.25,    P(x > 0) = Φ(0.8) = 0.788145
 *   M = 0.3·N(−0.5, 0.15²) + 0.7·N(0.5, 0.2²)        mean 0.2, variance 0.24475, P(x > 0) = 0.695788
 * P(x > 0) measures the mixture weight of the upper mode (0 lies in the density gap between the modes).
 *
 * Reference = truth + discretization bias. A sampler with finitely many steps does not reproduce the
 * data distribution exactly even with the exact model: DDPM's T = 1000-step chain with σ² = β̃ loses
 * 1.5% of G's variance, DDIM with 10 steps (η = 0) loses 48%, because the final step jumps from
 * ᾱ ≈ 0.89 straight to E[x0 | x_t]. That bias is not noise, so instead of widening the tolerance by it
 * (which would let a broken sampler pass), each case states the exact distribution of the discrete
 * sampler's output, computed independently in float64:
 *   - for G in closed form (all three samplers are affine maps of x_T plus independent Gaussian noise,
 *     so mean and variance follow by propagating them through the steps; SE 0);
 *   - for M by a NumPy float64 Monte Carlo run of the same algorithms with 4·10⁶ samples (10⁶ for the
 *     1000-step DDPM), whose standard errors are listed as refSe.
 * The bias (reference − truth) is printed in every failure message.
 *
 * Tolerance, per statistic: 5·√(SE² + refSe²), with the SE of this run's estimator derived from the
 * sample count n and the sample itself: SE(mean) = s/√n, SE(variance) = √((m₄ − s⁴)/n),
 * SE(P) = √(p(1 − p)/n). For n = 20000 and G that is ±0.018 on the mean, ±0.0025 (1%) on the variance
 * and ±0.014 on P. Five SEs make a false alarm ~6·10⁻⁷ per check; the seeds are fixed anyway.
 * Sharpness: the off-by-one ᾱ and first-order-only mutants at the end of this file must fail.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLER,
  DEFAULT_SCHEDULE,
  DdimSampler,
  DdpmSampler,
  createSampler,
  makeSchedule,
  mixtureDenoiser,
  mixtureTailProbability,
  sampleAll,
  sampleMoments,
  seededNoise,
  type GaussianComponent,
  type PredictionType,
  type Sampler,
  type SamplerConfig,
} from '../../src/diffusion';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE); // linear, T = 1000
const N = 20000;
/** Few-step samplers are cheap: ten times the samples, √10 times sharper. */
const N_FEW = 200000;
const G: GaussianComponent[] = [{ weight: 1, mean: 0.4, std: 0.5 }];
const M: GaussianComponent[] = [
  { weight: 0.3, mean: -0.5, std: 0.15 },
  { weight: 0.7, mean: 0.5, std: 0.2 },
];
const truth = (mix: GaussianComponent[]) => {
  const mean = mix.reduce((a, c) => a + c.weight * c.mean, 0);
  const variance = mix.reduce((a, c) => a + c.weight * (c.std ** 2 + c.mean ** 2), 0) - mean ** 2;
  return { mean, variance, above: mixtureTailProbability(mix, 0) };
};

interface Ref {
  mean: number;
  variance: number;
  above: number;
  /** Standard errors of the reference itself (Monte Carlo); 0 for closed forms. */
  refSe?: [number, number, number];
}
interface Case {
  name: string;
  /** Sample count (default N). */
  n?: number;
  cfg: Partial<SamplerConfig>;
  G: Ref;
  M: Ref;
}

// Timestep spacing: linspace (DDIM: 999 … 0; DPM-Solver++: diffusers' solver layout, see makeTimesteps).
const CASES: Case[] = [
  {
    name: 'DDPM, 1000 steps, σ² = β̃',
    cfg: { kind: 'ddpm', steps: 1000, ddpmVariance: 'betaTilde' },
    G: { mean: 0.399996, variance: 0.246125, above: 0.789955 },
    M: { mean: 0.20026, variance: 0.24274, above: 0.69639, refSe: [0.00049, 0.00024, 0.00046] },
  },
  {
    name: 'DDPM, 1000 steps, σ² = β',
    cfg: { kind: 'ddpm', steps: 1000, ddpmVariance: 'beta' },
    G: { mean: 0.399996, variance: 0.250752, above: 0.787794 },
    M: { mean: 0.19956, variance: 0.24516, above: 0.69486, refSe: [0.0005, 0.00024, 0.00046] },
  },
  {
    name: 'DDIM, 50 steps, η = 0',
    n: N_FEW,
    cfg: { kind: 'ddim', steps: 50, eta: 0 },
    G: { mean: 0.398801, variance: 0.222704, above: 0.800964 },
    M: { mean: 0.20176, variance: 0.2257, above: 0.69975, refSe: [0.00024, 0.00011, 0.00023] },
  },
  {
    name: 'DDIM, 50 steps, η = 1',
    n: N_FEW,
    cfg: { kind: 'ddim', steps: 50, eta: 1 },
    G: { mean: 0.399996, variance: 0.19642, above: 0.816613 },
    M: { mean: 0.20769, variance: 0.21287, above: 0.70929, refSe: [0.00023, 0.00011, 0.00023] },
  },
  {
    name: 'DDIM, 10 steps, η = 0',
    n: N_FEW,
    cfg: { kind: 'ddim', steps: 10, eta: 0 },
    G: { mean: 0.399081, variance: 0.130763, above: 0.86512 },
    M: { mean: 0.2091, variance: 0.14472, above: 0.71754, refSe: [0.00019, 0.00008, 0.00023] },
  },
  {
    name: 'DDIM, 10 steps, η = 1',
    n: N_FEW,
    cfg: { kind: 'ddim', steps: 10, eta: 1 },
    G: { mean: 0.399996, variance: 0.104222, above: 0.892329 },
    M: { mean: 0.22001, variance: 0.12406, above: 0.73864, refSe: [0.00018, 0.00007, 0.00022] },
  },
  {
    name: 'DPM-Solver++(2M), 10 steps',
    n: N_FEW,
    cfg: { kind: 'dpmpp', steps: 10 },
    G: { mean: 0.398975, variance: 0.162784, above: 0.838637 },
    M: { mean: 0.20217, variance: 0.17001, above: 0.70109, refSe: [0.00021, 0.00009, 0.00023] },
  },
  {
    name: 'DPM-Solver++(2M), 20 steps',
    n: N_FEW,
    cfg: { kind: 'dpmpp', steps: 20 },
    G: { mean: 0.398788, variance: 0.227467, above: 0.798464 },
    M: { mean: 0.20055, variance: 0.2272, above: 0.69238, refSe: [0.00024, 0.00011, 0.00023] },
  },
];

const config = (cfg: Partial<SamplerConfig>): SamplerConfig => ({ ...DEFAULT_SAMPLER, spacing: 'linspace', clipping: 'none', ...cfg });

/** Draws N samples with `sampler` and the exact `prediction`-model of `data`; returns the values. */
async function generate(sampler: Sampler, data: GaussianComponent[], prediction: PredictionType = 'epsilon', seed = 1, n = N) {
  const xT = tf.randomNormal([n, 1, 1, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
  const out = sampleAll(mixtureDenoiser(data, schedule, prediction), sampler, xT, seededNoise([n, 1, 1, 1], seed + 1));
  const values = await out.data();
  tf.dispose([xT, out]);
  return values as Float32Array;
}

/** Every statistic outside its tolerance, as readable lines (empty: all pass). */
function mismatches(values: Float32Array, ref: Ref, data: GaussianComponent[]): string[] {
  const s = sampleMoments(values, 0);
  const refSe = ref.refSe ?? [0, 0, 0];
  const tr = truth(data);
  const rows: [string, number, number, number, number][] = [
    ['mean', s.mean, ref.mean, s.seMean, refSe[0]],
    ['variance', s.variance, ref.variance, s.seVariance, refSe[1]],
    ['P(x > 0)', s.above, ref.above, s.seAbove, refSe[2]],
  ];
  return rows
    .filter(([, got, want, se, rse]) => Math.abs(got - want) > 5 * Math.hypot(se, rse))
    .map(([name, got, want, se, rse]) => {
      const bias = want - tr[name === 'mean' ? 'mean' : name === 'variance' ? 'variance' : 'above'];
      return `${name}: got ${got.toFixed(5)}, reference ${want} (truth + bias ${bias.toFixed(5)}), tolerance ±${(5 * Math.hypot(se, rse)).toFixed(5)}`;
    });
}

describe('samplers with the exact denoiser', () => {
  for (const c of CASES) {
    for (const [dataName, data] of [['G', G], ['M', M]] as const) {
      it(`${c.name}: ${dataName} samples have the reference mean, variance and mode weight`, async () => {
        const values = await generate(createSampler(schedule, config(c.cfg), 'epsilon'), data, 'epsilon', 1, c.n ?? N);
        expect(values.every(Number.isFinite)).toBe(true);
        expect(mismatches(values, c[dataName], data)).toEqual([]);
      });
    }
  }

  it('ε-, x0- and v-models of the same exact denoiser give the same samples from the same noise', async () => {
    // Deterministic samplers (DDIM η = 0, DPM-Solver++) see the same function through three
    // conversions; only float32 rounding differs. Reading an ε-output at t = 999 divides by
    // √ᾱ_999 = 0.0064, amplifying rounding (u = 6e-8 on values ≤ 5) by 157: ~5e-5 per step at most,
    // damped by the following steps; observed ≤ 1e-5, tolerance 2e-4.
    for (const cfg of [{ kind: 'ddim', steps: 50, eta: 0 }, { kind: 'dpmpp', steps: 10 }] as const) {
      const runs = await Promise.all(
        (['epsilon', 'x0', 'v'] as const).map((p) => generate(createSampler(schedule, config(cfg), p), M, p, 5)),
      );
      for (const other of runs.slice(1)) {
        let maxDiff = 0;
        for (let i = 0; i < N; i++) maxDiff = Math.max(maxDiff, Math.abs(other[i] - runs[0][i]));
        expect(maxDiff).toBeLessThan(2e-4);
      }
    }
  });

  it('stochastic samplers are reproducible for a seed and differ across seeds', async () => {
    const sampler = createSampler(schedule, config({ kind: 'ddim', steps: 10, eta: 1 }), 'epsilon');
    const a = await generate(sampler, M, 'epsilon', 7);
    const b = await generate(sampler, M, 'epsilon', 7);
    const c = await generate(sampler, M, 'epsilon', 8);
    expect(a).toEqual(b);
    expect(a.some((v, i) => v !== c[i])).toBe(true);
  });
});

describe('the tolerances are sharp: broken samplers fail them', () => {
  /** The classic strided-sampler bug: ᾱ_prev read at t − 1 instead of at the next visited timestep. */
  class PrevIndexDdim extends DdimSampler {
    prevTimestep(index: number): number {
      return index + 1 < this.timesteps.length ? this.timesteps[index] - 1 : -1;
    }
  }
  /** ᾱ read one index too late (0- vs 1-based timesteps). */
  class OffByOneDdim extends DdimSampler {
    alphaBar(t: number): number {
      return super.alphaBar(t >= 0 && t < this.schedule.T - 1 ? t + 1 : t);
    }
  }
  /** x0 read from ε with the wrong sign: (x_t + √(1 − ᾱ)·ε)/√ᾱ. */
  class WrongSignDdpm extends DdpmSampler {
    protected readOutput(out: tf.Tensor4D, xt: tf.Tensor4D, alphaBar: number) {
      return super.readOutput(tf.neg(out), xt, alphaBar);
    }
  }
  /** DPM-Solver++ without its second-order term is DDIM (η = 0) on the solver's timesteps. */
  class FirstOrderSolver extends DdimSampler {
    protected solverSpacing(): boolean {
      return true;
    }
  }
  const [ddpm, , ddim50, , ddim10, , dpm10, dpm20] = CASES;
  const mutants: [string, () => Sampler, Case][] = [
    ['DDIM 10 steps, ᾱ_prev at t − 1', () => new PrevIndexDdim(schedule, config(ddim10.cfg), 'epsilon'), ddim10],
    ['DDIM 50 steps, ᾱ_prev at t − 1', () => new PrevIndexDdim(schedule, config(ddim50.cfg), 'epsilon'), ddim50],
    ['DDPM 1000 steps, wrong sign of ε', () => new WrongSignDdpm(schedule, config(ddpm.cfg), 'epsilon'), ddpm],
    ['DPM-Solver++ 10 steps, first order only', () => new FirstOrderSolver(schedule, config({ kind: 'ddim', steps: 10 }), 'epsilon'), dpm10],
    ['DPM-Solver++ 20 steps, first order only', () => new FirstOrderSolver(schedule, config({ kind: 'ddim', steps: 20 }), 'epsilon'), dpm20],
  ];
  for (const [name, make, c] of mutants) {
    it(name, async () => {
      const n = c.n ?? N;
      const failures = [
        ...mismatches(await generate(make(), G, 'epsilon', 1, n), c.G, G),
        ...mismatches(await generate(make(), M, 'epsilon', 1, n), c.M, M),
      ];
      expect(failures.length).toBeGreaterThan(0);
    });
  }

  it('an ᾱ index off by one (of 1000) is caught in DDIM with 10⁶ samples of G, where the correct sampler passes', async () => {
    // The off-by-one shifts DDIM-10's output variance on G by +1.2% (+0.0016, float64 closed form).
    // With n = 10⁶, 5·SE(variance) = 5·0.131·√(2/10⁶) = 0.0009 (0.7%), so it fails; with n = 2·10⁵
    // (the cases above) it would not: that is the resolution of those tests. The same mutation in
    // DPM-Solver++-10 moves the variance by only −0.3% and is below even this resolution.
    const n = 1_000_000;
    const good = await generate(createSampler(schedule, config(ddim10.cfg), 'epsilon'), G, 'epsilon', 3, n);
    expect(mismatches(good, ddim10.G, G)).toEqual([]);
    const bad = await generate(new OffByOneDdim(schedule, config(ddim10.cfg), 'epsilon'), G, 'epsilon', 3, n);
    expect(mismatches(bad, ddim10.G, G)).not.toEqual([]);
  });
});
