/**
 * Frames of the denoising player cross to the page as bytes: a value v in [−range, range] becomes
 * round((v / range + 1) · 127.5), clamped to 0..255 (a quarter of float32's size, and a byte is what
 * a canvas shows anyway). With range 1 this is exactly how the canvases turn pixels in [−1, 1] into
 * gray levels, so a recorded image draws the same as the live one. Shared by worker and page (no tfjs).
 */

/** Images (x_t, the predicted x0, decoded latents) live in [−1, 1]. */
export const IMAGE_RANGE = 1;
/** The predicted noise ε̂ ~ N(0, I) is kept over ±3 standard deviations (99.7 % of it). */
export const NOISE_RANGE = 3;
/** Normalized latents (unit variance, Rombach et al. 2022) are kept over ±4. */
export const LATENT_RANGE = 4;

/** Writes `values` as bytes into `out` from `offset` (NaN becomes 0, like a black pixel). */
export function quantizeInto(values: ArrayLike<number>, range: number, out: Uint8Array, offset = 0): void {
  const scale = 127.5 / range;
  for (let i = 0; i < values.length; i++) {
    const b = Math.round((values[i] + range) * scale);
    out[offset + i] = b > 255 ? 255 : b >= 0 ? b : 0;
  }
}

export function quantize(values: ArrayLike<number>, range: number): Uint8Array {
  const out = new Uint8Array(values.length);
  quantizeInto(values, range, out);
  return out;
}

/** The value a byte stands for (to within range / 255). */
export function dequantize(byte: number, range: number): number {
  return (byte / 127.5 - 1) * range;
}
