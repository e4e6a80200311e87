/**
 * The page's state: one vanilla zustand store (React reads it with `useStore` and selectors).
 * Big, fast-changing data stays out of it: image frames live in `frames.ts`, the loss history in
 * `loss-history.ts`; this store only carries counters (`lossVersion`, `frames` seq) that say when
 * to look again.
 */
import { createStore } from 'zustand/vanilla';
import { DEFAULT_SAMPLER } from '../diffusion/config';
import { DEFAULT_MODEL_SETUP } from '../worker/protocol';
import type { AdapterInfo, BackendName, ModelSetup, RunState, SamplingConfig, TrainingConfig, WorkerToPage } from '../worker/protocol';

export type EngineStatus = 'starting' | 'ready' | 'failed';

export interface EngineInfo {
  status: EngineStatus;
  backend: BackendName | null;
  requested: BackendName | null;
  fallbackNote: string | null;
  adapter: AdapterInfo | null;
  /** Note about the URL's `?backend=` (an unknown name), shown beside the fallback note. */
  urlNote: string | null;
}

export interface DataInfo {
  trainCount: number;
  heldOutCount: number;
  labels: number[];
}

/** The worker's last 'model' message: what the model is, its size and its measured peaks. */
export type ModelInfo = Omit<Extract<WorkerToPage, { type: 'model' }>, 'type'>;

/** Training form values. */
export type TrainingForm = TrainingConfig;

export interface TrainRun {
  state: RunState;
  step: number;
  totalSteps: number;
  stepsPerSec: number;
  etaSec: number;
  lastLoss: number | null;
  /** Number of loss points recorded and a counter bumped (a few times a second) when they change. */
  lossPoints: number;
  lossVersion: number;
}

export interface SampleRun {
  state: RunState;
  index: number;
  total: number;
  t: number | null;
}

export interface AppError {
  id: number;
  message: string;
  source: string;
}

export interface AppState {
  engine: EngineInfo;
  memory: { numTensors: number; numBytes: number } | null;
  data: DataInfo | null;
  /** The model setup the worker has (or was last sent). */
  setup: ModelSetup;
  /** A change to the setup waiting for the user to confirm a training reset. */
  pendingSetup: ModelSetup | null;
  model: ModelInfo | null;
  training: TrainingForm;
  sampling: SamplingConfig;
  train: TrainRun;
  sample: SampleRun;
  errors: AppError[];
}

export const DEFAULT_TRAINING: TrainingForm = { stage: 'denoiser', learningRate: 2e-3, batchSize: 16, steps: 500, previewEvery: 100, seed: 0 };
export const DEFAULT_SAMPLING: SamplingConfig = { ...DEFAULT_SAMPLER, steps: 20, numImages: 16, seed: 0, digit: null, useEma: true };
export const DEFAULT_SETUP: ModelSetup = { ...DEFAULT_MODEL_SETUP, schedule: { ...DEFAULT_MODEL_SETUP.schedule }, latent: { ...DEFAULT_MODEL_SETUP.latent } };

export const IDLE_TRAIN: TrainRun = {
  state: 'idle',
  step: 0,
  totalSteps: 0,
  stepsPerSec: 0,
  etaSec: 0,
  lastLoss: null,
  lossPoints: 0,
  lossVersion: 0,
};

export function initialState(urlNote: string | null = null, requested: BackendName | null = null): AppState {
  return {
    engine: { status: 'starting', backend: null, requested, fallbackNote: null, adapter: null, urlNote },
    memory: null,
    data: null,
    setup: DEFAULT_SETUP,
    pendingSetup: null,
    model: null,
    training: DEFAULT_TRAINING,
    sampling: DEFAULT_SAMPLING,
    train: IDLE_TRAIN,
    sample: { state: 'idle', index: 0, total: 0, t: null },
    errors: [],
  };
}

export function createAppStore(init: AppState = initialState()) {
  return createStore<AppState>()(() => init);
}

export type AppStore = ReturnType<typeof createAppStore>;

/** True once the model has been trained at all (or is training): changing its setup needs a reset. */
export function modelIsTrained(s: AppState): boolean {
  return s.train.state !== 'idle' || s.train.step > 0;
}
