/**
 * The page's state: one vanilla zustand store (React reads it with `useStore` and selectors).
 * Big, fast-changing data stays out of it: image frames live in `frames.ts`, the loss history in
 * `loss-history.ts`; this store only carries counters (`lossVersion`, `frames` seq) that say when
 * to look again.
 */
import { createStore } from 'zustand/vanilla';
import { DEFAULT_SAMPLER, type ScheduleConfig } from '../diffusion/config';
import { DEFAULT_MODEL_SETUP } from '../models/setup/model-setup';
import type { CheckpointSummary } from './checkpoint-store';
import type { AdapterInfo, BackendName } from '../backends/names';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import type { PretrainedInfo } from '../io/pretrained-info';
import type { RunState, TrainingConfig, TrainingStage } from '../engine/run-config';
import type { SamplingConfig } from '../sampling/config';
import type { WorkerToPage } from '../protocol/messages';

export type EngineStatus = 'starting' | 'ready' | 'failed';

export interface EngineInfo {
  status: EngineStatus;
  backend: BackendName | null;
  requested: BackendName | null;
  fallbackNote: string | null;
  adapter: AdapterInfo | null;
  /** Threads of the wasm backend when it runs (shown in the header), else null. */
  wasmThreads: number | null;
  /** Note about the URL's `?backend=` (an unknown name), shown beside the fallback note. */
  urlNote: string | null;
  /** Why the backend was chosen when none was requested (its speed, measured at start), shown in the header. */
  choiceNote: string | null;
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
  /** The stage of the run in progress or last run (the one `step` counts), and of the loss chart's points. */
  stage: TrainingStage | null;
  lossStage: TrainingStage | null;
}

export interface SampleRun {
  state: RunState;
  index: number;
  total: number;
  t: number | null;
  /** Wall time of the run up to its last frame, ms, and the number of images it draws. */
  elapsedMs: number | null;
  numImages: number;
  /** True when the run's frames are latents (with decoded images beside them). */
  latent: boolean;
  /** What made the images, from the run's own request (model, sampler, steps, digit, guidance): captions never read the current form. */
  caption: string;
  /** The run's noise schedule (the player draws √ᾱ_t of the run's steps from it), null before a run. */
  schedule: ScheduleConfig | null;
  /** Model evaluations so far (absent before the first frame), and whether the run chooses its own steps (adaptive: `total` is then only "at least"). */
  evaluations?: number;
  adaptive?: boolean;
}

/** A file of the last export, ready to download again from its object URL. */
export interface ExportedFile {
  name: string;
  url: string;
  bytes: number;
}

/** Export / import in flight (the buttons wait for the engine's answer or error). */
export type TransferState = 'idle' | 'exporting' | 'importing';

export interface AppError {
  id: number;
  message: string;
  source: string;
}

/**
 * Where the model's weights come from: the pretrained files of its kind (fine-tuned by training),
 * fresh weights built from the Model panel's setup, or files the user imported.
 */
export type ModelSource = 'pretrained' | 'scratch' | 'imported';

export interface PretrainedState {
  source: ModelSource;
  /** The last pretrained request: in flight, done, or failed (then the page fell back to scratch). */
  status: 'idle' | 'loading' | 'ready' | 'failed';
  /** The kind asked for (loading, failed) or loaded (ready). */
  kind: ModelKind;
  /** Bytes fetched so far and in all (null when unknown), while loading. */
  loaded: number;
  total: number | null;
  /** Download speed so far, bytes per second (null until measured). */
  bytesPerSec?: number | null;
  /** The loaded model's figures (status 'ready'). */
  info: PretrainedInfo | null;
  /** Why loading failed (status 'failed'), for the user. */
  message: string | null;
}

/** Training checkpoints as the page sees them (src/state/recovery.ts). */
export interface RecoveryState {
  /** A checkpoint from an earlier visit, offered for resuming (null once taken, discarded or replaced). */
  offer: CheckpointSummary | null;
  /** The last checkpoint of this visit. */
  last: CheckpointSummary | null;
  /** A checkpoint is on its way to the engine. */
  restoring: boolean;
}

/**
 * A model the page put aside when another replaced it (a setup change, another source), so that
 * one click brings it back (src/state/model-sources.ts keeps its files).
 */
