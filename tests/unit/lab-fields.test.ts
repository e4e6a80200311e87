/**
 * The learned field against the exact one: a small MLP trained briefly on one Gaussian (an easy
 * problem) must agree with the closed form wherever the data are, for every parameterization and
 * for flow matching. This checks the whole chain: training targets, the time scale the MLP sees,
 * and the conversions of its output to ε̂, the score and the velocity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { createLabContext, disposeLabContext } from '../../src/engine/lab/lab-context';
import { exactField, gridPoints, learnedField } from '../../src/engine/lab/lab-fields';
import { DEFAULT_LAB_SETUP, type LabFieldKind, type LabSetup } from '../../src/protocol/lab-messages';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

const GAUSSIAN: LabSetup['data'] = { kind: 'mixture', count: 1000, seed: 1, components: [{ mean: [0.8, -0.5], std: 0.6, weight: 1 }] };

/** ‖learned − exact‖ / ‖exact‖ over the grid. */
function relativeError(learned: Float32Array, exact: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < exact.length; i++) {
    num += (learned[i] - exact[i]) ** 2;
    den += exact[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('learned fields', () => {
  const cases: Array<[LabSetup['objective'], LabSetup['prediction'], number, LabFieldKind[]]> = [
    ['diffusion', 'epsilon', 300, ['eps', 'score', 'velocity']],
    ['diffusion', 'x0', 300, ['eps', 'score']],
    ['diffusion', 'v', 300, ['eps', 'velocity']],
    ['flow', 'epsilon', 0.4, ['velocity', 'eps', 'score']],
  ];
  for (const [objective, prediction, t, kinds] of cases) {
    it(`${objective}${objective === 'diffusion' ? ` (${prediction})` : ''}: agree with the exact field near the data`, async () => {
      const ctx = createLabContext({ ...DEFAULT_LAB_SETUP, data: GAUSSIAN, objective, prediction, width: 32, depth: 2 });
      for (let i = 0; i < 400; i++) {
        ctx.trainer.trainStep(256, 1e-2);
        if (ctx.trainer.pending === 16) await ctx.trainer.readLosses();
      }
      await ctx.trainer.readLosses();
      const points = gridPoints({ xMin: -0.4, xMax: 2, yMin: -1.7, yMax: 0.7, nx: 7, ny: 7 });
      for (const kind of kinds) {
        const exact = exactField(ctx, t, kind, points)!;
        expect(relativeError(await learnedField(ctx, t, kind, points), exact)).toBeLessThan(0.2);
      }
      // Before training the same check fails: it can tell a learned field from a random one.
      const fresh = createLabContext({ ...DEFAULT_LAB_SETUP, data: GAUSSIAN, objective, prediction, width: 32, depth: 2 });
      expect(relativeError(await learnedField(fresh, t, kinds[0], points), exactField(fresh, t, kinds[0], points)!)).toBeGreaterThan(0.3);
      disposeLabContext(fresh);
      disposeLabContext(ctx);
    });
  }
});
