/**
 * Plot data for the Schedule panel: β_t, ᾱ_t and log-SNR(t) of every schedule kind under one
 * setting (T, β range, zero terminal SNR), thinned to at most MAX_SCHEDULE_POINTS per series.
 * Pure functions over the float64 tables of src/diffusion/schedule.ts (no tfjs there).
 */
import { SCHEDULE_KINDS, type ScheduleConfig, type ScheduleKind } from '../diffusion/config';
import { makeSchedule, type NoiseSchedule } from '../diffusion/schedule';

/** At most this many points per series, whatever T is. */
export const MAX_SCHEDULE_POINTS = 200;

export const SCHEDULE_QUANTITIES = ['beta', 'alphaBar', 'logSnr'] as const;
export type ScheduleQuantity = (typeof SCHEDULE_QUANTITIES)[number];

/** One plotted point: the paper's t (1..T) and each kind's value there (null where a kind has none). */
export type ScheduleRow = { t: number } & Partial<Record<ScheduleKind, number | null>>;

export interface SchedulePlot {
  /** The schedule of each kind under the same setting; null where that kind's setting is invalid. */
  schedules: Record<ScheduleKind, NoiseSchedule | null>;
  rows: Record<ScheduleQuantity, ScheduleRow[]>;
}

/**
 * 0-based table indices to plot: all of them when T ≤ max, else `max` indices spread evenly from
 * the first (t = 1) to the last (t = T), both included, strictly increasing.
 */
export function thinIndices(T: number, max = MAX_SCHEDULE_POINTS): number[] {
  if (T <= max) return Array.from({ length: T }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (T - 1)) / (max - 1));
    if (out.length === 0 || i > out[out.length - 1]) out.push(i);
  }
  return out;
}

/** The schedule for a config, or null when the config is not valid (the panel shows why). */
export function tryMakeSchedule(cfg: ScheduleConfig): NoiseSchedule | null {
  try {
    return makeSchedule(cfg);
  } catch {
    return null;
  }
}

function table(s: NoiseSchedule, q: ScheduleQuantity): Float64Array {
  return q === 'beta' ? s.betas : q === 'alphaBar' ? s.alphasCumprod : s.logSnr;
}

/** Every kind under `cfg`'s T, β range and rescaling, as rows for a line chart per quantity. */
export function schedulePlot(cfg: ScheduleConfig, max = MAX_SCHEDULE_POINTS): SchedulePlot {
  const schedules = Object.fromEntries(SCHEDULE_KINDS.map((kind) => [kind, tryMakeSchedule({ ...cfg, kind })])) as Record<ScheduleKind, NoiseSchedule | null>;
  const T = Number.isInteger(cfg.T) && cfg.T > 0 ? cfg.T : 0;
  const indices = T > 0 ? thinIndices(T, max) : [];
  const rows = {} as Record<ScheduleQuantity, ScheduleRow[]>;
  for (const q of SCHEDULE_QUANTITIES) {
    rows[q] = indices.map((i) => {
      const row: ScheduleRow = { t: i + 1 };
      for (const kind of SCHEDULE_KINDS) {
        const s = schedules[kind];
        if (!s) continue;
        const v = table(s, q)[i];
        // log-SNR is −∞ where ᾱ_t = 0 (zero terminal SNR), and β is plotted on a log axis: drop what cannot be drawn.
        row[kind] = Number.isFinite(v) && !(q === 'beta' && v <= 0) ? v : null;
      }
      return row;
    });
  }
  return { schedules, rows };
}

/** A y axis: its domain, its ticks, and whether it is logarithmic (base 10). */
export interface Axis {
  domain: [number, number];
  ticks: number[];
  log: boolean;
}

function extent(rows: ScheduleRow[], positiveOnly: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of rows) {
    for (const kind of SCHEDULE_KINDS) {
      const v = row[kind];
      if (typeof v === 'number' && (!positiveOnly || v > 0)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return [lo, hi];
}

/** Decade ticks (…, 1e-3, 0.01, 0.1, 1) spanning the positive values of `rows`, for a log axis. */
export function logDecades(rows: ScheduleRow[]): Axis {
  const [lo, hi] = extent(rows, true);
  if (!(lo <= hi)) return { domain: [1e-4, 1], ticks: [1e-4, 1e-3, 1e-2, 1e-1, 1], log: true };
  const a = Math.floor(Math.log10(lo) + 1e-9);
  const b = Math.max(a + 1, Math.ceil(Math.log10(hi) - 1e-9));
  const ticks = Array.from({ length: b - a + 1 }, (_, k) => Number(`1e${a + k}`));
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, log: true };
}

/** Round ticks (steps of 1, 2, 2.5 or 5 times a power of ten, about `count` of them) covering the values of `rows`. */
export function niceLinear(rows: ScheduleRow[], count = 4): Axis {
  let [lo, hi] = extent(rows, false);
  if (!(lo <= hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 1, hi + 1];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((m) => m >= raw * (1 - 1e-9)) ?? raw;
  const a = Math.floor(lo / step + 1e-9);
  const b = Math.ceil(hi / step - 1e-9);
  const ticks = Array.from({ length: b - a + 1 }, (_, k) => Number(((a + k) * step).toPrecision(12)));
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, log: false };
}

/** The y axis of each quantity: β on decades, ᾱ on [0, 1], log-SNR on round numbers. */
export function axisFor(quantity: ScheduleQuantity, rows: ScheduleRow[]): Axis {
  if (quantity === 'beta') return logDecades(rows);
  if (quantity === 'alphaBar') return { domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1], log: false };
  return niceLinear(rows);
}

/** The plot area inside a chart, in SVG pixels. */
export interface PlotBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * SVG path data of one kind's series: t on [1, T] across the box, the value on the axis up the box
 * (clamped to it), a new subpath after each missing point. Empty when the kind has no points.
 */
export function seriesPath(rows: ScheduleRow[], kind: ScheduleKind, T: number, axis: Axis, box: PlotBox): string {
  const f = (v: number) => (axis.log ? Math.log10(v) : v);
  const y0 = f(axis.domain[0]);
  const span = f(axis.domain[1]) - y0 || 1;
  const xSpan = Math.max(1, T - 1);
  let d = '';
  let pen = false;
  for (const row of rows) {
    const v = row[kind];
    if (typeof v !== 'number' || (axis.log && v <= 0)) {
      pen = false;
      continue;
    }
    const u = Math.min(1, Math.max(0, (f(v) - y0) / span));
    const x = box.left + ((row.t - 1) / xSpan) * box.width;
    const y = box.top + (1 - u) * box.height;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** A compact number for the readouts: 4 significant digits, exponent form below 1e-3, −∞ spelled out. */
export function formatScheduleValue(v: number): string {
  if (v === -Infinity) return '−∞';
  if (v === Infinity) return '∞';
  if (Number.isNaN(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const text = a < 1e-3 || a >= 1e5 ? v.toExponential(2) : v.toPrecision(4);
  return text.replaceAll('-', '−');
}
