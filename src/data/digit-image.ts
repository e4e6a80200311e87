/**
 * Any image as an MNIST digit: 28×28 grey bytes, white ink (255) on black (0), the way LeCun et
 * al. prepared MNIST ("the images were centered in a 28x28 image by computing the center of mass of
 * the pixels, and translating the image so as to position this point at the center of the 28x28
 * field", after size-normalizing each digit to fit a 20×20 box, preserving its aspect ratio).
 *
 * Steps: grey = luminance (Rec. 601) over white where transparent; inverted when the background (the
 * median of the border pixels) is light; the background level subtracted and the ink stretched to
 * 0..1 (the strongest stroke is full ink); cropped to the ink's bounding box; scaled (area averaging) so its longer side is 20 pixels;
 * placed so its centre of mass falls on the centre of the 28×28 field. Pure functions on pixel
 * arrays (Node, the worker and the page's tests alike).
 */

export const DIGIT_SIZE = 28;
/** The box the ink is scaled into (MNIST: 20×20). */
export const DIGIT_BOX = 20;
/** Ink below this (0..1, after the background is removed) does not count for the bounding box. */
const INK_THRESHOLD = 0.1;

export interface RasterImage {
  width: number;
  height: number;
  /** Row-major pixels, `channels` bytes each: 1 grey, 3 RGB or 4 RGBA. */
  data: Uint8Array | Uint8ClampedArray;
  channels: 1 | 2 | 3 | 4;
}

export interface DigitConversion {
  /** 784 bytes, 0 background to 255 ink. */
  pixels: Uint8Array;
  /** The input had a light background and was inverted. */
  inverted: boolean;
  /** No ink was found: the result is blank. */
  blank: boolean;
}

/** Luminance in 0..1 per pixel, transparent pixels composited over white. */
export function toGrey(image: RasterImage): Float32Array {
  const { width, height, data, channels } = image;
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) throw new Error(`image size must be positive integers, got ${width}×${height}.`);
  if (data.length !== width * height * channels) throw new Error(`image data has ${data.length} bytes, expected ${width * height * channels}.`);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const p = i * channels;
    const lum = channels >= 3 ? (0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2]) / 255 : data[p] / 255;
    const alpha = channels === 4 ? data[p + 3] / 255 : channels === 2 ? data[p + 1] / 255 : 1;
    out[i] = lum * alpha + (1 - alpha);
  }
  return out;
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)];
}

/** The border pixels' median: the background level. */
function borderLevel(grey: Float32Array, width: number, height: number): number {
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(grey[x], grey[(height - 1) * width + x]);
  for (let y = 1; y < height - 1; y++) border.push(grey[y * width], grey[y * width + width - 1]);
  return median(border);
}

/** Weights of an area-averaging resampling from n source cells to m target cells: rows of [index, weight]. */
function areaWeights(n: number, m: number): [number, number][][] {
  const scale = n / m;
  return Array.from({ length: m }, (_, j) => {
    const lo = j * scale;
    const hi = (j + 1) * scale;
    const row: [number, number][] = [];
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      if (w > 0) row.push([i, w / scale]);
    }
    return row;
  });
}

/** Area-averaged resize of a w×h float image to tw×th (separable). */
export function resizeArea(src: Float32Array, w: number, h: number, tw: number, th: number): Float32Array {
  const wx = areaWeights(w, tw);
  const wy = areaWeights(h, th);
  const tmp = new Float32Array(tw * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < tw; x++) for (const [i, a] of wx[x]) tmp[y * tw + x] += a * src[y * w + i];
  const out = new Float32Array(tw * th);
  for (let y = 0; y < th; y++) for (const [i, a] of wy[y]) for (let x = 0; x < tw; x++) out[y * tw + x] += a * tmp[i * tw + x];
  return out;
}

/** Converts any image to an MNIST-style digit (see the module doc). */
export function toMnistDigit(image: RasterImage): DigitConversion {
  const { width, height } = image;
  const grey = toGrey(image);
  const bg = borderLevel(grey, width, height);
  const inverted = bg > 0.5;
  const level = inverted ? 1 - bg : bg;
  const ink = new Float32Array(grey.length);
  for (let i = 0; i < ink.length; i++) {
    const v = inverted ? 1 - grey[i] : grey[i];
    ink[i] = Math.max(0, v - level);
  }
  // Stretch the darkest stroke to full ink (MNIST's strokes reach 255).
  let top = 0;
  for (let i = 0; i < ink.length; i++) top = Math.max(top, ink[i]);
  for (let i = 0; i < ink.length; i++) ink[i] = top > INK_THRESHOLD ? ink[i] / top : 0;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > INK_THRESHOLD) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  const pixels = new Uint8Array(DIGIT_SIZE * DIGIT_SIZE);
  if (x1 < 0) return { pixels, inverted, blank: true };
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(ink.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + cw), y * cw);
  const f = DIGIT_BOX / Math.max(cw, ch);
  const tw = Math.max(1, Math.round(cw * f));
  const th = Math.max(1, Math.round(ch * f));
  const box = resizeArea(crop, cw, ch, tw, th);
  // Centre of mass of the box, then the shift that puts it at the field's centre (14, 14).
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = box[y * tw + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const clampShift = (s: number, size: number) => Math.min(DIGIT_SIZE - size, Math.max(0, s));
  const ox = clampShift(Math.round(DIGIT_SIZE / 2 - mx / mass), tw);
  const oy = clampShift(Math.round(DIGIT_SIZE / 2 - my / mass), th);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) pixels[(oy + y) * DIGIT_SIZE + ox + x] = Math.round(255 * Math.min(1, box[y * tw + x]));
  }
  return { pixels, inverted, blank: false };
}

/** The centre of mass (x, y) of a 28×28 digit, in pixel units (pixel centres at k + 0.5). */
export function centreOfMass(pixels: ArrayLike<number>, size = DIGIT_SIZE): { x: number; y: number } {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < size * size; i++) {
    mass += pixels[i];
    mx += pixels[i] * ((i % size) + 0.5);
    my += pixels[i] * (Math.floor(i / size) + 0.5);
  }
  return mass === 0 ? { x: size / 2, y: size / 2 } : { x: mx / mass, y: my / mass };
}
