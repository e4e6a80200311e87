/**
 * The forward-process explorer's arithmetic, in plain JS on one 28x28 image (784 numbers: no
 * TensorFlow.js needed, and the page never loads it): seeded Gaussian noise, the mix
 * x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε (Ho et al. 2020, Eq. 4), and a soft round brush for drawing a digit.
 * Pixels are in the models' range [-1, 1] (−1 black background, +1 white ink).
 */
import { mulberry32 } from '../diffusion/random';

export const IMAGE_SIZE = 28;
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** `n` standard normal samples from `seed` (Box-Muller on mulberry32), the same for the same seed on every run. */
export function seededGaussian(seed: number, n = IMAGE_PIXELS): Float32Array {
  const uniform = mulberry32(Number.isFinite(seed) ? Math.trunc(seed) : 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - uniform(); // (0, 1]: log is finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** x_t = signal·x0 + noise·ε elementwise (signal = √ᾱ_t, noise = √(1−ᾱ_t)). */
export function forwardMix(x0: ArrayLike<number>, eps: ArrayLike<number>, signal: number, noise: number): Float32Array {
  if (x0.length !== eps.length) throw new Error(`x0 has ${x0.length} values but ε has ${eps.length}.`);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < out.length; i++) out[i] = signal * x0[i] + noise * eps[i];
  return out;
}

/** A blank image: every pixel −1 (black). */
export function blankImage(size = IMAGE_SIZE): Float32Array {
  return new Float32Array(size * size).fill(-1);
}

/**
 * Inks a soft round dot of `radius` pixels centred at (x, y) (image pixel units, origin top-left):
 * full ink within half the radius, fading to none at the radius; ink only ever brightens a pixel.
 * Returns true when any pixel changed.
 */
export function paintDot(img: Float32Array, x: number, y: number, radius = 1.6, size = IMAGE_SIZE): boolean {
  let changed = false;
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      const d = Math.hypot(px + 0.5 - x, py + 0.5 - y);
      const ink = Math.min(1, Math.max(0, (radius - d) / (radius / 2)));
      const v = -1 + 2 * ink;
      const k = py * size + px;
      if (v > img[k]) {
        img[k] = v;
        changed = true;
      }
    }
  }
  return changed;
}

/** Inks a line of dots from (ax, ay) to (bx, by), spaced a quarter pixel apart so it has no gaps. */
export function paintStroke(img: Float32Array, ax: number, ay: number, bx: number, by: number, radius = 1.6, size = IMAGE_SIZE): boolean {
  const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) * 4));
  let changed = false;
  for (let s = 0; s <= steps; s++) {
    const f = s / steps;
    if (paintDot(img, ax + (bx - ax) * f, ay + (by - ay) * f, radius, size)) changed = true;
  }
  return changed;
}
