/**
 * Many samples from a trained DiffusionModel, in batches, as uint8 images [n, 28, 28]: what
 * `npm run sample` writes and `npm run eval` scores. Each batch is one `sampleFrames` run (EMA
 * weights when the model has them; ./sampling.ts), latents decoded to pixels, x ∈ [−1, 1] mapped
 * to round((x + 1) · 127.5).
 *
 * Reproducible: batch k is seeded with `batchSeed(seed, k)` (batch 0 with the seed itself, so a
 * single batch is exactly the app's sampling run with that seed), so the same weights, settings,
 * seed and batch size give the same bytes. Class labels follow the request: one digit for all, or
 * image i of a batch gets digit i mod 10 (a batch size that is a multiple of 10 keeps i mod 10 over
 * the whole set).
 */
import type { NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import { deriveSeed } from '../data/random';
import { unitToPixel } from '../data/mnist';
import type { DiffusionModel } from '../models/diffusion-model';
import { sampleFrames } from './sample';
import type { SamplingRequest } from './config';

export interface GenerateRequest extends SamplingRequest {
  /** Images per sampling run (the last run may be smaller). */
  batch: number;
}

/** The seed of batch k of a run seeded with `seed`. */
export function batchSeed(seed: number, k: number): number {
  return k === 0 ? seed : deriveSeed(seed, 1000 + k);
}

/** Progress after every reverse step of every batch: `done` of `total` steps (batches × steps). */
export type StepCallback = (done: number, total: number) => void;

/**
 * Samples `request.numImages` images; every tensor made here is freed before it returns or throws.
 * `stepBoundary`, when given, is awaited after every reverse step: a cancel point (it throws, e.g.
 * RunCancelled, to stop the run within one step) and a chance for queued messages to get through.
 */
export async function generateImages(
  model: DiffusionModel,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: GenerateRequest,
  onStep?: StepCallback,
  stepBoundary?: () => Promise<void>,
  /** Called after each batch with its steps and model evaluations (the adaptive solver and early stopping choose them). */
  onBatch?: (cost: { steps: number; evaluations: number }) => void,
): Promise<Uint8Array> {
  const { numImages: n, batch } = request;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`generateImages: the number of images must be an integer ≥ 1, got ${n}.`);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`generateImages: the batch size must be an integer ≥ 1, got ${batch}.`);
  const pixels = 28 * 28; // decode() gives [b, 28, 28, 1] for pixel and latent models alike
  const out = new Uint8Array(n * pixels);
  const batches = Math.ceil(n / batch);
  let done = 0;
  for (let k = 0; k < batches; k++) {
    const start = k * batch;
    const b = Math.min(batch, n - start);
    const frames = sampleFrames(model, schedule, prediction, { ...request, numImages: b, seed: batchSeed(request.seed, k) }, true);
    // Leaving the loop early (a throwing stepBoundary) returns the generator, which frees its tensors.
    for (const frame of frames) {
      onStep?.(++done, batches * frame.total);
      if (frame.index === frame.total - 1) {
        onBatch?.({ steps: frame.index + 1, evaluations: frame.evaluations ?? frame.index + 1 });
        // The final x_0: read it before resuming the generator, which disposes it.
        const images = model.decode(frame.xt);
        try {
          const values = await images.data();
          for (let i = 0; i < b * pixels; i++) out[start * pixels + i] = unitToPixel(values[i]);
        } finally {
          images.dispose();
        }
      }
      if (stepBoundary) await stepBoundary();
    }
  }
  return out;
}
