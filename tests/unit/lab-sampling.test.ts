/**
 * The lab's samplers with the exact denoiser of a Gaussian mixture: with many steps they recover the
 * mixture (energy distance within the floor's range, every mode covered); flow matching's paths under
 * the exact velocity of a Gaussian-to-Gaussian problem are straight lines; the distance itself.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { sampleToy2D } from '../../src/data/toy2d';
import { energyDistance, energyDistanceFloor, everyModeCovered, modeShares } from '../../src/eval/sample-distance';
import { createLabContext, disposeLabContext } from '../../src/engine/lab/lab-context';
import { labSampleRun } from '../../src/engine/lab/lab-sampling';
import { DEFAULT_LAB_SETUP, type LabSetup } from '../../src/protocol/lab-messages';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

async function finalPoints(setup: LabSetup, sampler: 'ddpm' | 'ddim' | 'dpmpp' | 'euler' | 'heun', steps: number, count: number): Promise<{ points: Float32Array; evaluations: number; positions: Float32Array[] }> {
  const ctx = createLabContext(setup);
  const positions: Float32Array[] = [];
  let evaluations = 0;
  const before = tf.memory().numTensors;
  for await (const p of labSampleRun(ctx, { sampler, steps, count, seed: 9, denoiser: 'exact' })) {
    positions.push(p.points);
    evaluations = p.evaluations;
  }
  expect(tf.memory().numTensors).toBe(before);
  disposeLabContext(ctx);
  return { points: positions[positions.length - 1], evaluations, positions };
}

describe('energy distance', () => {
  it('is about 0 (within its floor) for two samples of one distribution and far above it for different ones', () => {
    const spec = { kind: 'gaussians8' as const };
    const a = sampleToy2D(spec, 600, 1);
    const b = sampleToy2D(spec, 600, 2);
    const floor = energyDistanceFloor([[sampleToy2D(spec, 600, 3), sampleToy2D(spec, 600, 4)], [sampleToy2D(spec, 600, 5), sampleToy2D(spec, 600, 6)]]);
    expect(floor).toBeGreaterThan(0);
    expect(Math.abs(energyDistance(a, b))).toBeLessThan(4 * floor);
    const moons = sampleToy2D({ kind: 'moons' }, 600, 1);
    expect(energyDistance(a, moons)).toBeGreaterThan(20 * floor);
    // A half-covered mixture: modes missing are seen by both numbers.
    const half = a.filter((_, i) => a[i - (i % 2)] > 0.5);
    const shares = modeShares(half, [[2, 0], [-2, 0], [0, 2], [0, -2]]);
    expect(everyModeCovered(shares, [1, 1, 1, 1])).toBe(false);
    expect(energyDistance(half, b)).toBeGreaterThan(10 * floor);
  });
});

describe('exact-denoiser sampling', () => {
  const n = 600;
  const spec = { kind: 'gaussians8' as const };
  const floor = energyDistanceFloor([[sampleToy2D(spec, n, 11), sampleToy2D(spec, n, 12)], [sampleToy2D(spec, n, 13), sampleToy2D(spec, n, 14)]]);
  const reference = sampleToy2D(spec, n, 15);
  const means = Array.from({ length: 8 }, (_, k) => [2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)] as const);

  for (const [objective, sampler, steps] of [
    ['diffusion', 'ddim', 100],
    ['diffusion', 'ddpm', 200],
    ['diffusion', 'dpmpp', 50],
    ['flow', 'heun', 50],
  ] as const) {
    it(`${sampler}-${steps} recovers 8 Gaussians (distance within the floor's range, every mode covered)`, async () => {
      const { points, evaluations } = await finalPoints({ ...DEFAULT_LAB_SETUP, objective }, sampler, steps, n);
      expect(evaluations).toBe(sampler === 'heun' ? 2 * steps - 1 : steps);
      expect(energyDistance(points, reference)).toBeLessThan(3 * floor);
      expect(everyModeCovered(modeShares(points, means), new Array(8).fill(1))).toBe(true);
    });
  }

  it('DDIM with 2 steps is visibly worse than with 100 (sampler error, not model error)', async () => {
    const few = (await finalPoints(DEFAULT_LAB_SETUP, 'ddim', 2, n)).points;
    expect(energyDistance(few, reference)).toBeGreaterThan(3 * floor);
  });

  /** Largest distance of a particle from the chord x_1 → x_0 of its path, relative to the chord's length². */
  function bend(positions: Float32Array[], count: number): number {
    const [first, last] = [positions[0], positions[positions.length - 1]];
    let max = 0;
    for (const p of positions) {
      for (let i = 0; i < count; i++) {
        const [ax, ay, bx, by] = [first[2 * i], first[2 * i + 1], last[2 * i], last[2 * i + 1]];
        const cross = (bx - ax) * (p[2 * i + 1] - ay) - (by - ay) * (p[2 * i] - ax);
        max = Math.max(max, Math.abs(cross) / ((bx - ax) ** 2 + (by - ay) ** 2));
      }
    }
    return max;
  }

  it('flow matching: under the exact velocity, paths from N(0, I) to a point mass are straight lines; to a spread Gaussian they bend', async () => {
    // Data N(μ, s² I): x_t = (1−t)·μ + σ_t·x_1 with σ_t = √((1−t)²s² + t²), linear in t only for
    // s = 0: then every particle moves along the chord from x_1 to μ at constant speed.
    const gaussian = (std: number): LabSetup => ({ ...DEFAULT_LAB_SETUP, objective: 'flow', data: { kind: 'mixture', count: 100, seed: 1, components: [{ mean: [1.5, -1], std, weight: 1 }] } });
    const { positions } = await finalPoints(gaussian(0), 'euler', 10, 50);
    expect(bend(positions, 50)).toBeLessThan(1e-4);
    const end = positions[positions.length - 1];
    for (let i = 0; i < 50; i++) expect([end[2 * i], end[2 * i + 1]]).toEqual([expect.closeTo(1.5, 4), expect.closeTo(-1, 4)]);
    for (const std of [0.3, 1]) expect(bend((await finalPoints(gaussian(std), 'euler', 10, 50)).positions, 50)).toBeGreaterThan(0.01);
  });

  it('one seed gives one x_T for every sampler and objective', async () => {
    const a = (await finalPoints(DEFAULT_LAB_SETUP, 'ddim', 3, 20)).positions[0];
    const b = (await finalPoints({ ...DEFAULT_LAB_SETUP, objective: 'flow' }, 'heun', 4, 20)).positions[0];
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
