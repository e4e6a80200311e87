/**
 * The latent denoiser's training data (stage 2 of latent diffusion, Rombach et al. 2022): the frozen
 * encoder's normalized latents z = (mean − shift) · scale of the training images, encoded once and
 * kept, so that a training step runs the denoiser alone instead of the encoder too (the encoder was
 * about 45 % of a tiny LDM's step; `npm run bench:latent-cache` measures the difference).
 *
 * What is cached is exactly what DiffusionModel.encode gives: the posterior mean, shifted and scaled
 * (the code has never sampled z ~ q(z|x) for the denoiser), read back as float32, so a step on cached
 * latents takes the same x0 as a step that encodes its batch.
 *
 * The cache fills as training goes: a batch with an image not encoded yet is encoded whole (one
 * tensor shape, as the step itself) and its latents kept, so the first epoch costs what it did and
 * every later batch is a copy. It belongs to one data set, one autoencoder, its weights and its
 * latent normalization: when any of them changes (a new data set, stage 1 trained again, a model
 * restored or imported), the next batch finds the key changed and the cache starts over.
 *
 * Memory: one float32 latent per training image, 9,000 × 7 × 7 × C × 4 bytes (6.7 MiB for C = 4),
 * in JavaScript memory, not on the device; it holds no tensor between calls.
 */
import * as tf from '@tensorflow/tfjs';
import type { MnistDataset } from '../data/mnist';
import type { DiffusionModel, LatentNormalization } from '../models/diffusion-model';
import type { Autoencoder } from '../models/autoencoder';

/** What the cached latents were made from; any change empties the cache. */
export interface LatentCacheKey {
  dataset: MnistDataset;
  autoencoder: Autoencoder;
  /** The normalization object itself (a new one is measured after every stage-1 run). */
  latent: LatentNormalization;
  /** The autoencoder's training steps (its weights' version). */
  autoencoderSteps: number;
}

/** A batch in pixel space: images in [−1, 1], [b, 28, 28, 1], and which dataset images they are. */
export interface PixelBatch {
  readonly x: Float32Array;
  readonly indices: Int32Array;
}

const sameKey = (a: LatentCacheKey, b: LatentCacheKey) =>
  a.dataset === b.dataset && a.autoencoder === b.autoencoder && a.latent === b.latent && a.autoencoderSteps === b.autoencoderSteps;

export class LatentCache {
  private key: LatentCacheKey | null = null;
  /** Dataset index → slot in `values` (−1: not an image this cache serves). */
  private readonly slotOf: Int32Array;
  private readonly slots: number;
  /** Latent size per image (7·7·C), set with the key. */
  private size = 0;
  private values: Float32Array | null = null;
  private filled: Uint8Array | null = null;
  /** The batch handed to the trainer, reused (overwritten by the next call). */
  private out = new Float32Array(0);
  /** Images whose latents are cached; batches encoded and batches copied since the last invalidation. */
  cachedImages = 0;
  encodedBatches = 0;
  cachedBatches = 0;

  /** A cache for the images `indices` (e.g. the training split) of `dataset`. */
  constructor(
    readonly dataset: MnistDataset,
    indices: ArrayLike<number>,
  ) {
    this.slotOf = new Int32Array(dataset.count).fill(-1);
    for (let i = 0; i < indices.length; i++) this.slotOf[indices[i]] = i;
    this.slots = indices.length;
  }

  /** Bytes held (0 until the first batch). */
  get bytes(): number {
    return (this.values?.byteLength ?? 0) + (this.filled?.byteLength ?? 0);
  }

  /** Forgets every latent (the next batch encodes again). */
  invalidate(): void {
    this.key = null;
    this.values = null;
    this.filled = null;
    this.cachedImages = 0;
    this.encodedBatches = 0;
    this.cachedBatches = 0;
  }

  /**
   * The normalized latents of `batch` ([b, 7, 7, C] as floats, valid until the next call): copied
   * from the cache when every image is in it, else the batch is encoded and kept.
   */
  async latents(model: DiffusionModel, batch: PixelBatch, autoencoderSteps: number): Promise<Float32Array> {
    if (model.autoencoder == null || model.latent == null) throw new Error('internal: the latent cache needs a latent model with a trained autoencoder.');
    const key: LatentCacheKey = { dataset: this.dataset, autoencoder: model.autoencoder, latent: model.latent, autoencoderSteps };
    if (this.key == null || !sameKey(this.key, key)) this.reset(key, model);
    const values = this.values!;
    const filled = this.filled!;
    const size = this.size;
    const b = batch.indices.length;
    const slots = Array.from(batch.indices, (index) => {
      const slot = this.slotOf[index] ?? -1;
      if (slot < 0) throw new Error(`internal: image ${index} is not one the latent cache serves.`);
      return slot;
    });
    if (this.out.length !== b * size) this.out = new Float32Array(b * size);
    const out = this.out;
    if (slots.every((slot) => filled[slot])) {
      slots.forEach((slot, i) => out.set(values.subarray(slot * size, (slot + 1) * size), i * size));
      this.cachedBatches++;
      return out;
    }
    const z = tf.tidy(() => model.encode(tf.tensor4d(batch.x, [b, 28, 28, 1])));
    try {
      out.set((await z.data()) as Float32Array);
    } finally {
      z.dispose();
    }
    slots.forEach((slot, i) => {
      if (!filled[slot]) this.cachedImages++;
      values.set(out.subarray(i * size, (i + 1) * size), slot * size);
      filled[slot] = 1;
    });
    this.encodedBatches++;
    return out;
  }

  private reset(key: LatentCacheKey, model: DiffusionModel): void {
    const [, h, w, c] = model.sampleShape(1);
    this.invalidate();
    this.key = key;
    this.size = h * w * c;
    this.values = new Float32Array(this.slots * this.size);
    this.filled = new Uint8Array(this.slots);
  }
}
