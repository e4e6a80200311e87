/**
 * A non-diffusion reference for inpainting (issue 21's target): complete each digit's unknown rows
 * with those of the training digit nearest to it on the known rows (1-nearest neighbour, squared
 * Euclidean distance on the pixel bytes), as in exemplar-based completion (Hays & Efros 2007,
 * "Scene Completion Using Millions of Photographs", in its simplest form). What a classifier makes
 * of these completions says how much of the label the known rows carry, whatever fills the rest.
 */

const PIXELS = 784;

export interface NearestCompletion {
  /** The completions, uint8 [n, 28, 28]: the known rows of each digit, the rest of its neighbour. */
  images: Uint8Array;
  /** Index (into `train`) of each digit's nearest neighbour. */
  neighbours: Int32Array;
}

/**
 * Completes `n` digits (uint8 [n, 28, 28]) whose first `knownRows` rows are known from the training
 * digits `train` (uint8 [m, 28, 28]). The distance sees only the known rows; the completion keeps
 * them and takes the other rows from the nearest training digit.
 */
export function nearestCompletion(digits: Uint8Array, n: number, train: Uint8Array, knownRows = 14): NearestCompletion {
  const m = train.length / PIXELS;
  if (!Number.isInteger(m) || digits.length < n * PIXELS) throw new Error('nearestCompletion: images must be 28×28 bytes each.');
  if (!(Number.isInteger(knownRows) && knownRows >= 1 && knownRows <= 28)) throw new Error(`knownRows must be an integer in 1..28, got ${knownRows}.`);
  const known = knownRows * 28;
  const images = new Uint8Array(n * PIXELS);
  const neighbours = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i * PIXELS;
    let best = Infinity;
    let arg = 0;
    for (let j = 0; j < m; j++) {
      const b = j * PIXELS;
      let d = 0;
      for (let p = 0; p < known && d < best; p++) {
        const e = digits[a + p] - train[b + p];
        d += e * e;
      }
      if (d < best) {
        best = d;
        arg = j;
      }
    }
    neighbours[i] = arg;
    images.set(digits.subarray(a, a + known), a);
    images.set(train.subarray(arg * PIXELS + known, (arg + 1) * PIXELS), a + known);
  }
  return { images, neighbours };
}
