/**
 * The edit math (src/diffusion/sdedit.ts, inpaint.ts, inversion.ts, slerp.ts) against the exact
 * Gaussian-mixture denoiser (src/diffusion/analytic.ts): data whose every element is i.i.d. from a
 * known mixture, so the optimal model's outputs and the distribution of its samples are known.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLER,
  DEFAULT_SCHEDULE,
  SAMPLER_KINDS,
  createSampler,
  ddimInvert,
  inpaintAll,
  inpaintLoop,
  makeSchedule,
  mixtureDenoiser,
  mixturePosteriorMeans,
  mixtureTailProbability,
  norm,
  repaintSchedule,
  sampleAll,
  sampleMoments,
  sdeditAll,
  sdeditLoop,
  sdeditPlan,
  seededNoise,
  slerp,
  slerpBatch,
  slerpStrip,
  interpolationAlphas,
  type GaussianComponent,
  type SamplerConfig,
} from '../../src/diffusion';
import { mulberry32 } from '../../src/diffusion/random';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE);
const MIX: GaussianComponent[] = [
  { weight: 0.3, mean: -0.5, std: 0.15 },
  { weight: 0.7, mean: 0.5, std: 0.2 },
];
const cfg = (patch: Partial<SamplerConfig>): SamplerConfig => ({ ...DEFAULT_SAMPLER, clipping: 'none', steps: 20, ...patch });

/** n values drawn from the mixture (Box–Muller on mulberry32), as data. */
function drawMixture(mixture: readonly GaussianComponent[], n: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let pick = u();
    let c = mixture[mixture.length - 1];
    for (const m of mixture) {
      if (pick < m.weight) {
        c = m;
        break;
      }
      pick -= m.weight;
    }
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    out[i] = c.mean + c.std * z;
  }
  return out;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Mixture moments: mean and variance. */
const mixtureMean = (m: readonly GaussianComponent[]) => m.reduce((s, c) => s + c.weight * c.mean, 0);
const mixtureVar = (m: readonly GaussianComponent[]) => m.reduce((s, c) => s + c.weight * (c.std ** 2 + c.mean ** 2), 0) - mixtureMean(m) ** 2;

/** Checks that values look like draws from the mixture: mean, variance and tail mass within 4 SE. */
function expectMixture(values: ArrayLike<number>, mixture: readonly GaussianComponent[]) {
  const m = sampleMoments(values, 0);
  expect(Math.abs(m.mean - mixtureMean(mixture))).toBeLessThan(4 * m.seMean);
  expect(Math.abs(m.variance - mixtureVar(mixture))).toBeLessThan(4 * m.seVariance);
  expect(Math.abs(m.above - mixtureTailProbability(mixture, 0))).toBeLessThan(4 * Math.max(m.seAbove, 0.005));
}

