/** The lab's engine driven through handle() as the worker does, with the posted messages collected. */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { LabEngine } from '../../src/engine/lab/lab-engine';
import { DEFAULT_LAB_SETUP, type LabSetup, type LabToPage } from '../../src/protocol/lab-messages';
import type { WorkerToPage } from '../../src/protocol/messages';

type M<T extends LabToPage['type']> = Extract<LabToPage, { type: T }>;

const messages: LabToPage[] = [];
const lab = new LabEngine((m: WorkerToPage) => messages.push(m as LabToPage));
const of = <T extends LabToPage['type']>(type: T) => messages.filter((m): m is M<T> => m.type === type);
async function until(pred: (m: LabToPage) => boolean, timeoutMs = 20_000): Promise<LabToPage> {
  const start = Date.now();
  for (;;) {
    const found = messages.find(pred);
    if (found) return found;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a message');
    await new Promise((r) => setTimeout(r, 2));
  }
}
const SETUP: LabSetup = { ...DEFAULT_LAB_SETUP, data: { kind: 'gaussians8', count: 500, seed: 3 }, width: 32, depth: 2 };
const GRID = { xMin: -3, xMax: 3, yMin: -3, yMax: 3, nx: 9, ny: 7 };

beforeAll(async () => {
  await initNodeBackend('wasm');
});
afterAll(async () => {
  await lab.dispose();
});

