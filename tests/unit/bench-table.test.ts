/**
 * `npm run bench`'s ratios (src/cli/bench-table.ts): each from cases of one place and backend, with
 * a verdict against the targets only where the cases are the targets' settings.
 */
import { describe, expect, it } from 'vitest';
import { benchTable, pageLines, parseCases, parseThreads, ratioLines, type BenchCase } from '../../src/cli/bench-table';

const sample = (where: BenchCase['where'], backend: string, model: string, sampler: 'ddpm' | 'ddim' | 'dpmpp', steps: number, msPerImage: number, peakBytes: number): BenchCase => ({
  where, backend, kind: 'sample', sampler, model, batch: 4, steps, msPerImage, imagesPerSec: 1000 / msPerImage, peakBytes, flopsPerImage: 1e6,
});
const train = (backend: string, stepsPerSec: number): BenchCase => ({ where: 'node', backend, kind: 'train', model: 'pixel tiny', batch: 16, msPerStep: 1000 / stepsPerSec, stepsPerSec, peakBytes: 1, flopsPerImage: 1e6 });

describe('bench ratios', () => {
  const cases = [
    sample('chromium', 'wasm', 'pixel (pretrained, small)', 'ddim', 20, 100, 4e6),
    sample('chromium', 'wasm', 'LDM (pretrained, small)', 'ddim', 20, 10, 2e6),
    sample('chromium', 'wasm', 'pixel (pretrained, small)', 'ddpm', 1000, 5000, 4e6),
    sample('chromium', 'wasm', 'pixel (pretrained, small)', 'dpmpp', 20, 150, 4e6),
    // Another backend's LDM is never paired with this backend's pixel model.
    sample('chromium', 'webgpu', 'LDM (pretrained, small)', 'ddim', 20, 1, 1),
    train('wasm', 30),
    train('cpu', 1),
  ];

  it('pairs LDM with pixel on one backend, samplers against DDPM, wasm against cpu, with verdicts', () => {
    const lines = ratioLines(cases, 20, 1000);
    expect(lines).toEqual([
      'chromium wasm: LDM (pretrained, small) vs pixel (pretrained, small), DDIM-20: 10.0x faster per image (target 8x: met), 0.50x the peak memory (target 0.25x: missed)',
      'chromium wasm: pixel (pretrained, small): DDIM-20 vs DDPM-1000: 50.0x faster per image (target 40x: met)',
      'chromium wasm: pixel (pretrained, small): DPM-Solver++-20 vs DDPM-1000: 33.3x faster per image (target 40x: missed)',
      "node: train pixel tiny: wasm 30.0x the cpu backend's steps/s (target 20x: met)",
    ]);
  });

  it('gives no sampler verdict away from 20 against 1000 steps', () => {
    const small = [sample('node', 'wasm', 'pixel small', 'ddim', 2, 10, 1), sample('node', 'wasm', 'pixel small', 'ddpm', 4, 20, 1)];
    expect(ratioLines(small, 2, 4)).toEqual(['node wasm: pixel small: DDIM-2 vs DDPM-4: 2.0x faster per image']);
  });

  it('prints a row per case', () => {
    const table = benchTable(cases).split('\n');
    expect(table).toHaveLength(2 + cases.length);
    expect(table[2]).toBe('| chromium | wasm | sample DDIM-20 | pixel (pretrained, small) | 4 | 20 | 100.0 ms/image | 10.00 images/s | 3.8 | 1.0 |');
    expect(table.at(-1)).toBe('| node | cpu | train | pixel tiny | 16 | | 1000 ms/step | 1.00 steps/s | 0.0 | 1.0 |');
  });

  it('reads --cases, naming a bad entry', () => {
    expect(parseCases('ddim-20, dpmpp-20,ddpm-1000')).toEqual([{ sampler: 'ddim', steps: 20 }, { sampler: 'dpmpp', steps: 20 }, { sampler: 'ddpm', steps: 1000 }]);
    expect(() => parseCases('ddim-20,euler-10')).toThrow("'euler-10' is not sampler-steps");
    expect(() => parseCases('ddim-0')).toThrow("'ddim-0'");
    expect(parseThreads('1, 2')).toEqual([1, 2]);
    expect(() => parseThreads('1,5')).toThrow("'5'");
  });

  it('puts the page against Node (a verdict at the same threads), the Sampling panel against Compare, and threads against 1', () => {
    const pixel = 'pixel (pretrained, small)';
    const page = [
      sample('node', 'wasm', pixel, 'ddim', 20, 100, 1),
      sample('chromium', 'wasm 1t', pixel, 'ddim', 20, 110, 1),
      sample('chromium', 'wasm 2t', pixel, 'ddim', 20, 150, 1),
      sample('chromium', 'wasm 1t', `${pixel}, Sampling panel (recorder, frames)`, 'ddim', 20, 165, 1),
    ];
    expect(pageLines(page, 20, 1)).toEqual([
      `chromium wasm 1t vs node wasm (1 thread): ${pixel}, DDIM-20, batch 4: the page takes 1.10x Node's time per image (target ≤ 1.2x: met)`,
      `chromium wasm 1t: ${pixel}, DDIM-20: the Sampling panel (recorder, frames) takes 1.50x the Compare panel's time per image`,
      `chromium wasm 2t vs node wasm (1 thread): ${pixel}, DDIM-20, batch 4: the page takes 1.50x Node's time per image`,
      `chromium wasm threads: sample DDIM-20 ${pixel}, batch 4: 2 threads 0.73x the speed of 1`,
    ]);
  });
});
