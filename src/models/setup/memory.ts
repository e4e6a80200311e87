/**
 * The memory guard's arithmetic: how many bytes a training step or a sampling
 * run of a setup needs, and whether that fits what the device can hold. Pure data (no TensorFlow.js):
 * the engine checks before it starts a run, and the arithmetic is unit-tested in Node.
 *
 * Training a stage keeps: its weights, their gradients and Adam's two moments (4 copies), an EMA
 * copy of the denoiser when EMA is on, the other networks' weights (a latent model's frozen
 * autoencoder), and the batch's activations: every layer output of the forward pass (the layouts
 * count them per image) held for the backward pass, plus the gradients flowing back through them.
 * Sampling keeps the weights (and EMA copy) and one forward pass of the batch (2n images with
 * classifier-free guidance), freed layer by layer. Everything is float32.
 *
 * The factors are deliberately on the high side: measured peaks (tf.profile on wasm, see
 * tests/unit/robust-memory.test.ts) stay below the estimate, so what the guard lets through fits.
 */
import { unetLayout } from './unet-config';
import { autoencoderLayout } from './autoencoder-config';
import { autoencoderConfigOf, denoiserConfigOf } from './model-setup';
import type { ModelSetup } from './model-setup';
import type { TrainingStage } from '../../engine/run-config';

const FLOAT_BYTES = 4;
/** Live activation bytes of a training step per forward element: the forward outputs, their gradients, temporaries. */
export const TRAIN_ACTIVATION_FACTOR = 3.5;
/** Live activation bytes of a sampling step per forward element (intermediates are freed as the pass goes). */
export const SAMPLE_ACTIVATION_FACTOR = 1;
/** Per weight in training: the weight, its gradient, Adam's first and second moments. */
const TRAINED_WEIGHT_COPIES = 4;
/** Fixed overhead: the dataset slice, the schedule tables, the preview and backend bookkeeping. */
const OVERHEAD_BYTES = 32 * 2 ** 20;

export interface MemoryEstimate {
  /** Total bytes the run needs at its peak. */
  bytes: number;
  /** The parts, for the message: weights (and optimizer state), activations of the batch. */
  weightBytes: number;
  activationBytes: number;
  /** Bytes per image of the batch (activations only), to say how large a batch would fit. */
  bytesPerImage: number;
  /** The largest single tensor (one buffer on a GPU): a conv's unfolded input or attention's scores. */
  largestTensorBytes: number;
}

interface NetworkFigures {
  params: number;
  activationsPerImage: number;
  largestPerImage: number;
}

function countParams(weights: { shape: number[] }[]): number {
  return weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
}

function denoiserFigures(setup: ModelSetup): NetworkFigures {
  const config = denoiserConfigOf(setup);
  const layout = unetLayout(config);
  // The widest layer: the first up block's concat at full resolution, unfolded for a 3x3 conv (im2col).
  const side = config.imageSize;
  const widest = 9 * side * side * config.baseChannels * config.channelMult[0] * 2;
  return { params: countParams(layout.weights), activationsPerImage: layout.activationsPerImage, largestPerImage: widest };
}

function autoencoderFigures(setup: ModelSetup): NetworkFigures | null {
  const config = autoencoderConfigOf(setup);
  if (config == null) return null;
  const layout = autoencoderLayout(config);
  const widest = 9 * config.imageSize * config.imageSize * config.channels[0];
  return { params: countParams(layout.weights), activationsPerImage: layout.activationsPerImage, largestPerImage: widest };
}

/** An estimate from its parts: fixed overhead, weights, and activations per image of the batch. */
function estimate(weightBytes: number, bytesPerImage: number, images: number, largestTensorBytes: number): MemoryEstimate {
  const activationBytes = bytesPerImage * images;
  return { bytes: OVERHEAD_BYTES + weightBytes + activationBytes, weightBytes, activationBytes, bytesPerImage, largestTensorBytes };
}

