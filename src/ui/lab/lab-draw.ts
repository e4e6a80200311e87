/**
 * Canvas drawing for the 2D lab: a square view of [−extent, extent]², sized for the device pixel
 * ratio, with points, paths and arrows each batched into one path, and heat maps as one ImageData
 * drawn scaled. Nothing here keeps state between frames.
 */
import type { LabGrid } from '../../protocol/lab-messages';

export interface View {
  ctx: CanvasRenderingContext2D;
  /** Side in CSS pixels (the context is scaled by the device pixel ratio). */
  size: number;
  extent: number;
}

/** Sizes the canvas's backing store to its CSS box × devicePixelRatio and returns a scaled context. */
export function prepare(canvas: HTMLCanvasElement, extent: number): View | null {
  const size = Math.max(1, Math.round(canvas.clientWidth || canvas.width));
  const dpr = Math.min(3, Math.max(1, globalThis.devicePixelRatio || 1));
  const px = Math.round(size * dpr);
  if (canvas.width !== px || canvas.height !== px) {
    canvas.width = px;
    canvas.height = px;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#0b1120';
  ctx.fillRect(0, 0, size, size);
  return { ctx, size, extent };
}

export const toX = (v: View, x: number) => ((x + v.extent) / (2 * v.extent)) * v.size;
export const toY = (v: View, y: number) => ((v.extent - y) / (2 * v.extent)) * v.size;
/** A CSS-pixel position in the canvas back to data coordinates. */
export function fromPx(size: number, extent: number, px: number, py: number): [number, number] {
  return [(px / size) * 2 * extent - extent, extent - (py / size) * 2 * extent];
}

/** Faint axes through 0 and a unit grid. */
export function drawAxes(v: View): void {
  const { ctx } = v;
  ctx.strokeStyle = 'rgba(148,163,184,0.15)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let g = -Math.floor(v.extent); g <= v.extent; g++) {
    ctx.moveTo(toX(v, g), 0);
    ctx.lineTo(toX(v, g), v.size);
    ctx.moveTo(0, toY(v, g));
    ctx.lineTo(v.size, toY(v, g));
  }
  ctx.stroke();
}

/** Points [n, 2] as squares of side `r`, one path. */
export function drawPoints(v: View, pts: ArrayLike<number>, color: string, r = 2): void {
  const { ctx } = v;
  ctx.fillStyle = color;
  ctx.beginPath();
  const h = r / 2;
  for (let i = 0; i + 1 < pts.length; i += 2) ctx.rect(toX(v, pts[i]) - h, toY(v, pts[i + 1]) - h, r, r);
  ctx.fill();
}

const layers = new WeakMap<ArrayLike<number>, Map<string, HTMLCanvasElement>>();

/**
 * Axes and data points drawn once into an offscreen canvas per (data, size, colour) and copied onto
 * the view with one drawImage: the field views redraw every time a field arrives (every 1.5 s while
 * training), and rasterizing thousands of point squares into each of them every time cost more
 * than the arrows.
 */
export function drawDataLayer(v: View, pts: ArrayLike<number> | null, color: string, r: number): void {
  const px = v.ctx.canvas.width;
  if (!pts || typeof document === 'undefined') {
    drawAxes(v);
    if (pts) drawPoints(v, pts, color, r);
    return;
  }
  const key = `${px}:${v.size}:${v.extent}:${color}:${r}`;
  let forData = layers.get(pts);
  if (!forData) layers.set(pts, (forData = new Map()));
  let layer = forData.get(key);
  if (!layer) {
    layer = document.createElement('canvas');
    layer.width = px;
    layer.height = px;
    const ctx = layer.getContext('2d');
    if (!ctx) {
      drawAxes(v);
      drawPoints(v, pts, color, r);
      return;
    }
    const dpr = px / v.size;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const off: View = { ctx, size: v.size, extent: v.extent };
    drawAxes(off);
    drawPoints(off, pts, color, r);
    forData.set(key, layer);
  }
  v.ctx.drawImage(layer, 0, 0, v.size, v.size);
}

/** Points at a fractional position between two frames (linear interpolation), one path. */
export function drawBlend(v: View, a: Float32Array, b: Float32Array, f: number, color: string, r = 2): void {
  const { ctx } = v;
  ctx.fillStyle = color;
  ctx.beginPath();
  const h = r / 2;
  const g = 1 - f;
  for (let i = 0; i + 1 < a.length; i += 2) ctx.rect(toX(v, g * a[i] + f * b[i]) - h, toY(v, g * a[i + 1] + f * b[i + 1]) - h, r, r);
  ctx.fill();
}

/** Polylines, each [k, 2], in one path. */
export function drawPaths(v: View, paths: Float32Array[], color: string, width = 1.25): void {
  const { ctx } = v;
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineJoin = 'round';
  ctx.beginPath();
  for (const p of paths) {
    for (let k = 0; k + 1 < p.length; k += 2) {
      if (k === 0) ctx.moveTo(toX(v, p[0]), toY(v, p[1]));
      else ctx.lineTo(toX(v, p[k]), toY(v, p[k + 1]));
    }
  }
  ctx.stroke();
}

