/** What the page shows of a manifest's evaluation runs (written by `npm run eval -- --record`). */
import { describe, expect, it } from 'vitest';
import { headlineEval } from '../../src/io/pretrained';

const run = (sampler: string, n: number, confidence: number) => ({
  sampler,
  steps: Number(sampler.split('-')[1]),
  guidance: 2,
  n,
  msPerImage: 12.5,
  samples: { n, meanConfidence: confidence, labelEntropy: 2.29, fd: 3, kid: 0.01, histogram: [] },
  floor: { n, meanConfidence: 0.99, labelEntropy: 2.3, fd: 1.5, kid: 0, histogram: [] },
  fdOverFloor: 2,
});

describe('headlineEval', () => {
  it('of several DDIM-50 runs at the largest N (a guidance sweep), picks the lowest FD / floor', () => {
    const sweep = [1, 1.3, 2].map((guidance, i) => ({ ...run('DDIM-50', 1000, 0.9 + i / 100), guidance, fdOverFloor: [3.4, 1.9, 2.5][i] }));
    const { figures } = headlineEval([run('DDIM-50', 500, 0.99), ...sweep, { ...run('DDIM-50', 1000, 0.5), fdOverFloor: 'x' }]);
    expect(figures).toMatchObject({ guidance: 1.3, N: 1000, confidence: 0.91, 'FD/floor': 1.9 });
  });

  it('picks DDIM-50 at the largest N from a list of runs', () => {
    const { figures, sampler } = headlineEval([run('DDIM-50', 200, 0.8), run('DDPM-1000', 1000, 0.7), run('DDIM-50', 1000, 0.95), run('DDIM-20', 2000, 0.6)]);
    expect(sampler).toBe('DDIM-50');
    expect(figures).toEqual({ guidance: 2, N: 1000, confidence: 0.95, entropy: 2.29, 'FD/floor': 2, 'ms/image': 12.5 });
  });

  it('falls back to the largest-N run without a DDIM-50 one, and skips malformed entries', () => {
    const { figures, sampler } = headlineEval([run('DDIM-20', 200, 0.8), 'junk', null, run('DPM-Solver++-10', 500, 0.9)]);
    expect(sampler).toBe('DPM-Solver++-10');
    expect(figures?.N).toBe(500);
  });

  it('keeps an object of numbers as it is and ignores anything else', () => {
    expect(headlineEval({ meanConfidence: 0.9, label: 'x', fd: Number.NaN })).toEqual({ figures: { meanConfidence: 0.9 }, sampler: null });
    expect(headlineEval([])).toEqual({ figures: null, sampler: null });
    expect(headlineEval('text')).toEqual({ figures: null, sampler: null });
    expect(headlineEval(undefined)).toEqual({ figures: null, sampler: null });
  });
});
