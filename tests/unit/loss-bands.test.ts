/** Loss by timestep: the band of each t, and each band's running mean over its last examples. */
import { describe, expect, it } from 'vitest';
import { BAND_WINDOW, LOSS_BANDS, LossBands, bandOf, bandRange } from '../../src/state/loss-bands';

describe('loss bands', () => {
  it('splits 1..T into 10 equal bands, every timestep in exactly one', () => {
    expect(LOSS_BANDS).toBe(10);
    expect(bandOf(0, 1000)).toBe(0);
    expect(bandOf(99, 1000)).toBe(0);
    expect(bandOf(100, 1000)).toBe(1);
    expect(bandOf(999, 1000)).toBe(9);
    expect(bandRange(0, 1000)).toEqual([1, 100]);
    expect(bandRange(9, 1000)).toEqual([901, 1000]);
    for (const T of [10, 55, 100, 999, 1000]) {
      const sizes = new Array(10).fill(0);
      for (let i = 0; i < T; i++) {
        const b = bandOf(i, T);
        sizes[b]++;
        const [lo, hi] = bandRange(b, T);
        expect(i + 1, `t = ${i + 1} of T = ${T} in band ${b}`).toBeGreaterThanOrEqual(lo);
        expect(i + 1).toBeLessThanOrEqual(hi);
      }
      expect(Math.max(...sizes) - Math.min(...sizes), `T = ${T}`).toBeLessThanOrEqual(1);
      expect(bandRange(9, T)[1]).toBe(T);
    }
  });

  it('keeps the mean of each band, over its last examples only', () => {
    const bands = new LossBands();
    expect(bands.means()).toEqual(new Array(10).fill(null));
    bands.add(Int32Array.of(5, 8, 15, 95, 950), Float32Array.of(1, 3, 7, 0.5, 0.25), 100);
    expect(bands.mean(0)).toBe(2); // t 6 and 9
    expect(bands.mean(1)).toBe(7); // t 16
    expect(bands.mean(5)).toBeNull();
    expect(bands.seen(0)).toBe(2);
    // An index past T is clamped into the last band.
    expect(bands.seen(9)).toBe(2);
    expect(bands.mean(9)).toBe(0.375);
    // A window's worth of new examples pushes the old ones out.
    bands.add(new Int32Array(BAND_WINDOW).fill(3), new Float32Array(BAND_WINDOW).fill(0.1), 100);
    expect(bands.mean(0)).toBeCloseTo(0.1, 6);
    expect(bands.seen(0)).toBe(BAND_WINDOW + 2);
    bands.add(Int32Array.of(3), Float32Array.of(NaN), 100);
    expect(bands.seen(0)).toBe(BAND_WINDOW + 2);
  });

  it('starts over for another T, and on clear', () => {
    const bands = new LossBands();
    bands.add(Int32Array.of(1), Float32Array.of(1), 100);
    bands.add(Int32Array.of(1), Float32Array.of(4), 1000);
    expect(bands.T).toBe(1000);
    expect(bands.mean(0)).toBe(4);
    bands.clear();
    expect(bands.means().every((m) => m === null)).toBe(true);
  });
});
