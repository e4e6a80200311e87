/**
 * Training batches over a set of dataset indices, in a seeded random order.
 *
 * The provider walks an endless stream made of back-to-back epochs; each epoch is a fresh
 * seeded shuffle of the index set, so every index appears exactly once per epoch. Batches
 * always hold `batchSize` images: the last batch of an epoch is topped up from the start of
 * the next epoch (no partial batches, no dropped images, one tensor shape for the model).
 *
 * Buffers are reused: `next()` returns the same three typed arrays every call, overwritten in
 * place, so steady-state training allocates nothing here. Copy them (tf.tensor does) before the
 * next call if you need to keep a batch. `preview()` allocates fresh arrays.
 */
import { imagesToUnit, type MnistDataset } from './mnist';
import { createRandom, type RandomState } from './random';

/** One batch. Arrays are owned by the provider and overwritten by the next `next()` call. */
export interface Batch {
  /** Pixels in [-1, 1], layout [batchSize, height, width, 1]. */
  readonly x: Float32Array;
  /** Digit labels 0..9, one per image. */
  readonly labels: Int32Array;
  /** Which dataset images these are (for debugging and tests). */
  readonly indices: Int32Array;
}

/** Images for a preview grid: freshly allocated, safe to transfer to another thread. */
export interface PreviewImages {
  /** Pixels in [-1, 1], layout [count, height, width, 1]. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly indices: Int32Array;
  /** How many images there are (min of the requested count and the set size). */
  readonly count: number;
}

/** Where a provider is in its stream; restore it to resume the exact same batch sequence. */
export interface BatchProviderState {
  readonly epoch: number;
  readonly position: number;
  readonly order: Int32Array;
  readonly rng: RandomState;
}

export interface BatchProvider {
  readonly batchSize: number;
  /** Size of the index set (images per epoch). */
  readonly size: number;
  /** Completed epochs: floor(images drawn so far / size). */
  readonly epoch: number;
  /** The next batch; see the module comment about buffer reuse. */
  next(): Batch;
  /** The first `count` images of the index set, in the order given, with labels. */
  preview(count: number): PreviewImages;
  getState(): BatchProviderState;
  setState(state: BatchProviderState): void;
}

/**
 * Creates a batch provider over `indices` (dataset image indices, e.g. a split's `train`),
 * shuffled with a generator seeded by `seed`. Same dataset, indices, batch size and seed give
 * the same batches. The index array is copied.
 */
export function createBatchProvider(
  dataset: MnistDataset,
  indices: ArrayLike<number>,
  batchSize: number,
  seed: number,
): BatchProvider {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  }
  if (indices.length === 0) throw new Error('Cannot make batches from an empty index set');
  const source = Int32Array.from(indices);
  for (const index of source) {
    if (index < 0 || index >= dataset.count) {
      throw new Error(`Index ${index} is outside the dataset (0..${dataset.count - 1})`);
    }
  }

  const pixels = dataset.height * dataset.width;
  const rng = createRandom(seed);
  const order = source.slice();
  let position = 0;
  let epoch = 0;
  rng.shuffle(order);

  const batch = {
    x: new Float32Array(batchSize * pixels),
    labels: new Int32Array(batchSize),
    indices: new Int32Array(batchSize),
  };

  return {
    batchSize,
    size: source.length,
    get epoch() {
      return epoch;
    },
    next() {
      for (let i = 0; i < batchSize; i++) {
        batch.indices[i] = order[position++];
        if (position === order.length) {
          // Epoch done: reshuffle the previous order in place (no allocation) for the next one.
          epoch++;
          position = 0;
          rng.shuffle(order);
        }
      }
      imagesToUnit(dataset, batch.indices, batch.x);
      for (let i = 0; i < batchSize; i++) batch.labels[i] = dataset.labels[batch.indices[i]];
      return batch;
    },
    preview(count) {
      const n = Math.max(0, Math.min(Math.floor(count), source.length));
      const chosen = source.slice(0, n);
      return {
        x: imagesToUnit(dataset, chosen),
        labels: Int32Array.from(chosen, (index) => dataset.labels[index]),
        indices: chosen,
        count: n,
      };
    },
    getState: () => ({ epoch, position, order: order.slice(), rng: rng.getState() }),
    setState(state) {
      if (state.order.length !== order.length || state.position >= order.length) {
        throw new Error('Batch provider state does not match this index set');
      }
      order.set(state.order);
      position = state.position;
      epoch = state.epoch;
      rng.setState(state.rng);
    },
  };
}