export interface KeptModel {
  /** What it is, in words: "the pretrained pixel DDPM fine-tuned for 120 steps". */
  label: string;
  /** A short name for the button: "the fine-tuned pixel DDPM". */
  name: string;
  /** Its setup when it was put aside. */
  setup: ModelSetup;
  /** How it comes back: its pretrained files, untouched ('pretrained'), or its own exported files ('files', `bytes` long, held by the page). */
  via: 'pretrained' | 'files';
  bytes: number;
}

export interface KeepState {
  kept: KeptModel | null;
  /** 'saving': the current model is being put aside before a change goes ahead; 'restoring': the kept model is on its way back. */
  status: 'idle' | 'saving' | 'restoring';
  /** Why the last keep or switch back did not happen (the model did not change), else null. */
  message: string | null;
}

export const IDLE_KEEP: KeepState = { kept: null, status: 'idle', message: null };

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
  transfer: TransferState;
  exported: ExportedFile[];
  pretrained: PretrainedState;
  /** Notes about the page's link (settings clamped or ignored, fresh weights instead of the pretrained model). */
  linkNotes: string[];
  recovery: RecoveryState;
  /** The previous model, kept for "Undo: switch back". */
  keep: KeepState;
}

export const DEFAULT_TRAINING: TrainingForm = { stage: 'denoiser', learningRate: 2e-3, lrSchedule: 'constant', warmupSteps: 0, batchSize: 16, steps: 500, previewEvery: 100, seed: 0, checkpointEvery: 50 };
/** The adaptive solver and early stopping are off while their fields are absent (defaults: diffusion/config.ts). */
export const DEFAULT_SAMPLING: SamplingConfig = { ...DEFAULT_SAMPLER, steps: 20, numImages: 16, seed: 0, digit: null, useEma: true };
/** The page's starting model: the models' one default (src/models/setup/model-setup.ts). */
export const DEFAULT_SETUP: ModelSetup = DEFAULT_MODEL_SETUP;

export const IDLE_TRAIN: TrainRun = {
  state: 'idle',
  step: 0,
  totalSteps: 0,
  stepsPerSec: 0,
  etaSec: 0,
  lastLoss: null,
  lossPoints: 0,
  lossVersion: 0,
  stage: null,
  lossStage: null,
};

export const IDLE_SAMPLE: SampleRun = { state: 'idle', index: 0, total: 0, t: null, elapsedMs: null, numImages: 0, latent: false, caption: '', schedule: null };

/** A page that starts from the pretrained pixel model loads it as soon as the engine is ready. */
export function initialPretrained(source: 'pretrained' | 'scratch' = 'pretrained'): PretrainedState {
  return { source, status: source === 'pretrained' ? 'loading' : 'idle', kind: DEFAULT_SETUP.kind, loaded: 0, total: null, info: null, message: null };
}

export function initialState(urlNote: string | null = null, requested: BackendName | null = null, source: 'pretrained' | 'scratch' = 'pretrained'): AppState {
  return {
    engine: { status: 'starting', backend: null, requested, fallbackNote: null, adapter: null, wasmThreads: null, urlNote, choiceNote: null },
    memory: null,
    data: null,
    setup: DEFAULT_SETUP,
    pendingSetup: null,
    model: null,
    training: DEFAULT_TRAINING,
    sampling: DEFAULT_SAMPLING,
    train: IDLE_TRAIN,
    sample: IDLE_SAMPLE,
    errors: [],
    transfer: 'idle',
    exported: [],
    pretrained: initialPretrained(source),
    linkNotes: [],
    recovery: { offer: null, last: null, restoring: false },
    keep: IDLE_KEEP,
  };
}

export function createAppStore(init: AppState = initialState()) {
  return createStore<AppState>()(() => init);
}

export type AppStore = ReturnType<typeof createAppStore>;

/** Training steps the model has taken so far, per stage: the engine's counts, or the live run's when ahead. */
export function stageSteps(s: AppState): { autoencoder: number; denoiser: number } {
  const live = (stage: TrainingStage) => (s.train.stage === stage ? s.train.step : 0);
  return {
    autoencoder: Math.max(s.model?.autoencoderSteps ?? 0, live('autoencoder')),
    denoiser: Math.max(s.model?.denoiserSteps ?? 0, live('denoiser')),
  };
}

/** True once the model has been trained at all (or is training, or was imported trained): changing its setup needs a reset. */
export function modelIsTrained(s: AppState): boolean {
  const steps = stageSteps(s);
  return s.train.state !== 'idle' || s.train.step > 0 || steps.autoencoder > 0 || steps.denoiser > 0;
}