/** Memory of training `stage` of `setup` at `batchSize` images per step. */
export function trainingMemory(setup: ModelSetup, stage: TrainingStage, batchSize: number): MemoryEstimate {
  const denoiser = denoiserFigures(setup);
  const ae = autoencoderFigures(setup);
  const trained = stage === 'autoencoder' && ae ? ae : denoiser;
  const frozen = stage === 'autoencoder' ? denoiser : ae;
  const emaCopies = stage === 'denoiser' && setup.emaDecay > 0 ? 1 : 0;
  const weightBytes = FLOAT_BYTES * (trained.params * (TRAINED_WEIGHT_COPIES + emaCopies) + (frozen?.params ?? 0));
  // A latent denoiser's batch is encoded first (forward only); the autoencoder's stage runs encode + decode.
  let perImage = TRAIN_ACTIVATION_FACTOR * FLOAT_BYTES * trained.activationsPerImage;
  if (stage === 'denoiser' && ae) perImage += SAMPLE_ACTIVATION_FACTOR * FLOAT_BYTES * ae.activationsPerImage;
  return estimate(weightBytes, perImage, batchSize, FLOAT_BYTES * batchSize * Math.max(trained.largestPerImage, ae?.largestPerImage ?? 0));
}

/** Memory of sampling `numImages` images (the denoiser sees twice as many with guidance). */
export function samplingMemory(setup: ModelSetup, numImages: number, guided: boolean): MemoryEstimate {
  const denoiser = denoiserFigures(setup);
  const ae = autoencoderFigures(setup);
  const rows = numImages * (guided ? 2 : 1);
  const emaCopies = setup.emaDecay > 0 ? 1 : 0;
  const weightBytes = FLOAT_BYTES * (denoiser.params * (1 + emaCopies) + (ae?.params ?? 0));
  const perImage = SAMPLE_ACTIVATION_FACTOR * FLOAT_BYTES * (denoiser.activationsPerImage * (guided ? 2 : 1) + (ae?.activationsPerImage ?? 0));
  return estimate(weightBytes, perImage, numImages, FLOAT_BYTES * Math.max(rows * denoiser.largestPerImage, numImages * (ae?.largestPerImage ?? 0)));
}

/** What the device can hold, as the engine finds it (src/backends/memory-limits.ts). */
export interface MemoryBudget {
  /** The backend in use (for the message). */
  backend: string;
  /** Bytes a run may use in all. */
  totalBytes: number;
  /** Bytes one tensor may have (a GPU buffer binding); Infinity when there is no such limit. */
  maxTensorBytes: number;
  /** Where the budget comes from, in words, e.g. "the 4 GiB WebAssembly heap, half kept free". */
  source: string;
}

/** Bytes in words: "1.5 GiB", "12 MiB", "900 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The largest count of images per step that fits (0 when not even one does). */
export function largestFitting(estimate: MemoryEstimate, count: number, budget: MemoryBudget): number {
  const fixed = estimate.bytes - estimate.activationBytes;
  const byTotal = Math.floor((budget.totalBytes - fixed) / estimate.bytesPerImage);
  const perImageTensor = estimate.largestTensorBytes / Math.max(1, count);
  const byTensor = Number.isFinite(budget.maxTensorBytes) ? Math.floor(budget.maxTensorBytes / perImageTensor) : Infinity;
  return Math.max(0, Math.min(byTotal, byTensor));
}

/**
 * Null when the run fits the budget; otherwise a message that names the count (batch size or
 * number of images), the memory it needs, what the device holds, and the largest count that fits.
 */
export function memoryProblem(estimate: MemoryEstimate, budget: MemoryBudget, what: { label: string; count: number; run: string }): string | null {
  const tooBig = estimate.bytes > budget.totalBytes;
  const tensorTooBig = estimate.largestTensorBytes > budget.maxTensorBytes;
  if (!tooBig && !tensorTooBig) return null;
  const fits = largestFitting(estimate, what.count, budget);
  const advice = fits > 0 ? ` Use a ${what.label.toLowerCase()} of at most ${fits.toLocaleString('en-US')}.` : ' Choose a smaller model.';
  const need = tooBig
    ? `needs about ${formatBytes(estimate.bytes)} (weights${what.run === 'training' ? ' and optimizer state' : ''} ${formatBytes(estimate.weightBytes)}, activations ${formatBytes(estimate.activationBytes)}), more than ${budget.backend} can hold (${formatBytes(budget.totalBytes)}: ${budget.source})`
    : `needs a single buffer of about ${formatBytes(estimate.largestTensorBytes)}, more than ${budget.backend} allows in one (${formatBytes(budget.maxTensorBytes)}: ${budget.source})`;
  return `${what.label} ${what.count.toLocaleString('en-US')} is too large for ${what.run}: it ${need}, so it was not started.${advice}`;
}
