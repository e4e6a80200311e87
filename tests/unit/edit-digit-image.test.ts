/** Any image → a 28×28 MNIST-style digit (src/data/digit-image.ts). */
import { describe, expect, it } from 'vitest';
import { centreOfMass, resizeArea, toMnistDigit, type RasterImage } from '../../src/data/digit-image';

/** A w×h RGBA image: background colour, and a filled rectangle of ink colour. */
function rect(w: number, h: number, bg: number, ink: number, box: [number, number, number, number], alpha = 255): RasterImage {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = x >= box[0] && x < box[2] && y >= box[1] && y < box[3];
      const v = inside ? ink : bg;
      data.set([v, v, v, inside ? 255 : alpha], (y * w + x) * 4);
    }
  }
  return { width: w, height: h, data, channels: 4 };
}

const inkBox = (p: Uint8Array) => {
  let x0 = 28, y0 = 28, x1 = -1, y1 = -1;
  for (let i = 0; i < 784; i++) {
    if (p[i] > 25) {
      const x = i % 28, y = Math.floor(i / 28);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  return { w: x1 - x0 + 1, h: y1 - y0 + 1 };
};

describe('toMnistDigit', () => {
  it('inverts dark ink on a light background, fits the ink to 20 pixels and centres its mass', () => {
    const out = toMnistDigit(rect(300, 200, 250, 10, [40, 20, 100, 180]));
    expect(out.inverted).toBe(true);
    expect(out.blank).toBe(false);
    expect(inkBox(out.pixels)).toEqual({ w: 8, h: 20 }); // 60×160 → 7.5×20, rounded to 8×20
    const c = centreOfMass(out.pixels);
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out.pixels)).toBe(255);
    expect(out.pixels[0]).toBe(0);
  });

  it('keeps light ink on a dark background as it is, and greys count by luminance', () => {
    const out = toMnistDigit(rect(28, 28, 0, 255, [4, 2, 14, 26]));
    expect(out.inverted).toBe(false);
    expect(inkBox(out.pixels).h).toBe(20);
  });

  it('reads transparent pixels as white paper (a PNG with a transparent background and black strokes)', () => {
    const out = toMnistDigit(rect(64, 64, 0, 0, [20, 10, 40, 54], 0));
    expect(out.inverted).toBe(true);
    expect(inkBox(out.pixels).h).toBe(20);
  });

  it('says so when there is no ink', () => {
    const out = toMnistDigit(rect(50, 50, 200, 200, [0, 0, 0, 0]));
    expect(out.blank).toBe(true);
    expect(out.pixels.every((v) => v === 0)).toBe(true);
  });

  it('rejects data of the wrong length', () => {
    expect(() => toMnistDigit({ width: 4, height: 4, data: new Uint8Array(10), channels: 4 })).toThrow(/bytes/);
  });
});

describe('resizeArea', () => {
  it('keeps the mean (area averaging) and a constant image constant', () => {
    const src = Float32Array.from({ length: 12 * 9 }, (_, i) => (i * 37) % 11);
    const out = resizeArea(src, 12, 9, 5, 4);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(src), 4);
    expect(Array.from(resizeArea(new Float32Array(30).fill(0.7), 6, 5, 3, 7)).every((v) => Math.abs(v - 0.7) < 1e-6)).toBe(true);
  });
});