describe('LabEngine', () => {
  it('answers before setup with a clear message', async () => {
    await expect(lab.handle({ type: 'lab/field', id: 1, t: 10, kind: 'eps', grid: GRID })).rejects.toThrow(/Set up the 2D lab first/);
  });

  it('setup → train (answering fields meanwhile) → sample → field → density → quality, without leaking tensors', async () => {
    await lab.handle({ type: 'lab/setup', setup: SETUP });
    const data = of('lab/data')[0];
    expect(data.points.length).toBe(1000);
    expect(data.exact).toBe(true);
    expect(data.components).toHaveLength(8);
    expect(of('lab/model')[0].paramCount).toBeGreaterThan(1000);
    const tensors = tf.memory().numTensors;

    const t0 = performance.now();
    await lab.handle({ type: 'lab/train/start', training: { steps: 400, batch: 128, learningRate: 3e-3 } });
    expect(performance.now() - t0).toBeLessThan(200); // it starts the loop and returns
    // A field asked for while training runs is answered before training ends.
    await until((m) => m.type === 'lab/train/progress');
    await lab.handle({ type: 'lab/field', id: 7, t: 500, kind: 'score', grid: GRID });
    expect(of('lab/train/state').some((m) => m.state === 'done')).toBe(false);
    const field = of('lab/field')[0];
    expect(field.learned).toHaveLength(2 * 9 * 7);
    expect(field.exact).toHaveLength(2 * 9 * 7);
    await until((m) => m.type === 'lab/train/state' && m.state === 'done');
    const progress = of('lab/train/progress');
    const lastProgress = progress[progress.length - 1];
    expect(lastProgress.step).toBe(400);
    expect(lastProgress.stepsPerSec).toBeGreaterThan(0);
    expect(lastProgress.itemLosses.length).toBe(lastProgress.itemTimesteps.length);
    expect(progress.reduce((s, p) => s + p.steps.length, 0)).toBe(400);

    await lab.handle({ type: 'lab/sample', request: { run: 1, sampler: 'ddim', steps: 20, count: 300, seed: 4, denoiser: 'learned' } });
    await until((m) => m.type === 'lab/sample/state' && m.run === 1 && m.state === 'done');
    const chunks = of('lab/sample/steps').filter((m) => m.run === 1);
    expect(chunks.reduce((s, c) => s + c.count, 0)).toBe(21);
    expect(chunks[0].first).toBe(0);
    const last = chunks[chunks.length - 1];
    expect(last.t[last.count - 1]).toBe(-1);
    expect(last.evaluations).toBe(20);
    expect(last.points.every(Number.isFinite)).toBe(true);

    await lab.handle({ type: 'lab/density', id: 2, t: 999, grid: GRID });
    const density = of('lab/density')[0].density;
    // At t = T−1 q(x_t) ≈ N(0, I): its density at the origin is about 1/(2π).
    expect(density[3 * 9 + 4]).toBeCloseTo(1 / (2 * Math.PI), 2);

    await lab.handle({ type: 'lab/quality', request: { id: 5, samplers: ['ddim', 'dpmpp', 'heun'], steps: [2, 10], denoisers: ['learned', 'exact'], count: 200 } });
    await until((m) => m.type === 'lab/quality/state' && m.state === 'done');
    const rows = of('lab/quality/row').map((m) => m.row);
    expect(rows).toHaveLength(8); // heun is flow matching's: left out for a diffusion model
    expect(rows.every((r) => r.floor > 0 && Number.isFinite(r.distance) && r.modeShares?.length === 8)).toBe(true);
    expect(rows.find((r) => r.sampler === 'dpmpp' && r.steps === 10)!.evaluations).toBe(10);
    const exact10 = rows.find((r) => r.denoiser === 'exact' && r.sampler === 'ddim' && r.steps === 10)!;
    const exact2 = rows.find((r) => r.denoiser === 'exact' && r.sampler === 'ddim' && r.steps === 2)!;
    expect(exact10.distance).toBeLessThan(exact2.distance);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('pauses and resumes training; cancels sampling within a step', async () => {
    await lab.handle({ type: 'lab/setup', setup: SETUP });
    messages.length = 0;
    await lab.handle({ type: 'lab/train/start', training: { steps: 100000, batch: 64, learningRate: 1e-3 } });
    await until((m) => m.type === 'lab/train/progress');
    await lab.handle({ type: 'lab/train/pause' });
    const pausedAt = of('lab/train/state').find((m) => m.state === 'paused')!.step;
    await new Promise((r) => setTimeout(r, 50));
    // The losses of the steps queued before the pause are read and shown while paused; none stay queued.
    expect(of('lab/train/progress').reduce((s, p) => s + p.steps.length, 0)).toBe(pausedAt);
    expect(lab['ctx']!.trainer.pending).toBe(0);
    // Sampling works while training is paused; cancel arrives after the first positions.
    await lab.handle({ type: 'lab/sample', request: { run: 2, sampler: 'ddpm', steps: 1000, count: 2000, seed: 1, denoiser: 'exact' } });
    await until((m) => m.type === 'lab/sample/state' && m.state === 'running');
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    await lab.handle({ type: 'lab/sample/cancel' });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(of('lab/sample/state').some((m) => m.run === 2 && m.state === 'cancelled')).toBe(true);
    expect(of('lab/sample/steps').reduce((s, c) => s + c.count, 0)).toBeLessThan(1001);
    expect(lab['ctx']!.trainer.step).toBe(pausedAt);
    await lab.handle({ type: 'lab/train/start', training: { steps: pausedAt + 50, batch: 64, learningRate: 1e-3 } });
    await until((m) => m.type === 'lab/train/state' && m.state === 'done');
    expect(lab['ctx']!.trainer.step).toBe(pausedAt + 50);
  });

  it('runs the two panes of a comparison at once from one x_T; a third run cancels the oldest', async () => {
    await lab.handle({ type: 'lab/setup', setup: SETUP });
    messages.length = 0;
    const request = { steps: 50, count: 400, seed: 8, denoiser: 'exact' as const };
    await lab.handle({ type: 'lab/sample', request: { ...request, run: 21, sampler: 'ddpm' } });
    await lab.handle({ type: 'lab/sample', request: { ...request, run: 22, sampler: 'ddim' } });
    await lab.handle({ type: 'lab/sample', request: { ...request, run: 23, sampler: 'dpmpp' } });
    for (const run of [22, 23]) await until((m) => m.type === 'lab/sample/state' && m.run === run && m.state === 'done');
    expect(of('lab/sample/state').find((m) => m.run === 21 && m.state !== 'running')?.state).toBe('cancelled');
    const first = (run: number) => Array.from(of('lab/sample/steps').find((m) => m.run === run && m.first === 0)!.points.slice(0, 800));
    expect(first(22)).toEqual(first(23));
    expect(first(21)).toEqual(first(22));
  });

  it('refuses the exact denoiser and the other objective’s samplers with a clear lab/error; flow runs Heun', async () => {
    await lab.handle({ type: 'lab/setup', setup: { ...SETUP, data: { kind: 'moons', count: 300, seed: 1 } } });
    expect(of('lab/data').at(-1)!.exact).toBe(false);
    messages.length = 0;
    await lab.handle({ type: 'lab/sample', request: { run: 3, sampler: 'ddim', steps: 5, count: 10, seed: 1, denoiser: 'exact' } });
    expect(of('lab/error')[0].message).toMatch(/exact denoiser exists only for Gaussian-mixture/);
    await lab.handle({ type: 'lab/field', id: 1, t: 100, kind: 'eps', grid: GRID });
    expect(of('lab/field')[0].exact).toBeNull();
    // The training points as a smoothed mixture, noised exactly: a density at every t, t = −1 (clean) included.
    const wide = { xMin: -6, xMax: 6, yMin: -6, yMax: 6, nx: 121, ny: 121 };
    for (const t of [-1, 0, 300]) {
      await lab.handle({ type: 'lab/density', id: 1, t, grid: wide });
      const density = of('lab/density').at(-1)!.density;
      expect(density.reduce((s, d) => s + d, 0) * 0.1 * 0.1).toBeCloseTo(1, 2);
    }

    // Drawn points are the data set, and a model trains on them.
    const drawn = Float32Array.from({ length: 80 }, (_, i) => (i % 2 ? Math.sin(i) : Math.cos(i)) * 1.5);
    await lab.handle({ type: 'lab/setup', setup: { ...SETUP, data: { kind: 'drawn', count: 0, seed: 1, points: drawn } } });
    expect(Array.from(of('lab/data').at(-1)!.points)).toEqual(Array.from(drawn));
    await lab.handle({ type: 'lab/train/start', training: { steps: 30, batch: 32, learningRate: 1e-2 } });
    await until((m) => m.type === 'lab/train/state' && m.state === 'done' && m.step === 30);
    await lab.handle({ type: 'lab/sample', request: { run: 9, sampler: 'dpmpp', steps: 5, count: 50, seed: 1, denoiser: 'learned' } });
    await until((m) => m.type === 'lab/sample/state' && m.run === 9 && m.state === 'done');

    await lab.handle({ type: 'lab/setup', setup: { ...SETUP, objective: 'flow' } });
    messages.length = 0;
    await lab.handle({ type: 'lab/sample', request: { run: 4, sampler: 'ddpm', steps: 5, count: 10, seed: 1, denoiser: 'exact' } });
    expect(of('lab/error')[0].message).toMatch(/Euler or Heun/);
    await lab.handle({ type: 'lab/sample', request: { run: 5, sampler: 'heun', steps: 8, count: 100, seed: 1, denoiser: 'exact' } });
    await until((m) => m.type === 'lab/sample/state' && m.run === 5 && m.state === 'done');
    const chunks = of('lab/sample/steps');
    expect(chunks.at(-1)!.evaluations).toBe(15);
    expect(chunks[0].t[0]).toBe(1);
    await lab.handle({ type: 'lab/field', id: 2, t: 0.5, kind: 'velocity', grid: GRID });
    const f = of('lab/field')[0];
    expect(f.exact).not.toBeNull();
  });
});
