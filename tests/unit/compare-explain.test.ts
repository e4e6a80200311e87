/**
 * The Compare panel's explanation (src/state/compare-explain.ts): FLOPs from the architectures,
 * rates from the measured times, and the LDM's per-op overhead as the share of its time that its
 * FLOPs at the pixel model's rate do not explain.
 */
import { describe, expect, it } from 'vitest';
import type { CompareRow } from '../../src/eval/compare-report';
import { explainCompare } from '../../src/state/compare-explain';
import { pretrainedFlopParts } from '../../src/state/compare-flops';

const row = (model: CompareRow['model'], msPerImage: number, extra: Partial<CompareRow> = {}): CompareRow => ({
  model, sampler: 'ddim', steps: 20, batch: 4, msPerImage, imagesPerSec: 1000 / msPerImage, peakBytes: 1, flopsPerImage: 0, quality: null, sweep: false, ...extra,
});

describe('explainCompare', () => {
  const p = pretrainedFlopParts('pixel', 1);
  const l = pretrainedFlopParts('latent', 1);
  const pixelFlops = 20 * p.perPass;
  const latentFlops = 20 * l.perPass + l.decode;

  it('at equal FLOP rates the measured speed-up is the FLOPs one and there is no overhead', () => {
    const why = explainCompare([row('pixel', pixelFlops / 1e6), row('latent', latentFlops / 1e6)], 1)!;
    expect(why.flopsSpeedup).toBeCloseTo(pixelFlops / latentFlops, 12);
    expect(why.measuredSpeedup).toBeCloseTo(why.flopsSpeedup, 12);
    expect(why.overheadShare).toBeCloseTo(0, 12);
    expect(why.decodeShare).toBeCloseTo(l.decode / latentFlops, 12);
    expect(why.pixel.flopsPerSec).toBeCloseTo(1e9, 3);
  });

  it('an LDM at half the pixel rate spends half its time on overhead; guidance doubles the step FLOPs', () => {
    const why = explainCompare([row('pixel', pixelFlops / 1e6), row('latent', (2 * latentFlops) / 1e6), row('latent', 1, { sweep: true })], 1)!;
    expect(why.overheadShare).toBeCloseTo(0.5, 12);
    expect(why.measuredSpeedup).toBeCloseTo(why.flopsSpeedup / 2, 12);
    const guided = explainCompare([row('pixel', 10), row('latent', 5)], 3)!;
    expect(guided.latent.stepFlops).toBe(2 * l.perPass);
    expect(explainCompare([row('pixel', 10)], 1)).toBeNull();
  });
});
