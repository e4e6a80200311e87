/** Closed forms of 2-D Gaussian-mixture data (src/diffusion/gaussian-mixture-2d.ts) against independent computations. */
import { describe, expect, it } from 'vitest';
import {
  corruptedMixture2D,
  diffusionCorruption,
  flowCorruption,
  flowMixtureVelocity2D,
  mixtureDensity2D,
  mixtureLogDensity2D,
  mixtureOptimalEps2D,
  mixtureOptimalV2D,
  mixtureOptimalX02D,
  mixturePosterior2D,
  mixtureScore2D,
  type MixtureComponent2D,
} from '../../src/diffusion/gaussian-mixture-2d';
import { createRandom } from '../../src/data/random';
import { makeToy2D, sampleToy2D, toy2dMixture } from '../../src/data/toy2d';

const MIX: MixtureComponent2D[] = [
  { mean: [1.5, 0.5], std: 0.3, weight: 2 },
  { mean: [-1, 1], std: 0.5, weight: 1 },
  { mean: [0, -1.5], std: 0.2, weight: 1 },
];
const POINTS = [0.3, 0.2, -1.2, 0.8, 1.0, -0.7, 0.0, 0.0, 2.1, 1.4];

describe('2-D Gaussian-mixture closed forms', () => {
  it('the score is the gradient of log q(x_t) (central finite differences), for diffusion and flow', () => {
    for (const c of [diffusionCorruption(0.6), diffusionCorruption(0.05), flowCorruption(0.3)]) {
      const marginal = corruptedMixture2D(MIX, c);
      const { score } = mixturePosterior2D(MIX, c, POINTS);
      const h = 1e-5;
      for (let i = 0; i < POINTS.length / 2; i++) {
        for (let d = 0; d < 2; d++) {
          const plus = POINTS.slice(2 * i, 2 * i + 2);
          const minus = plus.slice();
          plus[d] += h;
          minus[d] -= h;
          const fd = (mixtureLogDensity2D(marginal, plus)[0] - mixtureLogDensity2D(marginal, minus)[0]) / (2 * h);
          expect(score[2 * i + d]).toBeCloseTo(fd, 5);
        }
      }
    }
  });

  it('the density integrates to 1 on a grid', () => {
    const marginal = corruptedMixture2D(MIX, diffusionCorruption(0.7));
    const step = 0.05;
    const grid: number[] = [];
    for (let x = -6; x < 6; x += step) for (let y = -6; y < 6; y += step) grid.push(x, y);
    const total = mixtureDensity2D(marginal, grid).reduce((a, b) => a + b, 0) * step * step;
    expect(total).toBeCloseTo(1, 3);
  });

  it('E[x0 | x_t] and E[ε | x_t] match Monte-Carlo posterior means (self-normalized importance sampling)', () => {
    const alphaBar = 0.5;
    const { a, b } = diffusionCorruption(alphaBar);
    const prior = sampleToy2D({ kind: 'mixture', components: MIX }, 20000, 7);
    const query = [0.4, 0.1, -0.8, 0.9];
    const x0 = mixtureOptimalX02D(MIX, alphaBar, query);
    const eps = mixtureOptimalEps2D(MIX, alphaBar, query);
    for (let q = 0; q < 2; q++) {
      // p(x0 | x_t) ∝ p(x0)·N(x_t; a·x0, b² I): weight each prior draw by the likelihood.
      let z = 0, mx = 0, my = 0;
      for (let i = 0; i < prior.length / 2; i++) {
        const dx = query[2 * q] - a * prior[2 * i];
        const dy = query[2 * q + 1] - a * prior[2 * i + 1];
        const w = Math.exp(-(dx * dx + dy * dy) / (2 * b * b));
        z += w;
        mx += w * prior[2 * i];
        my += w * prior[2 * i + 1];
      }
      expect(x0[2 * q]).toBeCloseTo(mx / z, 1);
      expect(x0[2 * q + 1]).toBeCloseTo(my / z, 1);
      // ε = (x_t − a·x0)/b, so E[ε | x_t] follows from the Monte-Carlo E[x0 | x_t].
      expect(eps[2 * q]).toBeCloseTo((query[2 * q] - (a * mx) / z) / b, 1);
    }
  });

  it('Tweedie: ε̂ = −√(1−ᾱ)·score and x̂0 = (x_t + (1−ᾱ)·score)/√ᾱ; v̂ = √ᾱ ε̂ − √(1−ᾱ) x̂0', () => {
    const ab = 0.3;
    const score = mixtureScore2D(MIX, ab, POINTS);
    const eps = mixtureOptimalEps2D(MIX, ab, POINTS);
    const x0 = mixtureOptimalX02D(MIX, ab, POINTS);
    const v = mixtureOptimalV2D(MIX, ab, POINTS);
    POINTS.forEach((x, i) => {
      expect(eps[i]).toBeCloseTo(-Math.sqrt(1 - ab) * score[i], 12);
      expect(x0[i]).toBeCloseTo((x + (1 - ab) * score[i]) / Math.sqrt(ab), 12);
      expect(v[i]).toBeCloseTo(Math.sqrt(ab) * eps[i] - Math.sqrt(1 - ab) * x0[i], 12);
    });
  });

  it('a single Gaussian: the flow velocity is the closed form of a Gaussian-to-Gaussian problem', () => {
    const single: MixtureComponent2D[] = [{ mean: [1, -2], std: 0.5, weight: 1 }];
    const t = 0.4;
    const v = flowMixtureVelocity2D(single, t, POINTS);
    // x_t ~ N((1−t)μ, σ_t²), σ_t² = (1−t)²s² + t²; E[ε − x0 | x_t] = −μ + (t − (1−t)s²)(x_t − (1−t)μ)/σ_t².
    const s2 = 0.25;
    const var_t = (1 - t) ** 2 * s2 + t * t;
    POINTS.forEach((x, i) => {
      const mu = single[0].mean[i % 2];
      expect(v[i]).toBeCloseTo(-mu + ((t - (1 - t) * s2) * (x - (1 - t) * mu)) / var_t, 10);
    });
  });
});

