/**
 * The page <-> worker protocol: every message either side sends, as discriminated unions on `type`.
 * The page imports only these types; the worker owns TensorFlow.js. Image data crosses as
 * transferred ArrayBuffers (Float32Array in [-1, 1], layout [n, h, w, c]; the denoising player's
 * record of every sampling step as bytes, see src/protocol/quantize.ts).
 */
import type { AdapterInfo, BackendName } from '../backends/names';
import type { RunState, TrainingConfig, TrainingStage } from '../engine/run-config';
import type { CompareRow, CompareSettings } from '../eval/compare-report';
import type { ModelFile } from '../io/model-file';
import type { PretrainedInfo } from '../io/pretrained-info';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import type { LatentUNetPreset, UNetPreset } from '../models/setup/unet-config';
import type { SamplingConfig } from '../sampling/config';
import { labTransferables, type LabToPage, type LabToWorker } from './lab-messages';
import { editTransferables, type EditToPage, type EditToWorker } from './edit-messages';
import type { QualityToPage, QualityToWorker } from './quality-messages';
import { distillTransferables, type DistillToPage, type DistillToWorker } from './distill-messages';

export type PageToWorker =
  /**
   * `avoid`: backends whose GPU device was lost in this page; with no `backend`, the fastest of the rest.
   * `threads`: the wasm backend's threads (the URL's `?threads=N`); without it, the worker's own choice.
   */
  | { type: 'init'; backend: BackendName | null; avoid?: BackendName[]; threads?: number }
  | { type: 'setup'; setup: ModelSetup }
  | { type: 'train/start'; training: TrainingConfig }
  | { type: 'train/pause' }
  /** Resume the paused run (after a restore: start it from the checkpoint); `training` may lower the learning rate. */
  | { type: 'train/resume'; training?: TrainingConfig }
  /** Restore a training checkpoint ('train/checkpoint' files): model, optimizer, steps, history; the run waits, paused. */
  | { type: 'train/restore'; files: ModelFile[] }
  /** Test hook: set one weight of the denoiser to NaN, as a diverging step would (the NaN guard's test). */
  | { type: 'test/poison-weights' }
  /** Test hook: destroy the WebGPU device, as a driver reset would lose it ('device-lost' follows). */
  | { type: 'test/lose-device' }
  | { type: 'train/reset' }
  /** `run`: the page's id of this run, echoed in its 'sample/steps' messages (default 0). */
  | { type: 'sample/start'; sampling: SamplingConfig; run?: number }
  | { type: 'sample/pause' }
  | { type: 'sample/resume' }
  | { type: 'sample/cancel' }
  /** Latent models: decode recorded positions (their latents x_t and x0, LATENT_RANGE bytes [count, n, h, w, c]) for the player. */
  | { type: 'sample/decode'; run: number; positions: number[]; shape: RecordShape; x: Uint8Array; x0: Uint8Array }
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
  | { type: 'compare/cancel' }
  /** The 2D lab (./lab-messages.ts). */
  | LabToWorker
  /** The Edit panel (./edit-messages.ts). */
  | EditToWorker
  /** The live quality curve (./quality-messages.ts). */
  | QualityToWorker
  /** The Training panel's Distill stage (./distill-messages.ts). */
  | DistillToWorker;

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
 * bytes (src/protocol/quantize.ts), layout [count, n, h, w, c].
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
  /**
   * Latent models: 1 where the position's x and x0 hold decodings, 0 where the run did not decode
   * it (its bytes are zero): the page asks for those with 'sample/decode' when it shows them.
   */
  decoded?: Uint8Array;
  /**
   * Set in the message that holds the final sample when the run ended before `steps` (early
   * stopping, or the adaptive solver, whose `steps` is its most): the final sample's position.
   */
  final?: number;
}

/**
 * The answer to 'sample/decode': the positions' x_t and x0 decoded (IMAGE_RANGE bytes, [count, n,
 * 28, 28, 1]); empty bytes when the model in the worker cannot decode them (another model now).
 */
export interface SampleDecoded {
  type: 'sample/decoded';
  run: number;
  positions: number[];
  images: RecordShape;
  x: Uint8Array;
  x0: Uint8Array;
}

