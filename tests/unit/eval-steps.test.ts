/** `npm run eval:steps`: its case syntax (fixed steps, adaptive tolerances, early stopping, the distilled student) and its table. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CASES, formatRows, parseCase } from '../../src/cli/eval-steps';

describe('eval:steps cases', () => {
  it('reads fixed-step, adaptive and early-stopped cases', () => {
    expect(parseCase('ddim-20')).toMatchObject({ kind: 'ddim', steps: 20, adaptive: 'off', earlyStop: 'off', name: 'DDIM-20' });
    expect(parseCase('adaptive23@0.05/0.0078')).toMatchObject({ adaptive: '23', rtol: 0.05, atol: 0.0078, name: 'adaptive DPM-Solver-23 (rtol 0.05, atol 0.0078)' });
    expect(parseCase('sde@0.1/0.05')).toMatchObject({ adaptive: 'sde', rtol: 0.1, atol: 0.05, name: 'adaptive SDE (Gotta Go Fast) (rtol 0.1, atol 0.05)' });
    expect(parseCase('dpmpp-20+noise@0.5')).toMatchObject({ kind: 'dpmpp', steps: 20, earlyStop: 'noise', earlyStopThreshold: 0.5, name: 'DPM-Solver++-20 + early stop (noise ≤ 0.5)' });
    expect(parseCase('student-4')).toMatchObject({ kind: 'ddim', steps: 4, student: true, family: 'student', name: 'distilled student, 4 steps' });
    for (const c of DEFAULT_CASES.split(',')) expect(() => parseCase(c)).not.toThrow();
  });

  it('names a case it cannot read', () => {
    for (const bad of ['ddpm-20', 'ddim-0', 'adaptive12@0.1', 'adaptive34@0.1/0.1', 'ddim-10+noise', 'ddim-10+noise@0', 'dpmpp-10+later@1']) {
      expect(() => parseCase(bad), bad).toThrow(/unknown case/);
    }
  });

  it('prints one row per case and the floor', () => {
    const floor = { n: 10, meanConfidence: 0.99, histogram: [], labelEntropy: 2.3, fd: 20, kid: { mean: 0, std: 0, subsets: 1, subsetSizes: [10, 10] } };
    const text = formatRows([{ name: 'DDIM-10', n: 10, evaluations: 10, evaluationsMin: 10, evaluationsMax: 10, steps: 10, fd: 30, fdOverFloor: 1.5, meanConfidence: 0.9, msPerImage: 5 }], floor as never);
    expect(text).toContain('| DDIM-10 | 10 | 10.0 | 10.0 | 30.00 | 1.500 | 0.900 | 5.0 |');
    expect(text).toContain('| held-out real (floor) | 10 |');
    const skipped = { name: 'distilled student, 4 steps', n: 0, evaluations: NaN, evaluationsMin: NaN, evaluationsMax: NaN, steps: NaN, fd: NaN, fdOverFloor: NaN, meanConfidence: NaN, msPerImage: NaN, skipped: 'no distilled model' };
    expect(formatRows([skipped], floor as never)).toContain('| distilled student, 4 steps | | not measured: no distilled model |');
  });
});
