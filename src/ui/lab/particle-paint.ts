/**
 * Draws one particle pane at a (fractional) position of its run: the training data faint beneath,
 * the chosen particles' paths so far, then every particle, blended between the two nearest
 * recorded positions so playback is smooth at any frame rate.
 *
 * Per frame the cost must stay small with a model training beside it: the background (axes and
 * data) is drawn once and kept as pixels; the particles are stamped into a copy of those pixels
 * (one ImageData, one putImageData: no anti-aliased path of thousands of shapes to rasterize);
 * only the few paths are stroked.
 */
import type { ParticleRecord } from '../../state/lab/particle-record';
import { drawAxes, drawPaths, drawPoints, type View } from './lab-draw';

export interface PaneScene {
  record: ParticleRecord;
  /** Position in the run, 0 (x_T) .. filled − 1, fractional. */
  position: number;
  data: Float32Array | null;
  extent: number;
  /** Indices of the particles whose paths are drawn. */
  paths: number[];
}

const PATH_COLORS = ['#fbbf24', '#f472b6', '#a3e635', '#38bdf8'];
/** The particles' colour (#38bdf8), as a little-endian RGBA word. */
const PARTICLE = (255 << 24) | (248 << 16) | (189 << 8) | 56;

interface Cache {
  key: string;
  data: Float32Array | null;
  background: Uint32Array;
  image: ImageData;
}

const caches = new WeakMap<HTMLCanvasElement, Cache>();

/** The canvas sized to its box × devicePixelRatio, and its cached background pixels. */
function cacheFor(canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D, size: number, px: number, extent: number, data: Float32Array | null): Cache {
  const key = `${px}:${size}:${extent}`;
  const old = caches.get(canvas);
  if (old && old.key === key && old.data === data) return old;
  const dpr = px / size;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#0b1120';
  ctx.fillRect(0, 0, size, size);
  const v: View = { ctx, size, extent };
  drawAxes(v);
  if (data) drawPoints(v, data, 'rgba(148,163,184,0.35)', 1.5);
  const image = ctx.getImageData(0, 0, px, px);
  const cache = { key, data, background: new Uint32Array(image.data.buffer.slice(0)), image };
  caches.set(canvas, cache);
  return cache;
}

export function paintPane(canvas: HTMLCanvasElement, scene: PaneScene): void {
  const size = Math.max(1, Math.round(canvas.clientWidth || canvas.width));
  const dpr = Math.min(3, Math.max(1, globalThis.devicePixelRatio || 1));
  const px = Math.round(size * dpr);
  if (canvas.width !== px || canvas.height !== px) {
    canvas.width = px;
    canvas.height = px;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const cache = cacheFor(canvas, ctx, size, px, scene.extent, scene.data);
  const pixels = new Uint32Array(cache.image.data.buffer);
  pixels.set(cache.background);

  const { filled, n } = scene.record.store.getState();
  const pos = filled > 0 ? Math.max(0, Math.min(filled - 1, scene.position)) : 0;
  const k = Math.floor(pos);
  const f = pos - k;
  const a = filled > 0 ? scene.record.frame(k) : null;
  const b = filled > 0 ? scene.record.frame(Math.min(filled - 1, k + 1)) : null;
  if (a && b) {
    // Particles as squares of about 2 CSS pixels, stamped into the pixels.
    const side = Math.max(2, Math.round(2 * dpr));
    const scale = px / (2 * scene.extent);
    const g = 1 - f;
    for (let i = 0; i + 1 < a.length; i += 2) {
      const x = Math.round((g * a[i] + f * b[i] + scene.extent) * scale) - (side >> 1);
      const y = Math.round((scene.extent - (g * a[i + 1] + f * b[i + 1])) * scale) - (side >> 1);
      if (x < 0 || y < 0 || x + side > px || y + side > px) continue;
      for (let r = 0; r < side; r++) pixels.fill(PARTICLE, (y + r) * px + x, (y + r) * px + x + side);
    }
  }
  ctx.putImageData(cache.image, 0, 0);
  if (!a) return;

  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const v: View = { ctx, size, extent: scene.extent };
  const upTo = f > 0 ? k + 1 : k;
  const chosen = scene.paths.filter((i) => i < n);
  PATH_COLORS.forEach((color, c) => {
    const group = chosen.filter((_, j) => j % PATH_COLORS.length === c).map((i) => scene.record.path(i, upTo));
    // The last segment ends at the blended position, not at the next recorded one.
    if (f > 0)
      for (const p of group) {
        const m = p.length - 2;
        p[m] = p[m - 2] + (p[m] - p[m - 2]) * f;
        p[m + 1] = p[m - 1] + (p[m + 1] - p[m - 1]) * f;
      }
    drawPaths(v, group, color);
  });
}

/** Evenly spread particle indices (the same for both panes: they start from the same noise). */
export function pathIndices(count: number, n: number): number[] {
  if (count <= 0 || n <= 0) return [];
  const m = Math.min(count, n);
  return Array.from({ length: m }, (_, j) => Math.floor(((j + 0.5) * n) / m));
}