/**
 * What a sampling run cost, sent once when it ends (also when cancelled): its steps and model
 * evaluations, where early stopping stopped it, and the adaptive solver's tries.
 */
export interface SampleSummary {
  type: 'sample/summary';
  run: number;
  steps: number;
  evaluations: number;
  /** Fixed-step runs: the steps asked for (one evaluation each); null for the adaptive solver. */
  plannedSteps: number | null;
  /** Where early stopping ended the run: the step (0-based), its measure, and the evaluations saved (fixed-step runs). */
  earlyStop: { index: number; value: number; saved: number } | null;
  /** Adaptive runs: every try, from continuous t = s to t, its step h in λ, its error norm and whether it was accepted. */
  attempts: { s: number; t: number; h: number; error: number; accepted: boolean }[] | null;
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
      /** Why the backend was chosen when none was requested (the start-up speed test), in words; absent when none was run. */
      choiceNote?: string | null;
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
      /** Model evaluations so far (more than index + 1 for the adaptive solver). */
      evaluations?: number;
    }
  | SampleSteps
  | SampleDecoded
  | SampleSummary
  | { type: 'model/exported'; files: ModelFile[] }
  | { type: 'model/imported'; setup: ModelSetup }
  /** Fetching a pretrained model's files: bytes so far and in all (null when the server does not say). */
  | { type: 'pretrained/progress'; id: number; kind: ModelKind; loaded: number; total: number | null; bytesPerSec?: number | null }
  /** The pretrained model is now the engine's model (a 'model' message follows). */
  | { type: 'pretrained/loaded'; id: number; kind: ModelKind; setup: ModelSetup; info: PretrainedInfo }
  /** The pretrained model could not be loaded (missing or damaged files): the engine's model is unchanged. */
  | { type: 'pretrained/failed'; id: number; kind: ModelKind; message: string }
  /** A comparison's progress: what it is doing, steps done of all, speed and time left. */
  /** `unit`: what `done`, `total` and the rate count (sampler steps, or digits scored for the FD reference). */
  | { type: 'compare/progress'; phase: string; unit: 'steps' | 'digits'; done: number; total: number; stepsPerSec: number; etaSec: number }
  | { type: 'compare/row'; row: CompareRow }
  | { type: 'compare/state'; state: 'running' | 'done' | 'cancelled' | 'failed'; message: string | null; backend: string }
  /** The 2D lab (./lab-messages.ts). */
  | LabToPage
  /** The Edit panel (./edit-messages.ts). */
  | EditToPage
  /** The live quality curve (./quality-messages.ts). */
  | QualityToPage
  /** The Training panel's Distill stage (./distill-messages.ts). */
  | DistillToPage
  | { type: 'error'; message: string; source: ErrorSource };

/** Which part of the page an error belongs to. */
export type ErrorSource = 'init' | 'setup' | 'train' | 'sample' | 'data' | 'model' | 'compare' | 'lab' | 'edit' | 'distill';

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
      return [t, x, x0, ...(eps ? [eps] : []), ...(latents ? [latents.x, latents.x0, latents.eps] : []), ...(message.decoded ? [message.decoded] : [])].map((a) => a.buffer as ArrayBuffer);
    }
    case 'sample/decoded':
      return [message.x.buffer as ArrayBuffer, message.x0.buffer as ArrayBuffer];
    case 'model/exported':
    case 'train/checkpoint':
      return message.files.map((f) => f.data);
    case 'train/history':
      return [message.steps.buffer as ArrayBuffer, message.losses.buffer as ArrayBuffer];
    default:
      if (message.type.startsWith('edit/')) return editTransferables(message as EditToPage);
      if (message.type.startsWith('distill/')) return distillTransferables(message as DistillToPage);
      return message.type.startsWith('lab/') ? labTransferables(message as LabToPage) : [];
  }
}

/** The buffers a page request carries (imported files), for postMessage's transfer list. */
export function requestTransferables(message: PageToWorker): ArrayBuffer[] {
  if (message.type === 'edit/convert') return [message.rgba.buffer as ArrayBuffer];
  if (message.type === 'sample/decode') return [message.x.buffer as ArrayBuffer, message.x0.buffer as ArrayBuffer];
  return message.type === 'model/import' || message.type === 'train/restore' ? message.files.map((f) => f.data) : [];
}
