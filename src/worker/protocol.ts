/**
 * The page <-> worker protocol: every message either side sends, as discriminated unions on `type`.
 * The page imports only these types; the worker owns TensorFlow.js. Image data crosses as
 * transferred ArrayBuffers (Float32Array in [-1, 1], layout [n, h, w, c]; the denoising player's
 * record of every sampling step as bytes, see src/worker/quantize.ts).
 */
import { DEFAULT_SCHEDULE, type SamplerConfig, type ScheduleConfig, type PredictionType } from '../diffusion/config';
import type { LatentUNetPreset, UNetPreset } from '../models/config';
import type { AutoencoderPreset } from '../models/autoencoder-config';

export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * What a training run trains: the pixel U-Net or latent denoiser ('denoiser'), or stage 1 of a
 * latent model, its autoencoder ('autoencoder'). A latent model's denoiser needs a trained autoencoder.
 */
export type TrainingStage = 'autoencoder' | 'denoiser';

export interface TrainingConfig {
  stage: TrainingStage;
  learningRate: number;
  batchSize: number;
  /** Total training steps; training stops by itself when reached. */
  steps: number;
  /** Show fresh samples on the canvas every this many steps (0 = never). */
  previewEvery: number;
  seed: number;
  /**
   * Stream progress and previews while training (default true). False sends only the final
   * progress and no previews: benchmarks compare the two to measure what streaming costs.
   */
  stream?: boolean;
  /** Save a training checkpoint every this many steps (0 = only at start, pause and end; default 50). */
  checkpointEvery?: number;
}

export interface SamplingConfig extends SamplerConfig {
  numImages: number;
  seed: number;
  /** Class-conditional models: the digit to draw, or null for every digit across the grid (i mod 10). */
  digit: number | null;
  /** Sample with the EMA weights when the model keeps them. */
  useEma: boolean;
}

export type ModelKind = 'pixel' | 'latent';

export interface LatentSetup {
  autoencoder: AutoencoderPreset;
  /** Latent channels C of the 7x7xC latent, 2..8. */
  latentChannels: number;
  denoiser: LatentUNetPreset;
  /** Weight of the autoencoder's KL term: 0 is a plain autoencoder, a small weight (1e-5) a VAE. */
  klWeight: number;
}

/** Everything that defines a model: changing any of it during training needs a reset. */
export interface ModelSetup {
  schedule: ScheduleConfig;
  /** Pixel-space DDPM, or latent diffusion (autoencoder + latent denoiser). */
  kind: ModelKind;
  /** The pixel U-Net's preset (kind 'pixel'). */
  preset: UNetPreset;
  /** The latent model's parts (kind 'latent'). */
  latent: LatentSetup;
  prediction: PredictionType;
  /** Self-attention at the denoiser's lowest resolution (7x7 for pixels, 4x4 for latents). */
  attention: boolean;
  /** Dropout in the residual blocks while training, in [0, 1). */
  dropout: number;
  /** Condition on the digit label (dropped 10 % of the time in training) for classifier-free guidance. */
  classConditional: boolean;
  /** EMA decay of the denoiser's weights, in [0, 1); 0 turns EMA off. */
  emaDecay: number;
  /** Min-SNR-γ loss weighting (Hang et al. 2023); 0 turns it off. */
  minSnrGamma: number;
}

/** The model a fresh page starts with: the tiny pixel U-Net, class-conditional, no EMA. */
export const DEFAULT_MODEL_SETUP: ModelSetup = {
  schedule: DEFAULT_SCHEDULE,
  kind: 'pixel',
  preset: 'tiny',
  latent: { autoencoder: 'ae-tiny', latentChannels: 4, denoiser: 'latent-tiny', klWeight: 1e-5 },
  attention: false,
  dropout: 0,
  prediction: 'epsilon',
  classConditional: true,
  emaDecay: 0,
  minSnrGamma: 0,
};

/** A model as files: model.json (configuration + weights manifest) and weights.bin, per part. */
export interface ModelFile {
  name: string;
  data: ArrayBuffer;
}

export type RunState = 'idle' | 'running' | 'paused' | 'done';

/**
 * Where the pretrained models live, relative to the site's base URL: `models/<kind>/` holds
 * model.json + weights.bin (a model file, as Export writes it) and manifest.json (how it was
 * trained), written by `npm run pretrain` into public/models/.
 */
export const PRETRAINED_MODELS_PATH = 'models/';
export const PRETRAINED_MANIFEST_FILE = 'manifest.json';

