/**
 * What a worker message does to the page, as a pure function: the page's state and one WorkerToPage
 * message in; a patch of the app store, the client's bookkeeping, and the steps the client takes
 * around the patch out. No worker, timers or stores here: EngineClient applies the result.
 */
import { isLabMessage } from '../protocol/lab-messages';
import { isEditMessage } from '../protocol/edit-messages';
import { isQualityMessage } from '../protocol/quality-messages';
import { isDistillMessage, type DistillToPage } from '../protocol/distill-messages';
import type { PageToWorker, SampleDecoded, SampleSteps, SampleSummary, WorkerToPage } from '../protocol/messages';
import type { ModelFile } from '../io/model-file';
import type { TrainingStage } from '../engine/run-config';
import { presetAttention } from '../models/setup/model-setup';
import type { FrameState } from './frames';
import { FINE_TUNE_LEARNING_RATE, FINE_TUNE_STEPS, type SourceBook } from './model-sources';
import { setupRequest } from './setup-sync';
import { IDLE_SAMPLE, type AppState } from './store';
import type { BandLosses, Progress } from './training-view';

/** How many real digits the Data panel shows. */
export const DATA_PREVIEW_COUNT = 32;

/** What the client remembers between messages and the store does not show. */
export interface Bookkeeping extends SourceBook {
  /** The stage of the last train/start, until the engine confirms it runs (or refuses it). */
  requestedStage: TrainingStage | null;
}

/** What the reducer reads: the store's fields that messages depend on, and the bookkeeping. */
export type MessageState = Pick<AppState, 'engine' | 'memory' | 'setup' | 'training' | 'sampling' | 'train' | 'sample' | 'pretrained' | 'recovery'> & Bookkeeping;

type CompareMessage = Extract<WorkerToPage, { type: `compare/${string}` }>;
type RecoveryMessage = Extract<WorkerToPage, { type: 'train/checkpoint' | 'train/history' | 'train/diverged' | 'train/restored' | 'device-lost' }>;

/** A step the client takes for a message, besides patching the store. */
export type Effect =
  | { type: 'send'; message: PageToWorker }
  /** New images for the frame store (the client bumps its `seq`). */
  | { type: 'frames'; frames: Partial<Omit<FrameState, 'seq'>> }
  | { type: 'clear-loss' }
  /** Loss points for the curve, and the run's figures held for the next coalesced store update. */
  | { type: 'progress'; steps: Int32Array; losses: Float32Array; bands: BandLosses | null; progress: Progress }
  | { type: 'record'; steps: SampleSteps | SampleSummary | SampleDecoded }
  | { type: 'compare'; message: CompareMessage }
  /** A comparison in progress failed (nothing to do when none runs). */
  | { type: 'compare-failed'; message: string }
  | { type: 'recovery'; message: RecoveryMessage }
  | { type: 'recovery-ready' }
  | { type: 'restore-failed' }
  | { type: 'report-error'; message: string; source: string }
  /** The engine holds a model the page did not build: a setup edit still waiting is dropped, the training view starts over. */
  | { type: 'new-model' }
  /** The model is no longer the pretrained one: fresh weights for the store's setup. */
  | { type: 'fresh-weights' }
  | { type: 'exported'; files: ModelFile[] };

/**
 * The result for one message. `before` runs first: the frames and loss curve the store's counters
 * point at are in place before a counter changes, errors and a new model's clean slate come before
 * the message's values. Then `book` and `patch` are applied; then `after`, which reads the patched store.
 */
export interface Reduction {
  patch: Partial<AppState>;
  book?: Partial<Bookkeeping>;
  before?: readonly Effect[];
  after?: readonly Effect[];
}

const NOTHING: Reduction = { patch: {} };

