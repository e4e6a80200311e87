/**
 * The page <-> worker protocol: every message either side sends, as discriminated unions on `type`.
 * The page imports only these types; the worker owns TensorFlow.js. Image data crosses as
 * transferred ArrayBuffers (Float32Array in [-1, 1], layout [n, h, w, c]).
 */
import type { SamplerConfig, ScheduleConfig, PredictionType } from '../diffusion/config';
import type { UNetPreset } from '../models/config';

export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface TrainingConfig {
  learningRate: number;
  batchSize: number;
  /** Total training steps; training stops by itself when reached. */
  steps: number;
  /** Show fresh samples on the canvas every this many steps (0 = never). */
  previewEvery: number;
  prediction: PredictionType;
  seed: number;
}

export interface SamplingConfig extends SamplerConfig {
  numImages: number;
  seed: number;
}

/** Everything that defines a model: changing any of it during training needs a reset. */
export interface ModelSetup {
  schedule: ScheduleConfig;
  preset: UNetPreset;
  prediction: PredictionType;
}

export type RunState = 'idle' | 'running' | 'paused' | 'done';

export type PageToWorker =
  | { type: 'init'; backend: BackendName | null }
  | { type: 'setup'; setup: ModelSetup }
  | { type: 'train/start'; training: TrainingConfig }
  | { type: 'train/pause' }
  | { type: 'train/resume' }
  | { type: 'train/reset' }
  | { type: 'sample/start'; sampling: SamplingConfig }
  | { type: 'sample/pause' }
  | { type: 'sample/resume' }
  | { type: 'sample/cancel' }
  | { type: 'data/preview'; count: number };

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

export type WorkerToPage =
  | {
      type: 'ready';
      backend: BackendName;
      requested: BackendName | null;
      /** Set when the requested or preferred backend could not start: why, in words. */
      fallbackNote: string | null;
      adapter: AdapterInfo | null;
    }
  | { type: 'memory'; numTensors: number; numBytes: number }
  | { type: 'data/preview'; images: ImageBatch; labels: Int32Array; trainCount: number; heldOutCount: number }
  | { type: 'model'; preset: UNetPreset; paramCount: number; flopsPerStep: number }
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
    }
  | { type: 'train/preview'; step: number; images: ImageBatch }
  | { type: 'sample/state'; state: RunState }
  | {
      type: 'sample/frame';
      /** Index of this reverse step (0-based) and the total number of steps of the run. */
      index: number;
      total: number;
      /** Diffusion timestep t of x_t. */
      t: number;
      xt: ImageBatch;
      x0: ImageBatch;
    }
  | { type: 'error'; message: string; source: 'init' | 'setup' | 'train' | 'sample' | 'data' };

/** The buffers a message carries, to pass as postMessage's transfer list. */
export function transferablesOf(message: WorkerToPage): ArrayBuffer[] {
  switch (message.type) {
    case 'data/preview':
      return [message.images.pixels.buffer as ArrayBuffer, message.labels.buffer as ArrayBuffer];
    case 'train/progress':
      return [message.steps.buffer as ArrayBuffer, message.losses.buffer as ArrayBuffer];
    case 'train/preview':
      return [message.images.pixels.buffer as ArrayBuffer];
    case 'sample/frame':
      return [message.xt.pixels.buffer as ArrayBuffer, message.x0.pixels.buffer as ArrayBuffer];
    default:
      return [];
  }
}