/**
 * What the page shows about a pretrained model, from its manifest.json (every field optional there:
 * null when missing) and its model.json (the step counts, which always come from the model file).
 */
export interface PretrainedInfo {
  kind: ModelKind;
  /** The manifest's name, or the kind. */
  name: string;
  /** Pretraining steps of the autoencoder (latent models) and of the denoiser, from model.json. */
  autoencoderSteps: number;
  denoiserSteps: number;
  /** Wall time of the whole pretraining, seconds. */
  trainingSeconds: number | null;
  /** The denoiser's final (smoothed) training loss. */
  finalLoss: number | null;
  /** The pretraining plan's name ('full', 'quick'), when the manifest says. */
  plan: string | null;
  /** When the files were made (ISO date), when the manifest says. */
  createdAt: string | null;
  /** The manifest's evaluation figures, as numbers by name (e.g. meanConfidence), when it has any. */
  eval: Record<string, number> | null;
  /** The sampler those figures were measured with ('DDIM-50'), when the manifest says. */
  evalSampler: string | null;
  /** Bytes of model.json + weights.bin. */
  bytes: number;
}

/**
 * The Compare panel's request: the pretrained pixel DDPM and LDM, each sampled with the same
 * sampler, steps, batch and seed on the engine's backend; timed over `reps` batches after a warm-up,
 * and (when `qualityImages` > 0) scored by the evaluation classifier against real digits.
 */
export interface CompareSettings {
  sampler: SamplerConfig['kind'];
  steps: number;
  batch: number;
  seed: number;
  guidance: number;
  /** Timed batches per case (median), after one warm-up batch that also measures peak memory. */
  reps: number;
  /** Samples scored per case for confidence and FD (0: timing only). */
  qualityImages: number;
  /** Digits of the training split the FD reference is computed from (the CLI's eval uses all 9,000). */
  referenceDigits: number;
  /** Step counts of the quality-against-time sweep (every sampler, both models); empty: no sweep. */
  sweepSteps: number[];
}

/** One measured case of a comparison. */
export interface CompareRow {
  model: ModelKind;
  sampler: SamplerConfig['kind'];
  steps: number;
  batch: number;
  /** Median wall time of a batch / batch size, ms (sampling + decoding + reading the images back). */
  msPerImage: number;
  imagesPerSec: number;
  /** Peak tensor bytes during one whole batch (weights included). */
  peakBytes: number;
  /** Forward FLOPs per image: denoiser passes × steps + the decoder (LDM). */
  flopsPerImage: number;
  /** The evaluation classifier's figures for `quality.n` samples, with the real-digit floor at the same N. */
  quality: { n: number; meanConfidence: number; labelEntropy: number; fd: number; floorFd: number; referenceDigits: number } | null;
  /** Part of the quality-against-time sweep rather than the main table. */
  sweep: boolean;
}

/** The Compare panel's results as a file ("Download results (JSON)"): what `npm run bench` reads back. */
export interface CompareReport {
  format: 'diffusion-playground/compare';
  version: 1;
  date: string;
  backend: string | null;
  userAgent: string;
  settings: CompareSettings | null;
  rows: CompareRow[];
}

export type PageToWorker =
  | { type: 'init'; backend: BackendName | null }
  | { type: 'setup'; setup: ModelSetup }
  | { type: 'train/start'; training: TrainingConfig }
  | { type: 'train/pause' }
  /** Resume the paused run (after a restore: start it from the checkpoint); `training` may lower the learning rate. */
  | { type: 'train/resume'; training?: TrainingConfig }
  /** Restore a training checkpoint ('train/checkpoint' files): model, optimizer, steps, history; the run waits, paused. */
  | { type: 'train/restore'; files: ModelFile[] }
  /** Test hook: set one weight of the denoiser to NaN, as a diverging step would (the NaN guard's test). */
  | { type: 'test/poison-weights' }
  | { type: 'train/reset' }
  /** `run`: the page's id of this run, echoed in its 'sample/steps' messages (default 0). */
  | { type: 'sample/start'; sampling: SamplingConfig; run?: number }
  | { type: 'sample/pause' }
  | { type: 'sample/resume' }
  | { type: 'sample/cancel' }
  | { type: 'data/preview'; count: number }
  | { type: 'model/export' }
  | { type: 'model/import'; files: ModelFile[] }
  /**
   * Load the pretrained model of this kind from the site (models/<kind>/), validated like an
   * import. `id` comes back in the answers, so the page can ignore those of a superseded request.
   */
  | { type: 'model/pretrained'; kind: ModelKind; id: number }
  /** Compare the pretrained pixel DDPM and LDM (Compare panel); training and sampling must be stopped. */
  | { type: 'compare/start'; compare: CompareSettings }
  | { type: 'compare/cancel' };

