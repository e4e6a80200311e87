/**
 * The MNIST digits as one compact binary file (public/data/mnist.bin, built by
 * scripts/build-mnist.mjs), its parser, the train / held-out split and pixel conversions.
 *
 * Format version 1 (integers little-endian uint32):
 *   bytes 0-3 magic 'MNST', 4-7 version, 8-11 count, 12-15 height, 16-19 width,
 *   then count*height*width uint8 pixels (round(v*255), image after image, row-major),
 *   then count uint8 labels.
 * The file holds digits round-robin by label (0,1,...,9,0,1,...); the parser does not rely on it.
 *
 * Pure TypeScript: no TensorFlow.js, DOM or Node APIs, so the worker, Node and tests share it.
 */
import { createRandom } from './random';

export const MNIST_MAGIC = 'MNST';
export const MNIST_FORMAT_VERSION = 1;
export const MNIST_HEADER_BYTES = 20;
/** Number of classes; labels are 0..9. */
export const MNIST_CLASSES = 10;

/** The parsed file. `images` is count*height*width bytes; `labels` is count bytes. */
export interface MnistDataset {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

/** Dataset indices, each array sorted ascending, disjoint, together covering 0..count-1. */
export interface TrainHeldOutSplit {
  readonly train: Int32Array;
  readonly heldOut: Int32Array;
}

/** A loaded dataset with its fixed train / held-out split: what training and evaluation read. */
export interface DataState {
  dataset: MnistDataset;
  split: TrainHeldOutSplit;
}

/** Fixed seed of the split's per-label shuffle: the split is the same on every run. */
export const SPLIT_SEED = 0x6d6e6973;

/**
 * Parses and validates a mnist.bin buffer. The returned arrays are views into `buffer`
 * (no copy). Throws an Error naming the problem: bad magic, unsupported version, bad
 * dimensions, truncated or oversized data, or out-of-range labels.
 */
export function parseMnist(buffer: ArrayBuffer): MnistDataset {
  const size = buffer.byteLength;
  if (size < MNIST_HEADER_BYTES) {
    throw new Error(
      `MNIST file truncated: ${size} bytes is shorter than the ${MNIST_HEADER_BYTES}-byte header`,
    );
  }
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== MNIST_MAGIC) {
    throw new Error(`MNIST file has bad magic ${JSON.stringify(magic)}, expected "${MNIST_MAGIC}"`);
  }
  const version = view.getUint32(4, true);
  if (version !== MNIST_FORMAT_VERSION) {
    throw new Error(
      `MNIST file has unsupported format version ${version}, expected ${MNIST_FORMAT_VERSION}`,
    );
  }
  const count = view.getUint32(8, true);
  const height = view.getUint32(12, true);
  const width = view.getUint32(16, true);
  if (count === 0 || height === 0 || width === 0 || height > 4096 || width > 4096) {
    throw new Error(`MNIST file has bad dimensions: count ${count}, ${height}x${width}`);
  }
  const pixelBytes = count * height * width;
  const expected = MNIST_HEADER_BYTES + pixelBytes + count;
  if (size < expected) {
    throw new Error(
      `MNIST file truncated: ${size} bytes, expected ${expected} for ${count} images of ${height}x${width}`,
    );
  }
  if (size > expected) {
    throw new Error(
      `MNIST file has ${size - expected} unexpected trailing bytes (expected ${expected} bytes)`,
    );
  }
  const images = new Uint8Array(buffer, MNIST_HEADER_BYTES, pixelBytes);
  const labels = new Uint8Array(buffer, MNIST_HEADER_BYTES + pixelBytes, count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= MNIST_CLASSES) {
      throw new Error(`MNIST file has label ${labels[i]} at index ${i}, expected 0..9`);
    }
  }
  return { count, height, width, images, labels };
}

/** How many images carry each label (index = label). */
export function labelCounts(dataset: MnistDataset, indices?: ArrayLike<number>): number[] {
  const counts = new Array<number>(MNIST_CLASSES).fill(0);
  const n = indices ? indices.length : dataset.count;
  for (let i = 0; i < n; i++) counts[dataset.labels[indices ? indices[i] : i]]++;
  return counts;
}