describe('SDEdit', () => {
  const shape: [number, number, number, number] = [2, 4, 4, 1];
  const model = mixtureDenoiser(MIX, schedule, 'epsilon');

  it('runs the last round(s·N) timesteps and noises the input to the first of them', () => {
    const sampler = createSampler(schedule, cfg({ steps: 50 }), 'epsilon');
    const plan = sdeditPlan(schedule, sampler.timesteps, 0.5);
    expect(plan.steps).toBe(25);
    expect(plan.t0).toBe(sampler.timesteps[25]);
    expect(plan.alphaBar).toBeCloseTo(schedule.alphasCumprod[plan.t0], 12);
    expect(sdeditPlan(schedule, sampler.timesteps, 0).steps).toBe(0);
    expect(sdeditPlan(schedule, sampler.timesteps, 1)).toMatchObject({ steps: 50, full: true, t0: sampler.timesteps[0] });
    expect(() => sdeditPlan(schedule, sampler.timesteps, 1.2)).toThrow(/strength/);
  });

  it('strength 0 returns the input exactly, with no model call', () => {
    const before = tf.memory().numTensors;
    const sampler = createSampler(schedule, cfg({ kind: 'ddpm' }), 'epsilon');
    const x0 = tf.tensor4d(drawMixture(MIX, 32, 1), shape);
    const eps = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
    let calls = 0;
    const counting = (xt: tf.Tensor4D, t: number) => (calls++, model(xt, t));
    const out = sdeditAll(counting, sampler, schedule, x0, 0, eps);
    expect(calls).toBe(0);
    expect(maxAbs(out.dataSync(), x0.dataSync())).toBe(0);
    tf.dispose([out, x0, eps]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('one DDIM step from t0 returns the exact posterior mean E[x0 | x_t0] of the noised input', () => {
    const sampler = createSampler(schedule, cfg({ kind: 'ddim', steps: 10 }), 'epsilon');
    const t0 = sampler.timesteps[9];
    const x0 = tf.tensor4d(drawMixture(MIX, 32, 3), shape);
    const eps = tf.randomNormal(shape, 0, 1, 'float32', 4) as tf.Tensor4D;
    const out = sdeditAll(model, sampler, schedule, x0, 0.1, eps);
    const ab = schedule.alphasCumprod[t0];
    const xt = tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(eps, Math.sqrt(1 - ab))) as tf.Tensor4D;
    const exact = mixturePosteriorMeans(MIX, xt, ab);
    expect(maxAbs(out.dataSync(), exact.x0.dataSync())).toBeLessThan(1e-5);
    tf.dispose([out, x0, eps, xt, exact.x0, exact.eps]);
  });

  it('full strength is plain sampling from the same noise and seed, for every sampler', () => {
    for (const kind of SAMPLER_KINDS) {
      const before = tf.memory().numTensors;
      const x0 = tf.tensor4d(drawMixture(MIX, 32, 5), shape);
      const eps = tf.randomNormal(shape, 0, 1, 'float32', 6) as tf.Tensor4D;
      const edited = sdeditAll(model, createSampler(schedule, cfg({ kind }), 'epsilon'), schedule, x0, 1, eps, seededNoise(shape, 7));
      const plain = sampleAll(model, createSampler(schedule, cfg({ kind }), 'epsilon'), eps, seededNoise(shape, 7));
      expect(maxAbs(edited.dataSync(), plain.dataSync())).toBe(0);
      tf.dispose([x0, eps, edited, plain]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('keeps the data distribution: data noised to t0 = T/2 and denoised by the exact DDPM is again the mixture', () => {
    const big: [number, number, number, number] = [4, 32, 32, 1];
    const x0 = tf.tensor4d(drawMixture(MIX, 4096, 8), big);
    const eps = tf.randomNormal(big, 0, 1, 'float32', 9) as tf.Tensor4D;
    // DDPM's ancestral step is exact only for small steps: all T of them (500 run).
    const sampler = createSampler(schedule, cfg({ kind: 'ddpm', steps: 1000 }), 'epsilon');
    const out = sdeditAll(model, sampler, schedule, x0, 0.5, eps, seededNoise(big, 10));
    expectMixture(out.dataSync(), MIX);
    tf.dispose([x0, eps, out]);
  });

  it('frees every tensor when stopped early', () => {
    const before = tf.memory().numTensors;
    const x0 = tf.tensor4d(drawMixture(MIX, 32, 11), shape);
    const eps = tf.randomNormal(shape, 0, 1, 'float32', 12) as tf.Tensor4D;
    const sampler = createSampler(schedule, cfg({ kind: 'dpmpp' }), 'epsilon');
    for (const frame of sdeditLoop(model, sampler, schedule, x0, 0.6, eps)) {
      expect(frame.total).toBe(12);
      if (frame.index === 3) break;
    }
    tf.dispose([x0, eps]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('RePaint schedule', () => {
  it('is the plain descent without resampling', () => {
    expect(repaintSchedule(5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('goes back `jump` steps, resample − 1 times at each jump point, never from clean data', () => {
    const order = repaintSchedule(6, { jump: 2, resample: 3 });
    // jump points: 4 and 2 steps left (not 6: that would go above the start; not 0: clean data)
    expect(order).toEqual([0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5]);
    const n = 50;
    const long = repaintSchedule(n, { jump: 10, resample: 4 });
    expect(long.length).toBe(n + 3 * 10 * 4);
    expect(long[long.length - 1]).toBe(n - 1);
    expect(() => repaintSchedule(10, { jump: 0, resample: 2 })).toThrow(/jump/);
  });
});

describe('inpainting by replacement', () => {
  const shape: [number, number, number, number] = [4, 16, 16, 1];
  /** keep the upper half of every image. */
  const keepUpper = () => tf.tidy(() => tf.concat([tf.ones([1, 8, 16, 1]), tf.zeros([1, 8, 16, 1])], 1)) as tf.Tensor4D;
  const upper = (v: Float32Array, keep: boolean) => Array.from(v).filter((_, i) => (Math.floor(i / 16) % 16 < 8) === keep);

  for (const kind of SAMPLER_KINDS) {
    for (const resample of [1, 3]) {
      it(`${kind}${resample > 1 ? ' with RePaint resampling' : ''}: the known region equals the input at t = 0 and the rest is data`, () => {
        const before = tf.memory().numTensors;
        const model = mixtureDenoiser(MIX, schedule, 'epsilon');
        // DDPM's ancestral steps sample the data only when small (all T steps); ODE samplers need fewer.
        const sampler = createSampler(schedule, cfg({ kind, steps: kind === 'ddpm' ? 1000 : 30 }), 'epsilon');
        const x0 = tf.tensor4d(drawMixture(MIX, 1024, 20), shape);
        const xT = tf.randomNormal(shape, 0, 1, 'float32', 21) as tf.Tensor4D;
        const keep = keepUpper();
        const out = inpaintAll(model, sampler, { x0, keep, xT }, seededNoise(shape, 22), { jump: kind === 'ddpm' ? 50 : 5, resample });
        const result = out.dataSync() as Float32Array;
        const input = x0.dataSync() as Float32Array;
        expect(maxAbs(upper(result, true), upper(input, true))).toBeLessThan(1e-6);
        // Elements are independent under the mixture, so the regenerated half is drawn from it.
        expectMixture(upper(result, false), MIX);
        expect(maxAbs(upper(result, false), upper(input, false))).toBeGreaterThan(0.1);
        tf.dispose([x0, xT, keep, out]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('frames count every step run, resampling included, and an early stop frees everything', () => {
    const before = tf.memory().numTensors;
    const model = mixtureDenoiser(MIX, schedule, 'v');
    const sampler = createSampler(schedule, cfg({ kind: 'ddim', steps: 10 }), 'v');
    const x0 = tf.zeros(shape) as tf.Tensor4D;
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 23) as tf.Tensor4D;
    const keep = keepUpper();
    const ts: number[] = [];
    for (const frame of inpaintLoop(model, sampler, { x0, keep, xT }, seededNoise(shape, 24), { jump: 2, resample: 2 })) {
      expect(frame.total).toBe(10 + 2 * 4);
      ts.push(frame.tPrev);
      if (frame.index === 7) break;
    }
    // After the step that leaves 8 steps, it jumps back up to timesteps[0].
    expect(ts.slice(0, 3)).toEqual([sampler.timesteps[1], sampler.timesteps[0], sampler.timesteps[1]]);
    tf.dispose([x0, xT, keep]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DDIM inversion', () => {
  // One Gaussian N(0.2, 0.5²): the exact denoiser is affine, the probability-flow ODE linear.
  const GAUSS: GaussianComponent[] = [{ weight: 1, mean: 0.2, std: 0.5 }];
  const shape: [number, number, number, number] = [4, 8, 8, 1];

  function reconstructionError(steps: number, prediction: 'epsilon' | 'v'): number {
    const model = mixtureDenoiser(GAUSS, schedule, prediction);
    const sampler = createSampler(schedule, cfg({ kind: 'ddim', eta: 0, steps }), prediction);
    const x0 = tf.tensor4d(drawMixture(GAUSS, 256, 30), shape);
    const latent = ddimInvert(model, schedule, prediction, sampler.timesteps, x0);
    const back = sampleAll(model, sampler, latent);
    const err = maxAbs(back.dataSync(), x0.dataSync());
    tf.dispose([x0, latent, back]);
    return err;
  }

  // Inversion and sampling are both first-order (Euler) steps of the probability-flow ODE taken in
  // opposite directions, so the round trip's error is O(1/N): the bound tested is max |x̂ − x0| < 10/N
  // over 256 draws of N(0.2, 0.5²) (it grows with |x0 − μ|; measured 0.171 at N = 50), and the
  // error falls by 4–6× from 50 to 250 steps (first order: 5×).
  it('then DDIM sampling gives the input back: max error < 10/N, falling as 1/N', () => {
    const before = tf.memory().numTensors;
    const e50 = reconstructionError(50, 'epsilon');
    const e250 = reconstructionError(250, 'epsilon');
    expect(e50).toBeLessThan(10 / 50);
    expect(e250).toBeLessThan(10 / 250);
    expect(e50 / e250).toBeGreaterThan(4);
    expect(e50 / e250).toBeLessThan(6);
    expect(reconstructionError(50, 'v')).toBeLessThan(10 / 50);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps data to noise: the inverted latent at t ≈ T has mean ≈ 0 and variance ≈ 1', () => {
    const model = mixtureDenoiser(GAUSS, schedule, 'epsilon');
    const big: [number, number, number, number] = [4, 32, 32, 1];
    const sampler = createSampler(schedule, cfg({ kind: 'ddim', steps: 250 }), 'epsilon');
    const x0 = tf.tensor4d(drawMixture(GAUSS, 4096, 31), big);
    const latent = ddimInvert(model, schedule, 'epsilon', sampler.timesteps, x0);
    const m = sampleMoments(latent.dataSync(), 0);
    expect(Math.abs(m.mean)).toBeLessThan(0.05);
    expect(Math.abs(m.variance - 1)).toBeLessThan(0.05);
    tf.dispose([x0, latent]);
  });
});

describe('slerp', () => {
  const gaussian = (n: number, seed: number) => {
    const u = mulberry32(seed);
    return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
  };

  it('keeps the norm of two noises of equal norm at every α, and ends at both', () => {
    const a = gaussian(784, 1);
    const b0 = gaussian(784, 2);
    const b = b0.map((v) => (v * norm(a)) / norm(b0));
    const strip = slerpStrip(a, b, 12);
    for (let i = 0; i < 12; i++) expect(norm(strip.subarray(i * 784, (i + 1) * 784)) / norm(a)).toBeCloseTo(1, 5);
    expect(maxAbs(slerp(a, b, 0), a)).toBeLessThan(1e-5);
    expect(maxAbs(slerp(a, b, 1), b)).toBeLessThan(1e-5);
  });

  it('stays on the shell of two independent noises, where the straight line sinks to ≈ 1/√2 of it', () => {
    const a = gaussian(784, 3);
    const b = gaussian(784, 4);
    const lo = Math.min(norm(a), norm(b));
    const hi = Math.max(norm(a), norm(b));
    for (const alpha of [0.25, 0.5, 0.75]) {
      const n = norm(slerp(a, b, alpha));
      expect(n).toBeGreaterThan(lo * 0.99);
      expect(n).toBeLessThan(hi * 1.01);
    }
    const mid = a.map((v, i) => 0.5 * v + 0.5 * b[i]);
    expect(norm(mid) / norm(a)).toBeLessThan(0.8);
  });

  it('on tensors (slerpBatch) gives the same strip as on numbers, and frees what it makes', () => {
    const a = gaussian(784, 5);
    const b = gaussian(784, 6);
    const before = tf.memory().numTensors;
    const ta = tf.tensor4d(a, [1, 28, 28, 1]);
    const tb = tf.tensor4d(b, [1, 28, 28, 1]);
    const strip = slerpBatch(ta, tb, interpolationAlphas(10));
    expect(strip.shape).toEqual([10, 28, 28, 1]);
    expect(maxAbs(strip.dataSync(), slerpStrip(a, b, 10))).toBeLessThan(1e-4);
    const same = slerpBatch(ta, ta, [0, 0.5, 1]);
    expect(maxAbs(same.dataSync().subarray(784, 1568), a)).toBeLessThan(1e-5);
    tf.dispose([ta, tb, strip, same]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
