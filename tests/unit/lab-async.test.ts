/**
 * The lab's paths read nothing back synchronously (so they run on WebGPU, whose synchronous reads
 * are slow and lost the device on SwiftShader): training steps and their losses, sampling runs with
 * every sampler and both denoisers, and learned fields, with the engine's readSync spied on; and
 * tf.memory().numTensors is unchanged across each of them, a run stopped early included.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { createLabContext, disposeLabContext, type LabContext } from '../../src/engine/lab/lab-context';
import { gridPoints, learnedField } from '../../src/engine/lab/lab-fields';
import { labSampleRun, READ_EVERY } from '../../src/engine/lab/lab-sampling';
import { DEFAULT_LAB_SETUP, type LabSamplerKind } from '../../src/protocol/lab-messages';

let diffusion: LabContext;
let flow: LabContext;

beforeAll(async () => {
  await initNodeBackend('wasm');
  const setup = { ...DEFAULT_LAB_SETUP, data: { kind: 'gaussians8' as const, count: 400, seed: 2 }, width: 16, depth: 2 };
  diffusion = createLabContext(setup);
  flow = createLabContext({ ...setup, objective: 'flow' });
});
afterAll(() => {
  disposeLabContext(diffusion);
  disposeLabContext(flow);
});

/** Runs `body` with readSync spied on; returns how many synchronous reads it made and the tensors it left. */
async function watched(body: () => Promise<void>): Promise<{ reads: number; leaked: number }> {
  const before = tf.memory().numTensors;
  const spy = vi.spyOn(tf.engine(), 'readSync');
  try {
    await body();
    return { reads: spy.mock.calls.length, leaked: tf.memory().numTensors - before };
  } finally {
    spy.mockRestore();
  }
}

describe('the lab without synchronous reads', () => {
  it('training steps queue their outputs; readLosses reads them asynchronously and frees them', async () => {
    for (const ctx of [diffusion, flow]) {
      const losses: number[] = [];
      const { reads, leaked } = await watched(async () => {
        for (let i = 0; i < 40; i++) {
          ctx.trainer.trainStep(64, 1e-2);
          if (ctx.trainer.pending === 16) losses.push(...(await ctx.trainer.readLosses()).map((r) => r.loss));
        }
        losses.push(...(await ctx.trainer.readLosses()).map((r) => r.loss));
      });
      expect(reads).toBe(0);
      expect(leaked).toBe(0);
      expect(losses).toHaveLength(40);
      expect(losses.every(Number.isFinite)).toBe(true);
    }
  });

  const runs: Array<[LabContext | (() => LabContext), LabSamplerKind]> = [
    [() => diffusion, 'ddpm'],
    [() => diffusion, 'ddim'],
    [() => diffusion, 'dpmpp'],
    [() => flow, 'euler'],
    [() => flow, 'heun'],
  ];
  for (const [ctxOf, sampler] of runs) {
    it(`${sampler}: every position is read asynchronously, in order, for the learned and the exact denoiser`, async () => {
      const ctx = typeof ctxOf === 'function' ? ctxOf() : ctxOf;
      for (const denoiser of ['learned', 'exact'] as const) {
        const positions: Array<{ index: number; points: Float32Array }> = [];
        const steps = 2 * READ_EVERY + 3;
        let between = 0;
        const { reads, leaked } = await watched(async () => {
          for await (const p of labSampleRun(ctx, { sampler, steps, count: 50, seed: 3, denoiser }, { between: async () => void between++ })) positions.push(p);
        });
        expect(reads).toBe(0);
        expect(leaked).toBe(0);
        expect(between).toBe(steps + 1); // after x_T and after every step
        expect(positions.map((p) => p.index)).toEqual(Array.from({ length: steps + 1 }, (_, i) => i));
        expect(positions.every((p) => p.points.length === 100 && p.points.every(Number.isFinite))).toBe(true);
        // Only the final samples: the same points as the last position of the full run.
        const last: Float32Array[] = [];
        for await (const p of labSampleRun(ctx, { sampler, steps, count: 50, seed: 3, denoiser }, { onlyLast: true })) last.push(p.points);
        expect(last).toHaveLength(1);
        expect(Array.from(last[0])).toEqual(Array.from(positions[steps].points));
      }
    });
  }

  it('a run stopped early (cancelled between steps, or left after a few positions) frees every tensor', async () => {
    const { reads, leaked } = await watched(async () => {
      let k = 0;
      const stop = new Error('stop');
      await expect(
        (async () => {
          for await (const p of labSampleRun(diffusion, { sampler: 'ddpm', steps: 50, count: 30, seed: 1, denoiser: 'learned' }, { between: async () => { if (++k === 13) throw stop; } })) void p;
        })(),
      ).rejects.toBe(stop);
      for await (const p of labSampleRun(flow, { sampler: 'heun', steps: 30, count: 30, seed: 1, denoiser: 'exact' })) if (p.index === 5) break;
    });
    expect(reads).toBe(0);
    expect(leaked).toBe(0);
  });

  it('learned fields are read asynchronously and leave no tensor', async () => {
    const points = gridPoints({ xMin: -3, xMax: 3, yMin: -3, yMax: 3, nx: 12, ny: 12 });
    const fields: Float32Array[] = [];
    const { reads, leaked } = await watched(async () => {
      for (const kind of ['eps', 'score', 'velocity'] as const) {
        fields.push(await learnedField(diffusion, 300, kind, points));
        fields.push(await learnedField(flow, 0.4, kind, points));
      }
    });
    expect(reads).toBe(0);
    expect(leaked).toBe(0);
    expect(fields.every((f) => f.length === 2 * 144 && f.every(Number.isFinite))).toBe(true);
  });
});
