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
import { drawPaths, type View } from './lab-draw';

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
/** Colours as little-endian RGBA words: the particles (#38bdf8) and the background (#0b1120). */
const rgba = (r: number, g: number, b: number) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
const PARTICLE = rgba(56, 189, 248);
const BACKGROUND = rgba(11, 17, 32);
/** The axes' and the data's colour (slate 148,163,184) and their opacities. */
const SLATE = [148, 163, 184] as const;
const AXES_ALPHA = 0.15;
const DATA_ALPHA = 0.35;

interface Cache {
  key: string;
  data: Float32Array | null;
  background: Uint32Array;
  image: ImageData;
}

const caches = new WeakMap<HTMLCanvasElement, Cache>();

/** Blends `alpha` of the slate colour over the pixel at `i` (source-over, opaque destination). */
function blendSlate(pixels: Uint32Array, i: number, alpha: number): void {
  const p = pixels[i];
  const r = p & 255;
  const g = (p >>> 8) & 255;
  const b = (p >>> 16) & 255;
  pixels[i] = rgba(Math.round(r + (SLATE[0] - r) * alpha), Math.round(g + (SLATE[1] - g) * alpha), Math.round(b + (SLATE[2] - b) * alpha));
}

/**
 * The pane's background as pixels, computed here (no canvas drawing and no getImageData, which
 * reads the canvas back from the GPU and cost tens of milliseconds on the main thread whenever the
 * data set changed): the dark ground, faint unit grid lines and the training data as faint squares.
 */
export function backgroundPixels(px: number, dpr: number, extent: number, data: Float32Array | null): Uint32Array {
  const pixels = new Uint32Array(px * px).fill(BACKGROUND);
  const scale = px / (2 * extent);
  const line = Math.max(1, Math.round(dpr));
  for (let g = -Math.floor(extent); g <= extent; g++) {
    const c = Math.round((g + extent) * scale - line / 2);
    const r = Math.round((extent - g) * scale - line / 2);
    for (let w = 0; w < line; w++) {
      if (c + w >= 0 && c + w < px) for (let y = 0; y < px; y++) blendSlate(pixels, y * px + c + w, AXES_ALPHA);
      if (r + w >= 0 && r + w < px) for (let x = 0; x < px; x++) blendSlate(pixels, (r + w) * px + x, AXES_ALPHA);
    }
  }
  if (data) {
    const side = Math.max(1, Math.round(1.5 * dpr));
    for (let i = 0; i + 1 < data.length; i += 2) {
      const x = Math.round((data[i] + extent) * scale - side / 2);
      const y = Math.round((extent - data[i + 1]) * scale - side / 2);
      if (x < 0 || y < 0 || x + side > px || y + side > px) continue;
      for (let r = 0; r < side; r++) for (let q = 0; q < side; q++) blendSlate(pixels, (y + r) * px + x + q, DATA_ALPHA);
    }
  }
  return pixels;
}

/** The canvas's cached background pixels and its ImageData (made again when the size, extent or data change). */
function cacheFor(canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D, size: number, px: number, extent: number, data: Float32Array | null): Cache {
  const key = `${px}:${size}:${extent}`;
  const old = caches.get(canvas);
  if (old && old.key === key && old.data === data) return old;
  const image = old && old.image.width === px ? old.image : ctx.createImageData(px, px);
  const cache = { key, data, background: backgroundPixels(px, px / size, extent, data), image };
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
