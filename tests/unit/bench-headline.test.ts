/**
 * `npm run bench`'s headline (src/cli/bench-headline.ts): the LDM against the pixel model from one
 * run's cases, and the FD ratio from the evaluations the manifests recorded.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchHeadline, recordedFd } from '../../src/cli/bench-headline';
import type { BenchCase } from '../../src/cli/bench-table';

const run = (sampler: string, n: number, guidance: number, fd: number, fdOverFloor: number) => ({ sampler, n, guidance, fdOverFloor, samples: { fd, meanConfidence: 0.9, labelEntropy: 2.3 } });
const names = { pixel: 'pixel (pretrained)', latent: 'LDM (pretrained)' };
const row = (where: BenchCase['where'], backend: string, model: string, batch: number, msPerImage: number, peakBytes?: number): BenchCase => ({
  where, backend, kind: 'sample', sampler: 'ddim', model, batch, steps: 20, msPerImage, imagesPerSec: 1000 / msPerImage, peakBytes, flopsPerImage: 1,
});

describe('bench headline', () => {
  it("takes the FD of the page's headline run: DDIM-50 at the largest N, the guidance with the lowest FD / floor", () => {
    const manifest = { eval: [run('DDIM-50', 1000, 1, 27, 4), run('DDIM-50', 1000, 1.3, 17, 2.5), run('DDIM-50', 500, 2, 10, 1.5), run('DDIM-20', 1000, 1.3, 5, 0.7)] };
    expect(recordedFd(manifest)).toEqual({ fd: 17, guidance: 1.3, n: 1000 });
    expect(recordedFd({})).toBeNull();
  });

  it('pairs the pretrained models at the largest batch of one place and backend, and says what it lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'headline-'));
    for (const [kind, fd] of [['pixel', 20], ['latent', 15]] as const) {
      mkdirSync(join(dir, kind));
      writeFileSync(join(dir, kind, 'manifest.json'), JSON.stringify({ eval: [run('DDIM-50', 1000, 1.3, fd, fd / 7)] }));
    }
    const cases = [
      row('node', 'wasm', names.pixel, 8, 120, 40), row('node', 'wasm', names.latent, 8, 30, 10),
      row('node', 'wasm', names.pixel, 4, 130, 30), row('node', 'wasm', names.latent, 4, 40, 20),
      row('chromium', 'wasm 1t', names.pixel, 4, 200), row('chromium', 'wasm 1t', names.latent, 4, 100),
      row('chromium', 'webgl', names.latent, 4, 1),
    ];
    const h = benchHeadline(cases, names, 20, dir);
    expect(h.ldmSpeedupNode).toBe(4);
    expect(h.ldmPeakMemoryRatio).toBe(0.25);
    expect(h.ldmSpeedupChromiumWasm).toBe(2);
    expect(h.ldmFdRatio).toBe(0.75);
    expect(h.missing).toEqual([]);
    const nodeOnly = benchHeadline(cases.filter((c) => c.where === 'node'), names, 20, join(dir, 'none'));
    expect(nodeOnly.ldmSpeedupChromiumWasm).toBeNull();
    expect(nodeOnly.ldmFdRatio).toBeNull();
    expect(nodeOnly.missing).toHaveLength(2);
  });
});