/** The store after a failed start: the engine failed, a pending pretrained load with it, runs stopped. */
export function failurePatch(s: Pick<AppState, 'engine' | 'pretrained' | 'train' | 'sample'>): Pick<AppState, 'engine' | 'pretrained' | 'train' | 'sample'> {
  return {
    pretrained:
      s.pretrained.status === 'loading' && s.engine.status !== 'ready'
        ? { ...s.pretrained, source: 'scratch', status: 'failed', message: 'The pretrained model was not loaded: the engine is not running.' }
        : s.pretrained,
    engine: s.engine.status === 'ready' ? s.engine : { ...s.engine, status: 'failed' },
    train: s.train.state === 'running' ? { ...s.train, state: 'paused' } : s.train,
    sample: s.sample.state === 'running' ? { ...s.sample, state: 'idle' } : s.sample,
  };
}

/** A sampling run in progress stops showing when the engine's model is replaced. */
function stoppedSample(s: MessageState): AppState['sample'] {
  return s.sample.state === 'running' || s.sample.state === 'paused' ? { ...IDLE_SAMPLE, caption: s.sample.caption } : s.sample;
}

/**
 * A distilled student is the engine's model now: the page takes it as it takes an import, and
 * samples it as it was trained: DDIM over trailing timesteps at its step count, η = 0, guidance 1
 * (the teacher's guidance is built in), as the Model panel's "Load the distilled LDM" does.
 */
function distilled(s: MessageState, msg: Extract<DistillToPage, { type: 'distill/done' }>): Reduction {
  const sampling = { kind: 'ddim' as const, steps: msg.studentSteps, spacing: 'trailing' as const, eta: 0, guidance: 1, adaptive: 'off' as const, earlyStop: 'off' as const };
  return {
    before: [{ type: 'new-model' }],
    book: { justImported: true, fineTuneForm: false },
    patch: {
      setup: msg.setup,
      pendingSetup: null,
      model: null,
      sample: stoppedSample(s),
      training: { ...s.training, stage: 'denoiser' },
      sampling: { ...s.sampling, ...sampling, digit: msg.setup.classConditional ? s.sampling.digit : null },
      pretrained: { ...s.pretrained, source: 'imported', status: 'idle', info: null, message: null },
    },
  };
}