describe('toy 2-D data sets', () => {
  it('are deterministic in the seed, sized as asked, and within the view', () => {
    for (const kind of ['gaussians8', 'moons', 'swissroll', 'checkerboard', 'rings'] as const) {
      const a = makeToy2D({ kind, count: 500, seed: 3 }).points;
      const b = makeToy2D({ kind, count: 500, seed: 3 }).points;
      const c = makeToy2D({ kind, count: 500, seed: 4 }).points;
      expect(a.length).toBe(1000);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(c));
      expect(a.every((v) => Number.isFinite(v) && Math.abs(v) < 3.5)).toBe(true);
    }
  });

  it('8 Gaussians is a mixture with 8 equal modes; samples have its moments', () => {
    const mix = toy2dMixture({ kind: 'gaussians8' })!;
    expect(mix).toHaveLength(8);
    const pts = sampleToy2D({ kind: 'gaussians8' }, 8000, 1);
    let r2 = 0;
    for (let i = 0; i < pts.length; i += 2) r2 += pts[i] ** 2 + pts[i + 1] ** 2;
    // E‖x‖² = R² + 2 s².
    expect(r2 / 8000).toBeCloseTo(mix[0].mean[0] ** 2 + 2 * mix[0].std ** 2, 1);
  });

  it('drawn points are the data set; the user mixture is normalized; bad input is refused', () => {
    const drawn = new Float32Array([0, 0, 1, 1, 2, 2]);
    expect(Array.from(makeToy2D({ kind: 'drawn', count: 0, seed: 0, points: drawn }).points)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(() => makeToy2D({ kind: 'drawn', count: 0, seed: 0, points: new Float32Array([1, 2]) })).toThrow(/at least two points/);
    const mix = toy2dMixture({ kind: 'mixture', components: MIX })!;
    expect(mix.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1, 12);
    expect(() => makeToy2D({ kind: 'mixture', count: 10, seed: 0, components: [] })).toThrow(/at least one component/);
    expect(createRandom(1).uniform()).toBe(createRandom(1).uniform());
  });
});