/**
 * Splits the dataset into training and held-out indices, stratified by label and the same on
 * every run. Exactly round(count * heldOutFraction) images are held out, apportioned to labels
 * by largest remainder (each label gets floor(n_l * f) or one more); within a label, which
 * images are held out is chosen by a shuffle seeded with `seed` (default {@link SPLIT_SEED}).
 */
export function splitTrainHeldOut(
  dataset: MnistDataset,
  heldOutFraction = 0.1,
  seed = SPLIT_SEED,
): TrainHeldOutSplit {
  if (!(heldOutFraction >= 0 && heldOutFraction <= 1)) {
    throw new Error(`heldOutFraction must be in [0, 1], got ${heldOutFraction}`);
  }
  const byLabel: number[][] = Array.from({ length: MNIST_CLASSES }, () => []);
  for (let i = 0; i < dataset.count; i++) byLabel[dataset.labels[i]].push(i);

  // Largest-remainder apportionment of the held-out total over the labels.
  const total = Math.round(dataset.count * heldOutFraction);
  const quotas = byLabel.map((ids) => Math.floor(ids.length * heldOutFraction));
  const order = byLabel
    .map((ids, label) => ({ label, rest: ids.length * heldOutFraction - quotas[label] }))
    .sort((p, q) => q.rest - p.rest || p.label - q.label);
  let missing = total - quotas.reduce((a, b) => a + b, 0);
  for (const { label } of order) {
    if (missing <= 0) break;
    if (quotas[label] < byLabel[label].length) {
      quotas[label]++;
      missing--;
    }
  }

  const rng = createRandom(seed);
  const isHeldOut = new Uint8Array(dataset.count);
  byLabel.forEach((ids, label) => {
    const shuffled = rng.shuffle(ids.slice());
    for (let k = 0; k < quotas[label]; k++) isHeldOut[shuffled[k]] = 1;
  });
  const train = new Int32Array(dataset.count - total);
  const heldOut = new Int32Array(total);
  let t = 0;
  let h = 0;
  for (let i = 0; i < dataset.count; i++) {
    if (isHeldOut[i]) heldOut[h++] = i;
    else train[t++] = i;
  }
  return { train, heldOut };
}

/** A pixel byte (0..255) to the diffusion models' range: p / 127.5 - 1, in [-1, 1]. */
export function pixelToUnit(p: number): number {
  return p / 127.5 - 1;
}

/** The inverse of {@link pixelToUnit}, clamped and rounded to a byte (for display). */
export function unitToPixel(x: number): number {
  const p = Math.round((x + 1) * 127.5);
  return p < 0 ? 0 : p > 255 ? 255 : p;
}

/** pixelToUnit for every byte value, as float32 (what the batches hold). */
export const PIXEL_TO_UNIT: Float32Array = Float32Array.from({ length: 256 }, (_, p) =>
  pixelToUnit(p),
);

/**
 * Writes image `index` into `out` at element `offset` as float32 in [-1, 1] (height*width
 * values, row-major, one channel), and returns `out`.
 */
export function imageToUnit(
  dataset: MnistDataset,
  index: number,
  out: Float32Array,
  offset = 0,
): Float32Array {
  const pixels = dataset.height * dataset.width;
  if (!(index >= 0 && index < dataset.count)) {
    throw new Error(`Image index ${index} is outside 0..${dataset.count - 1}`);
  }
  if (offset < 0 || offset + pixels > out.length) {
    throw new Error(`Output too small: needs ${offset + pixels} floats, has ${out.length}`);
  }
  const start = index * pixels;
  for (let i = 0; i < pixels; i++) out[offset + i] = PIXEL_TO_UNIT[dataset.images[start + i]];
  return out;
}

/**
 * The images at `indices` as one float32 array in [-1, 1], layout [n, height, width, 1].
 * Pass `out` (at least n*height*width long) to reuse a buffer.
 */
export function imagesToUnit(
  dataset: MnistDataset,
  indices: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const pixels = dataset.height * dataset.width;
  const target = out ?? new Float32Array(indices.length * pixels);
  for (let i = 0; i < indices.length; i++) imageToUnit(dataset, indices[i], target, i * pixels);
  return target;
}