/** A perceptual dark-to-bright ramp (after viridis / magma), 256 RGB entries. */
const RAMP = (() => {
  const stops = [
    [11, 17, 32],
    [59, 15, 112],
    [140, 41, 129],
    [222, 73, 104],
    [254, 159, 109],
    [252, 253, 191],
  ];
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const u = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(u));
    const f = u - k;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
  }
  return out;
})();

let scratch: HTMLCanvasElement | null = null;

/**
 * A density on a grid (row-major from (xMin, yMin)) as a heat map over the view, on a square-root
 * scale of its maximum (a log scale hides the modes' shapes, a linear one the tails).
 */
export function drawHeat(v: View, density: ArrayLike<number>, grid: LabGrid): void {
  const { nx, ny } = grid;
  let max = 0;
  for (let i = 0; i < nx * ny; i++) if (density[i] > max) max = density[i];
  scratch ??= document.createElement('canvas');
  scratch.width = nx;
  scratch.height = ny;
  const sctx = scratch.getContext('2d');
  if (!sctx) return;
  const img = sctx.createImageData(nx, ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const d = max > 0 ? Math.sqrt(Math.max(0, density[j * nx + i]) / max) : 0;
      const c = Math.min(255, Math.round(d * 255));
      const o = ((ny - 1 - j) * nx + i) * 4; // row 0 is yMin: the bottom of the canvas
      img.data[o] = RAMP[c * 3];
      img.data[o + 1] = RAMP[c * 3 + 1];
      img.data[o + 2] = RAMP[c * 3 + 2];
      img.data[o + 3] = 255;
    }
  }
  sctx.putImageData(img, 0, 0);
  const dx = (grid.xMax - grid.xMin) / Math.max(1, nx - 1);
  const dy = (grid.yMax - grid.yMin) / Math.max(1, ny - 1);
  const x0 = toX(v, grid.xMin - dx / 2);
  const y0 = toY(v, grid.yMax + dy / 2);
  v.ctx.imageSmoothingEnabled = true;
  v.ctx.drawImage(scratch, x0, y0, toX(v, grid.xMax + dx / 2) - x0, toY(v, grid.yMin - dy / 2) - y0);
}

/** A robust length scale of a field [n, 2]: its 90th-percentile arrow length. */
export function fieldScale(...fields: (Float32Array | null)[]): number {
  const lengths: number[] = [];
  for (const f of fields) if (f) for (let i = 0; i + 1 < f.length; i += 2) lengths.push(Math.hypot(f[i], f[i + 1]));
  if (lengths.length === 0) return 1;
  lengths.sort((a, b) => a - b);
  return lengths[Math.floor(0.9 * (lengths.length - 1))] || 1;
}

/** A field on the grid as arrows, one path; `scale` maps to one grid cell, longer arrows are capped. */
export function drawArrows(v: View, field: ArrayLike<number>, grid: LabGrid, scale: number, color: string): void {
  const { ctx } = v;
  const cell = (v.size / (2 * v.extent)) * ((grid.xMax - grid.xMin) / Math.max(1, grid.nx - 1));
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.3;
  ctx.beginPath();
  for (let j = 0; j < grid.ny; j++) {
    for (let i = 0; i < grid.nx; i++) {
      const k = (j * grid.nx + i) * 2;
      const fx = field[k];
      const fy = field[k + 1];
      const len = Math.hypot(fx, fy);
      if (!(len > 0) || !Number.isFinite(len)) continue;
      const shown = Math.min(1.2, len / scale) * cell * 0.9;
      const ux = fx / len;
      const uy = -fy / len; // canvas y points down
      const x = toX(v, grid.xMin + (i * (grid.xMax - grid.xMin)) / Math.max(1, grid.nx - 1));
      const y = toY(v, grid.yMin + (j * (grid.yMax - grid.yMin)) / Math.max(1, grid.ny - 1));
      const ex = x + ux * shown;
      const ey = y + uy * shown;
      ctx.moveTo(x, y);
      ctx.lineTo(ex, ey);
      const head = Math.min(4, shown * 0.4);
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - head * (ux * 0.87 - uy * 0.5), ey - head * (uy * 0.87 + ux * 0.5));
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - head * (ux * 0.87 + uy * 0.5), ey - head * (uy * 0.87 - ux * 0.5));
    }
  }
  ctx.stroke();
}

/** Schedules one draw on the next animation frame (a later request in the same frame replaces it). */
export function frameDrawer(): { request(draw: () => void): void; cancel(): void } {
  let raf = 0;
  let pending: (() => void) | null = null;
  return {
    request(draw) {
      pending = draw;
      if (raf) return;
      raf = requestAnimationFrame(() => {
        raf = 0;
        const d = pending;
        pending = null;
        d?.();
      });
    },
    cancel() {
      if (raf) cancelAnimationFrame(raf);
      raf = 0;
      pending = null;
    },
  };
}