export interface AdapterInfo {
  vendor: string;
  architecture: string;
}

export interface ImageBatch {
  /** Pixels in [-1, 1], layout [n, h, w, c]; a transferred buffer. */
  pixels: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

/** The shape of the images of a recorded step: n images of h×w×c. */
export interface RecordShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

/**
 * Consecutive positions of a sampling run's record, for the denoising player. A run of N steps has
 * N + 1 positions: 0 is x_T, k < N is the x_t the denoiser saw at step k + 1 with what it predicted
 * from it (x0 and the noise ε̂), N is the final sample (its x0 is itself and its ε̂ zero). Values are
 * bytes (src/worker/quantize.ts), layout [count, n, h, w, c].
 */
export interface SampleSteps {
  type: 'sample/steps';
  /** The page's id of the run (from 'sample/start'). */
  run: number;
  /** Reverse steps N of the run (positions 0..N). */
  steps: number;
  /** The first position in this message and how many follow. */
  first: number;
  count: number;
  /** Timestep t of x_t at each position (−1 at the final sample). */
  t: Int32Array;
  /** Shape of the images: pixels, or a latent model's decodings. */
  images: RecordShape;
  /** x_t and the predicted x0 as images (IMAGE_RANGE). */
  x: Uint8Array;
  x0: Uint8Array;
  /** Pixel models: the predicted noise ε̂ (NOISE_RANGE). Null for latent models: theirs is a latent. */
  eps: Uint8Array | null;
  /** Latent models: x_t, x0 and ε̂ as latents (LATENT_RANGE), e.g. [count, n, 7, 7, C]. */
  latents: { shape: RecordShape; x: Uint8Array; x0: Uint8Array; eps: Uint8Array } | null;
}

export type WorkerToPage =
  | {
      type: 'ready';
      backend: BackendName;
      requested: BackendName | null;
      /** Set when the requested or preferred backend could not start: why, in words. */
      fallbackNote: string | null;
      adapter: AdapterInfo | null;
      /** Threads in the wasm backend's pool when running on wasm, else null (absent: unknown). */
      wasmThreads?: number | null;
    }
  | { type: 'memory'; numTensors: number; numBytes: number }
  | { type: 'data/preview'; images: ImageBatch; labels: Int32Array; trainCount: number; heldOutCount: number }
  | {
      type: 'model';
      kind: ModelKind;
      /** The denoiser's preset (pixel or latent). */
      preset: UNetPreset | LatentUNetPreset;
      /** Parameters of the whole model (denoiser + autoencoder). */
      paramCount: number;
      /** Forward FLOPs of one denoising step for one image (in the latent space for LDM). */
      flopsPerStep: number;
      /** FLOPs to decode one image (LDM: the decoder, once per image; 0 for pixel models). */
      decodeFlops: number;
      /** Training steps taken: autoencoder (stage 1) and denoiser. */
      autoencoderSteps: number;
      denoiserSteps: number;
      /** Measured peak tensor bytes of a training step and of a sampling step (null until measured). */
      peakTrainBytes: number | null;
      peakSampleBytes: number | null;
    }
  | { type: 'train/state'; state: RunState; step: number }
  | {
      type: 'train/progress';
      /** Steps and raw losses since the previous progress message. */
      steps: Int32Array;
      losses: Float32Array;
      stepsPerSec: number;
      /** Seconds left at the current speed. */
      etaSec: number;
      step: number;
      totalSteps: number;
      stage: TrainingStage;
      /** Per-step timesteps and per-item losses (denoiser stage), for loss-by-timestep charts. */
      itemTimesteps: Int32Array;
      itemLosses: Float32Array;
    }
  | { type: 'train/preview'; step: number; images: ImageBatch }
  /** A training checkpoint (a model file with optimizer state, run state and loss history) for the page to keep. */
  | { type: 'train/checkpoint'; step: number; stage: TrainingStage; totalSteps: number; reason: 'start' | 'interval' | 'pause' | 'end'; files: ModelFile[] }
  /** The loss history of `stage`, replacing the page's (after a restore or a roll-back). */
  | { type: 'train/history'; stage: TrainingStage; steps: Int32Array; losses: Float32Array }
  /** The loss became non-finite at `step`: the model went back to the checkpoint at `restoredStep`, paused. */
  | { type: 'train/diverged'; step: number; loss: number; restoredStep: number; stage: TrainingStage; learningRate: number }
  /** A training checkpoint is now the engine's model; its run waits, paused, at `step` ('model' and 'train/history' follow). */
  | { type: 'train/restored'; setup: ModelSetup; training: TrainingConfig; step: number; stage: TrainingStage }
  /** The GPU device was lost (driver reset, another tab, out of memory): this worker cannot go on. */
  | { type: 'device-lost'; backend: BackendName; message: string }
  /** Autoencoder stage: held-out originals beside their reconstructions. */
  | { type: 'train/reconstructions'; step: number; originals: ImageBatch; reconstructions: ImageBatch }
  | { type: 'sample/state'; state: RunState }
  | {
      type: 'sample/frame';
      /** Index of this reverse step (0-based) and the total number of steps of the run. */
      index: number;
      total: number;
      /** Diffusion timestep t of x_t. */
      t: number;
      /** x_t and predicted x0 in the denoiser's space: pixels, or latents [n,7,7,C] for LDM. */
      xt: ImageBatch;
      x0: ImageBatch;
      /** LDM only: the decodings of x_t and of the predicted x0, as images. */
      decodedXt: ImageBatch | null;
      decodedX0: ImageBatch | null;
      /** Wall time since the run started, ms. */
      elapsedMs: number;
    }
  | SampleSteps
  | { type: 'model/exported'; files: ModelFile[] }
  | { type: 'model/imported'; setup: ModelSetup }
  /** Fetching a pretrained model's files: bytes so far and in all (null when the server does not say). */
  | { type: 'pretrained/progress'; id: number; kind: ModelKind; loaded: number; total: number | null }
  /** The pretrained model is now the engine's model (a 'model' message follows). */
  | { type: 'pretrained/loaded'; id: number; kind: ModelKind; setup: ModelSetup; info: PretrainedInfo }
  /** The pretrained model could not be loaded (missing or damaged files): the engine's model is unchanged. */
  | { type: 'pretrained/failed'; id: number; kind: ModelKind; message: string }
  /** A comparison's progress: what it is doing, steps done of all, speed and time left. */
  /** `unit`: what `done`, `total` and the rate count (sampler steps, or digits scored for the FD reference). */
  | { type: 'compare/progress'; phase: string; unit: 'steps' | 'digits'; done: number; total: number; stepsPerSec: number; etaSec: number }
  | { type: 'compare/row'; row: CompareRow }
  | { type: 'compare/state'; state: 'running' | 'done' | 'cancelled' | 'failed'; message: string | null; backend: string }
  | { type: 'error'; message: string; source: 'init' | 'setup' | 'train' | 'sample' | 'data' | 'model' | 'compare' };

/** The buffers a message carries, to pass as postMessage's transfer list. */
export function transferablesOf(message: WorkerToPage): ArrayBuffer[] {
  switch (message.type) {
    case 'data/preview':
      return [message.images.pixels.buffer as ArrayBuffer, message.labels.buffer as ArrayBuffer];
    case 'train/progress':
      return [message.steps, message.losses, message.itemTimesteps, message.itemLosses].map((a) => a.buffer as ArrayBuffer);
    case 'train/preview':
      return [message.images.pixels.buffer as ArrayBuffer];
    case 'train/reconstructions':
      return [message.originals.pixels.buffer as ArrayBuffer, message.reconstructions.pixels.buffer as ArrayBuffer];
    case 'sample/frame':
      return [message.xt, message.x0, message.decodedXt, message.decodedX0].flatMap((b) => (b ? [b.pixels.buffer as ArrayBuffer] : []));
    case 'sample/steps': {
      const { t, x, x0, eps, latents } = message;
      return [t, x, x0, ...(eps ? [eps] : []), ...(latents ? [latents.x, latents.x0, latents.eps] : [])].map((a) => a.buffer as ArrayBuffer);
    }
    case 'model/exported':
    case 'train/checkpoint':
      return message.files.map((f) => f.data);
    case 'train/history':
      return [message.steps.buffer as ArrayBuffer, message.losses.buffer as ArrayBuffer];
    default:
      return [];
  }
}

/** The buffers a page request carries (imported files), for postMessage's transfer list. */
export function requestTransferables(message: PageToWorker): ArrayBuffer[] {
  return message.type === 'model/import' || message.type === 'train/restore' ? message.files.map((f) => f.data) : [];
}
