/**
 * The page's teaching arithmetic: schedule plot data (thinning, every kind overlaid, what cannot be
 * plotted dropped) and the forward-process explorer's noise, mix and brush. Pure JS, no tensors.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE, SCHEDULE_KINDS, type ScheduleConfig } from '../../src/diffusion/config';
import { makeSchedule } from '../../src/diffusion/schedule';
import { blankImage, forwardMix, IMAGE_PIXELS, paintDot, paintStroke, seededGaussian } from '../../src/ui/forward-math';
import { axisFor, formatScheduleValue, logDecades, MAX_SCHEDULE_POINTS, niceLinear, schedulePlot, seriesPath, thinIndices } from '../../src/ui/schedule-plot';

const cfg = (patch: Partial<ScheduleConfig> = {}): ScheduleConfig => ({ ...DEFAULT_SCHEDULE, ...patch });

describe('thinIndices', () => {
  it('keeps every index up to the limit', () => {
    expect(thinIndices(10, 200)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(thinIndices(200, 200)).toHaveLength(200);
  });

  for (const T of [201, 500, 999, 1000]) {
    it(`spreads at most 200 indices over T = ${T}, first and last included`, () => {
      const idx = thinIndices(T);
      expect(idx.length).toBeLessThanOrEqual(MAX_SCHEDULE_POINTS);
      expect(idx.length).toBeGreaterThan(MAX_SCHEDULE_POINTS * 0.9);
      expect(idx[0]).toBe(0);
      expect(idx[idx.length - 1]).toBe(T - 1);
      for (let k = 1; k < idx.length; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
    });
  }
});

describe('schedulePlot', () => {
  it('overlays every kind at the same thinned t, with the tables’ values', () => {
    const plot = schedulePlot(cfg({ T: 1000 }));
    for (const kind of SCHEDULE_KINDS) expect(plot.schedules[kind]).not.toBeNull();
    const cosine = makeSchedule(cfg({ T: 1000, kind: 'cosine' }));
    for (const q of ['beta', 'alphaBar', 'logSnr'] as const) {
      const rows = plot.rows[q];
      expect(rows.length).toBeLessThanOrEqual(MAX_SCHEDULE_POINTS);
      expect(rows[0].t).toBe(1);
      expect(rows[rows.length - 1].t).toBe(1000);
      for (const kind of SCHEDULE_KINDS) expect(rows.every((r) => typeof r[kind] === 'number')).toBe(true);
    }
    const last = plot.rows.alphaBar[plot.rows.alphaBar.length - 1];
    expect(last.cosine).toBe(cosine.alphasCumprod[999]);
    expect(plot.rows.beta[0].linear).toBeCloseTo(1e-4, 12);
  });

  it('drops points that cannot be drawn: −∞ log-SNR at zero terminal SNR', () => {
    const plot = schedulePlot(cfg({ T: 50, rescaleZeroTerminalSnr: true }));
    const rows = plot.rows.logSnr;
    expect(rows).toHaveLength(50);
    expect(rows[49].linear).toBeNull();
    expect(Number.isFinite(rows[48].linear)).toBe(true);
    expect(plot.rows.beta[49].linear).toBe(1);
  });

  it('leaves out kinds whose settings are invalid, and has no rows for an invalid T', () => {
    const plot = schedulePlot(cfg({ betaStart: 0.05, betaEnd: 0.01 }));
    expect(plot.schedules.linear).toBeNull();
    expect(plot.schedules.cosine).not.toBeNull();
    expect(plot.rows.alphaBar[0]).not.toHaveProperty('linear');
    expect(typeof plot.rows.alphaBar[0].cosine).toBe('number');
    const bad = schedulePlot(cfg({ T: Number.NaN }));
    expect(bad.rows.beta).toEqual([]);
    for (const kind of SCHEDULE_KINDS) expect(bad.schedules[kind]).toBeNull();
  });

  it('spans the β values with decade ticks for the log axis', () => {
    const { domain, ticks } = logDecades(schedulePlot(cfg({ T: 1000 })).rows.beta);
    // cosine's β_1 ≈ 4e-5 and its last β is clipped at 0.999.
    expect(ticks).toEqual([1e-5, 1e-4, 1e-3, 0.01, 0.1, 1]);
    expect(domain).toEqual([1e-5, 1]);
    expect(logDecades([{ t: 1, linear: 0.01 }]).ticks).toEqual([0.01, 0.1]);
    expect(logDecades([]).domain).toEqual([1e-4, 1]);
  });

  it('rounds the log-SNR axis to nice ticks and keeps ᾱ on [0, 1]', () => {
    const rows = schedulePlot(cfg({ T: 1000 })).rows;
    const snr = axisFor('logSnr', rows.logSnr);
    expect(snr.log).toBe(false);
    expect(snr.ticks[0]).toBeLessThanOrEqual(Math.min(...rows.logSnr.map((r) => Math.min(r.linear!, r.cosine!))));
    expect(snr.ticks.length).toBeGreaterThanOrEqual(3);
    expect(snr.ticks.length).toBeLessThanOrEqual(7);
    expect(niceLinear([{ t: 1, linear: -10.1 }, { t: 2, linear: 9.2 }]).ticks).toEqual([-15, -10, -5, 0, 5, 10]);
    expect(niceLinear([{ t: 1, linear: 0.3 }]).ticks.length).toBeGreaterThan(1);
    expect(axisFor('alphaBar', rows.alphaBar).domain).toEqual([0, 1]);
  });

  it('draws a series as a path across the plot box, breaking at missing points', () => {
    const box = { left: 10, top: 0, width: 100, height: 50 };
    const axis = { domain: [0, 1] as [number, number], ticks: [0, 1], log: false };
    const rows = [
      { t: 1, linear: 1 },
      { t: 2, linear: 0.5 },
      { t: 3, linear: null },
      { t: 5, linear: 0 },
    ];
    expect(seriesPath(rows, 'linear', 5, axis, box)).toBe('M10.0,0.0L35.0,25.0M110.0,50.0');
    expect(seriesPath(rows, 'cosine', 5, axis, box)).toBe('');
    const log = { domain: [1e-4, 1] as [number, number], ticks: [], log: true };
    expect(seriesPath([{ t: 1, linear: 1e-2 }, { t: 2, linear: 10 }], 'linear', 2, log, box)).toBe('M10.0,25.0L110.0,0.0');
  });

  it('formats readouts compactly', () => {
    expect(formatScheduleValue(0.02)).toBe('0.02000');
    expect(formatScheduleValue(4.0358e-5)).toBe('4.04e−5');
    expect(formatScheduleValue(-10.1234)).toBe('−10.12');
    expect(formatScheduleValue(-Infinity)).toBe('−∞');
    expect(formatScheduleValue(0)).toBe('0');
  });
});

describe('forward-process explorer arithmetic', () => {
  it('draws the same standard normal noise for the same seed', () => {
    const a = seededGaussian(7);
    expect(a).toHaveLength(IMAGE_PIXELS);
    expect(seededGaussian(7)).toEqual(a);
    expect(seededGaussian(8)).not.toEqual(a);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.12);
    expect(variance).toBeGreaterThan(0.85);
    expect(variance).toBeLessThan(1.15);
    expect(a.every(Number.isFinite)).toBe(true);
  });

  it('mixes x_t = √ᾱ·x0 + √(1−ᾱ)·ε', () => {
    const x0 = Float32Array.from([1, -1, 0.5]);
    const eps = Float32Array.from([0.2, 0.4, -2]);
    const out = forwardMix(x0, eps, 0.6, 0.8);
    expect(Array.from(out)).toEqual([0.6 + 0.16, -0.6 + 0.32, 0.3 - 1.6].map(Math.fround));
    expect(Array.from(forwardMix(x0, eps, 1, 0))).toEqual(Array.from(x0));
    expect(() => forwardMix(x0, eps.subarray(1), 1, 0)).toThrow(/ε has 2/);
  });

  it('inks a soft dot that only brightens, and strokes without gaps', () => {
    const img = blankImage();
    expect(img.every((v) => v === -1)).toBe(true);
    expect(paintDot(img, 14, 14)).toBe(true);
    expect(img[13 * 28 + 13]).toBe(1);
    expect(img[14 * 28 + 14]).toBeGreaterThan(-1);
    expect(img[0]).toBe(-1);
    expect(paintDot(img, 14, 14)).toBe(false);

    const line = blankImage();
    paintStroke(line, 3, 10, 24, 10);
    for (let x = 3; x < 24; x++) expect(line[9 * 28 + x]).toBe(1);
    // Off the image: nothing happens and nothing throws.
    expect(paintDot(line, -10, -10)).toBe(false);
  });
});