/** Reduces the image engine's messages; the 2D lab's ('lab/*') are the lab client's (./lab/) and change nothing here. */
export function reduceMessage(s: MessageState, msg: WorkerToPage): Reduction {
  if (isLabMessage(msg)) return { patch: {} };
  // The Edit panel's own messages are the edit client's (./edit/); its runs' frames come as 'sample/*'.
  if (isEditMessage(msg)) return { patch: {} };
  // The live quality curve's points are the quality client's (./quality-curve.ts).
  if (isQualityMessage(msg)) return { patch: {} };
  // The Distill stage's messages are the distill client's (./distill-client.ts), but for the student taking the teacher's place.
  if (isDistillMessage(msg)) return msg.type === 'distill/done' ? distilled(s, msg) : NOTHING;
  switch (msg.type) {
    case 'ready': {
      const engine = { ...s.engine, status: 'ready' as const, backend: msg.backend, requested: msg.requested, fallbackNote: msg.fallbackNote, adapter: msg.adapter, wasmThreads: msg.wasmThreads ?? null, choiceNote: msg.choiceNote ?? null };
      const setup = setupRequest({ engine, setup: s.setup });
      const p = s.pretrained;
      const after: Effect[] = [];
      if (setup) after.push({ type: 'send', message: setup });
      after.push({ type: 'send', message: { type: 'data/preview', count: DATA_PREVIEW_COUNT } });
      if (p.source === 'pretrained' && p.status === 'loading') after.push({ type: 'send', message: { type: 'model/pretrained', kind: p.kind, id: s.pretrainedId } });
      after.push({ type: 'recovery-ready' });
      return { patch: { engine }, after };
    }
    case 'memory': {
      const m = s.memory;
      if (m && m.numTensors === msg.numTensors && m.numBytes === msg.numBytes) return NOTHING;
      return { patch: { memory: { numTensors: msg.numTensors, numBytes: msg.numBytes } } };
    }
    case 'data/preview':
      return {
        before: [{ type: 'frames', frames: { data: msg.images } }],
        patch: { data: { trainCount: msg.trainCount, heldOutCount: msg.heldOutCount, labels: Array.from(msg.labels) } },
      };
    case 'model': {
      const model = { ...msg };
      if (!s.justImported) return { patch: { model } };
      // An imported latent model continues where it stopped: stage 2 once its autoencoder is trained.
      const training = msg.kind === 'latent' ? { ...s.training, stage: msg.autoencoderSteps > 0 ? ('denoiser' as const) : ('autoencoder' as const) } : s.training;
      return { patch: { model, training }, book: { justImported: false } };
    }
    case 'train/state': {
      // The step counts the stage of the engine's current run: the one just started once it runs.
      const took = msg.state === 'running' && s.requestedStage !== null;
      let stage = took ? s.requestedStage : s.train.stage;
      if (msg.state === 'idle' && msg.step === 0) stage = null;
      return {
        patch: { train: { ...s.train, state: msg.state, step: msg.step, stage, stepsPerSec: msg.state === 'running' ? s.train.stepsPerSec : 0 } },
        book: took ? { requestedStage: null } : undefined,
      };
    }
    case 'train/progress': {
      // A new stage starts a new loss curve (the autoencoder's reconstruction loss is another quantity).
      const newCurve = s.train.lossStage !== msg.stage;
      return {
        before: newCurve ? [{ type: 'clear-loss' }] : undefined,
        patch: newCurve ? { train: { ...s.train, lossStage: msg.stage, stage: msg.stage, lossPoints: 0, lossVersion: s.train.lossVersion + 1 } } : {},
        after: [
          {
            type: 'progress',
            steps: msg.steps,
            losses: msg.losses,
            bands: msg.stage === 'denoiser' ? { timesteps: msg.itemTimesteps, losses: msg.itemLosses, T: s.setup.schedule.T } : null,
            progress: { step: msg.step, totalSteps: msg.totalSteps, stepsPerSec: msg.stepsPerSec, etaSec: msg.etaSec },
          },
        ],
      };
    }
    case 'train/preview':
      // A sampling run in progress owns the canvas; previews wait for the next one.
      if (s.sample.state === 'running' || s.sample.state === 'paused') return NOTHING;
      return { patch: {}, before: [{ type: 'frames', frames: { mode: 'preview', main: msg.images, x0: null, previewStep: msg.step } }] };
    case 'sample/state':
      return { patch: { sample: { ...s.sample, state: msg.state } } };
    case 'sample/frame': {
      // Latent models: the canvases show the decoded images; the latents go to the latent view.
      const latent = msg.decodedXt !== null && msg.decodedX0 !== null;
      const frames = { mode: 'sample' as const, main: latent ? msg.decodedXt : msg.xt, x0: latent ? msg.decodedX0 : msg.x0, latentXt: latent ? msg.xt : null, latentX0: latent ? msg.x0 : null };
      return {
        before: [{ type: 'frames', frames }],
        patch: { sample: { ...s.sample, index: msg.index, total: msg.total, t: msg.t, elapsedMs: msg.elapsedMs, numImages: msg.xt.n, latent, evaluations: msg.evaluations ?? msg.index + 1 } },
      };
    }
    case 'sample/steps':
    case 'sample/summary':
    case 'sample/decoded':
      return { patch: {}, after: [{ type: 'record', steps: msg }] };
    case 'train/reconstructions':
      return { patch: {}, before: [{ type: 'frames', frames: { reconOriginals: msg.originals, reconImages: msg.reconstructions, reconStep: msg.step } }] };
    case 'model/exported':
      return { patch: {}, after: [{ type: 'exported', files: msg.files }] };
    case 'train/checkpoint':
    case 'train/history':
    case 'train/diverged':
    case 'train/restored':
    case 'device-lost':
      return { patch: {}, after: [{ type: 'recovery', message: msg }] };
    case 'model/imported':
      // The engine holds the imported model: the page takes its setup, without sending it back (that would rebuild the model).
      return {
        before: [{ type: 'new-model' }],
        book: { justImported: true },
        patch: {
          transfer: 'idle',
          setup: msg.setup,
          pendingSetup: null,
          model: null,
          sample: stoppedSample(s),
          training: { ...s.training, stage: msg.setup.kind === 'latent' ? 'denoiser' : s.training.stage },
          sampling: { ...s.sampling, digit: msg.setup.classConditional ? s.sampling.digit : null },
          pretrained: { ...s.pretrained, source: 'imported', status: 'idle', info: null, message: null },
        },
      };
    case 'pretrained/progress':
      if (msg.id !== s.pretrainedId) return NOTHING;
      return { patch: { pretrained: { ...s.pretrained, loaded: msg.loaded, total: msg.total, bytesPerSec: msg.bytesPerSec ?? null } } };
    case 'pretrained/loaded': {
      if (msg.id !== s.pretrainedId) return NOTHING;
      // The engine holds the pretrained model: the page takes its setup and proposes fine-tuning it.
      const { setup, info } = msg;
      const guidance = info.eval?.guidance;
      return {
        before: [{ type: 'new-model' }],
        book: { fineTuneForm: true },
        patch: {
          setup,
          pendingSetup: null,
          model: null,
          sample: stoppedSample(s),
          // Fine-tuning: the denoiser (a latent model's autoencoder is frozen), a few more steps at a small learning rate.
          training: { ...s.training, stage: 'denoiser', steps: info.denoiserSteps + FINE_TUNE_STEPS, learningRate: FINE_TUNE_LEARNING_RATE },
          sampling: {
            ...s.sampling,
            digit: setup.classConditional ? s.sampling.digit : null,
            ...(setup.classConditional && typeof guidance === 'number' && guidance >= 0 && guidance <= 10 ? { guidance } : {}),
          },
          pretrained: { source: 'pretrained', status: 'ready', kind: info.kind, loaded: 0, total: null, info, message: null },
        },
      };
    }
    case 'pretrained/failed': {
      if (msg.id !== s.pretrainedId) return NOTHING;
      // The files are missing or damaged and the engine kept its model: the page says why and falls
      // back to training from scratch, with the kind that was asked for.
      const { kind, message } = msg;
      const setup = s.setup.kind === kind ? s.setup : { ...s.setup, kind, attention: presetAttention({ ...s.setup, kind }) };
      return {
        patch: { setup, pendingSetup: null, pretrained: { source: 'scratch', status: 'failed', kind, loaded: 0, total: null, info: null, message } },
        after: [{ type: 'fresh-weights' }],
      };
    }
    case 'compare/state':
    case 'compare/progress':
    case 'compare/row':
      return { patch: {}, after: [{ type: 'compare', message: msg }] };
    case 'error': {
      const before: Effect[] = [];
      if (msg.source === 'compare') before.push({ type: 'compare-failed', message: msg.message });
      before.push({ type: 'report-error', message: msg.message, source: msg.source });
      if (msg.source === 'train' && s.recovery.restoring) before.push({ type: 'restore-failed' });
      const failed: Partial<AppState> = msg.source === 'init' ? failurePatch(s) : {};
      const sample = failed.sample ?? s.sample;
      return {
        before,
        // Whatever was waiting for an answer gets one: the request failed.
        book: msg.source === 'train' || msg.source === 'model' ? { requestedStage: null } : undefined,
        patch: {
          ...failed,
          transfer: 'idle',
          // A refused sample/start never reports a state: the run did not start.
          sample: msg.source === 'sample' && sample.state === 'running' && sample.elapsedMs === null ? { ...sample, state: 'idle' } : sample,
        },
      };
    }
    default: {
      const unknown: never = msg;
      return { patch: {}, before: [{ type: 'report-error', message: `Unknown message from the engine worker: ${JSON.stringify((unknown as { type?: unknown }).type)}`, source: 'worker' }] };
    }
  }
}
