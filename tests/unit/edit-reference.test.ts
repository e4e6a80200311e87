/**
 * The non-diffusion references of eval:edit: the nearest-neighbour completion
 * (src/sampling/edit-knn.ts) and the training digits' posterior label of a noised digit
 * (src/sampling/edit-sdedit-information.ts), on small synthetic "digits".
 */
import { describe, expect, it } from 'vitest';
import { nearestCompletion } from '../../src/sampling/edit-knn';
import { noisedPosteriorLabels } from '../../src/sampling/edit-sdedit-information';

const PIXELS = 784;

/** m 28×28 byte images, image j filled with value (j·37 + p·k) mod 256 for a per-image k. */
function images(m: number, seed: number): Uint8Array {
  const out = new Uint8Array(m * PIXELS);
  for (let j = 0; j < m; j++) for (let p = 0; p < PIXELS; p++) out[j * PIXELS + p] = (j * 37 + p * ((j + seed) % 7 + 1)) % 256;
  return out;
}

describe('nearest-neighbour completion', () => {
  it('keeps the known rows and takes the rest from the training digit nearest on them', () => {
    const train = images(5, 0);
    // Digit 0 is training digit 3's upper half over a blank lower half; digit 1 is training digit 1 with noise.
    const digits = new Uint8Array(2 * PIXELS);
    digits.set(train.subarray(3 * PIXELS, 3 * PIXELS + 392), 0);
    for (let p = 0; p < PIXELS; p++) digits[PIXELS + p] = Math.min(255, train[PIXELS + p] + (p % 3));
    const { images: out, neighbours } = nearestCompletion(digits, 2, train);
    expect(Array.from(neighbours)).toEqual([3, 1]);
    expect(Array.from(out.subarray(0, 392))).toEqual(Array.from(digits.subarray(0, 392)));
    expect(Array.from(out.subarray(392, PIXELS))).toEqual(Array.from(train.subarray(3 * PIXELS + 392, 4 * PIXELS)));
    expect(Array.from(out.subarray(PIXELS, PIXELS + 392))).toEqual(Array.from(digits.subarray(PIXELS, PIXELS + 392)));
    expect(() => nearestCompletion(digits, 2, train, 0)).toThrow(/knownRows/);
  });
});

describe("the training digits' posterior label of x_t", () => {
  const d = 16;
  const m = 6;
  const train = Float32Array.from({ length: m * d }, (_, i) => Math.sin(i * 1.7) * ((i % d) / d));
  const labels = [0, 0, 1, 2, 2, 2];

  it('at little noise it is the label of the digit x_t was made from', () => {
    const ab = 0.999;
    const xt = new Float32Array(m * d);
    for (let i = 0; i < m * d; i++) xt[i] = Math.sqrt(ab) * train[i];
    expect(Array.from(noisedPosteriorLabels(xt, m, train, labels, ab, 3))).toEqual(labels);
  });

  it('at almost pure noise it is the class with the most training digits (the prior)', () => {
    const xt = Float32Array.from({ length: 2 * d }, (_, i) => Math.cos(i));
    expect(Array.from(noisedPosteriorLabels(xt, 2, train, labels, 1e-9, 3))).toEqual([2, 2]);
    expect(() => noisedPosteriorLabels(xt, 2, train, labels, 1, 3)).toThrow(/ᾱ/);
  });
});
