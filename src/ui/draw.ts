/**
 * Drawing image batches ([n, h, w, c]: floats in [-1, 1], or bytes already in 0..255 as the
 * denoising player records them) into a canvas as a grid, with putImageData.
 */
import type { RecordShape } from '../protocol/messages';

/** What can be drawn: float pixels in [-1, 1] (an ImageBatch) or gray levels as bytes. */
export interface Drawable extends RecordShape {
  pixels: Float32Array | Uint8Array;
}

const GAP = 1;

export function gridShape(n: number, maxCols = 8): { cols: number; rows: number } {
  const cols = Math.max(1, Math.min(maxCols, Math.ceil(Math.sqrt(n))));
  return { cols, rows: Math.max(1, Math.ceil(n / cols)) };
}

/**
 * Sizes the canvas to the batch's grid (1 canvas pixel per image pixel; CSS scales it up) and draws
 * it: a near-square grid of at most `maxCols` columns, or exactly `fixedCols` columns when given.
 */
export function drawBatch(canvas: HTMLCanvasElement, batch: Drawable, maxCols = 8, fixedCols?: number): void {
  const { n, h, w, c, pixels } = batch;
  const { cols, rows } = fixedCols ? { cols: fixedCols, rows: Math.max(1, Math.ceil(n / fixedCols)) } : gridShape(n, maxCols);
  const width = cols * w + (cols - 1) * GAP;
  const height = rows * h + (rows - 1) * GAP;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  // One 32-bit write per pixel (RGBA bytes, little-endian: 0xAABBGGRR), gaps in a dim blue so the
  // grid reads as separate images. Bytes and floats take separate loops: the first frame of a run
  // draws some twenty canvases with code not yet optimized, so the loops are kept plain.
  const out = new Uint32Array(img.data.buffer);
  out.fill(GAP_COLOR);
  const bytes = pixels instanceof Uint8Array ? pixels : null;
  const floats = pixels instanceof Float32Array ? pixels : null;
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * (w + GAP);
    const oy = Math.floor(k / cols) * (h + GAP);
    for (let y = 0; y < h; y++) {
      let src = (k * h + y) * w * c;
      let o = (oy + y) * width + ox;
      for (let x = 0; x < w; x++, src += c, o++) {
        if (bytes) {
          out[o] = c >= 3 ? rgba(bytes[src], bytes[src + 1], bytes[src + 2]) : grey(bytes[src]);
        } else if (floats) {
          out[o] = c >= 3 ? rgba(toByte(floats[src]), toByte(floats[src + 1]), toByte(floats[src + 2])) : grey(toByte(floats[src]));
        }
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

const GAP_COLOR = rgba(30, 41, 59);

function rgba(r: number, g: number, b: number): number {
  return (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
}

function grey(v: number): number {
  return (0xff000000 | (v << 16) | (v << 8) | v) >>> 0;
}

function toByte(v: number): number {
  // [-1, 1] -> [0, 255]; NaN shows as black rather than poisoning the frame.
  const b = Math.round((v + 1) * 127.5);
  return b > 255 ? 255 : b >= 0 ? b : 0;
}

/** One image of a batch, 1 canvas pixel per image pixel (CSS scales it up). */
export function drawImage(canvas: HTMLCanvasElement, batch: Drawable, index: number): void {
  const { h, w, c, pixels } = batch;
  const k = Math.min(Math.max(0, index), batch.n - 1);
  if (k < 0) return;
  drawBatch(canvas, { pixels: pixels.subarray(k * h * w * c, (k + 1) * h * w * c), n: 1, h, w, c }, 1);
}

/**
 * One channel of one image (e.g. a latent [n, 7, 7, C]), stretched from its own min..max to
 * black..white: latents have no fixed range, so each channel is normalized for display.
 */
export function drawChannel(canvas: HTMLCanvasElement, batch: Drawable, index: number, channel: number): void {
  const { h, w, c, pixels } = batch;
  const k = Math.min(Math.max(0, index), batch.n - 1);
  if (k < 0 || channel >= c) return;
  const values = new Float32Array(h * w);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < h * w; i++) {
    const v = pixels[(k * h * w + i) * c + channel];
    values[i] = v;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) values[i] = span > 1e-12 ? ((values[i] - lo) / span) * 2 - 1 : 0;
  drawBatch(canvas, { pixels: values, n: 1, h, w, c: 1 }, 1);
}
