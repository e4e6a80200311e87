/**
 * Worker messages on the page: the pure reducer (state and message in, store patch and follow-ups
 * out), and the engine client applying it with a fake worker (timers faked: progress is coalesced,
 * setup edits are debounced).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import { reduceMessage, type Effect, type MessageState } from '../../src/state/message-reducer';
import { FINE_TUNE_LEARNING_RATE, FINE_TUNE_STEPS } from '../../src/state/model-sources';
import { DEFAULT_SETUP, initialState } from '../../src/state/store';
import type { WorkerToPage } from '../../src/protocol/messages';
import type { PretrainedInfo } from '../../src/io/pretrained-info';
import { FakeWorker } from './fake-worker';

const READY: WorkerToPage = { type: 'ready', backend: 'wasm', requested: null, fallbackNote: null, adapter: null };

function info(denoiserSteps: number): PretrainedInfo {
  return { kind: 'pixel', name: 'pixel', autoencoderSteps: 0, denoiserSteps, trainingSeconds: null, finalLoss: null, plan: null, createdAt: null, eval: { guidance: 2 }, evalSampler: null, bytes: 1 };
}

function progress(stage: 'autoencoder' | 'denoiser', steps: number[], losses: number[], extra: { stepsPerSec?: number; etaSec?: number } = {}): WorkerToPage {
  const last = steps[steps.length - 1] ?? 0;
  return {
    type: 'train/progress',
    steps: Int32Array.from(steps),
    losses: Float32Array.from(losses),
    stepsPerSec: extra.stepsPerSec ?? 10,
    etaSec: extra.etaSec ?? 5,
    step: last,
    totalSteps: 100,
    stage,
    itemTimesteps: new Int32Array(0),
    itemLosses: new Float32Array(0),
  };
}

function started(search = '?pretrained=0'): { client: EngineClient; worker: FakeWorker } {
  const worker = new FakeWorker();
  const client = new EngineClient({ search, createWorker: () => worker as unknown as Worker });
  client.start();
  worker.answer(READY);
  return { client, worker };
}

afterEach(() => vi.useRealTimers());

/** A page that trains from scratch, with the engine ready and awaiting pretrained answer 7. */
function state(over: Partial<MessageState> = {}): MessageState {
  const s = initialState(null, null, 'scratch');
  return { ...s, engine: { ...s.engine, status: 'ready' }, requestedStage: null, pretrainedId: 7, fineTuneForm: false, justImported: false, ...over };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const effects = (r: { before?: readonly Effect[]; after?: readonly Effect[] }) => [...(r.before ?? []), ...(r.after ?? [])];
const sends = (r: { before?: readonly Effect[]; after?: readonly Effect[] }) => effects(r).flatMap((e) => (e.type === 'send' ? [e.message] : []));
const images = (n: number) => ({ pixels: new Float32Array(n * 4), n, h: 2, w: 2, c: 1 });

describe('the message reducer', () => {
  it('training progress hands its losses and figures on, and a new stage restarts the curve', () => {
    const s = state({ train: { ...state().train, lossStage: 'denoiser', lossVersion: 3 } });
    const msg = progress('denoiser', [5, 6], [0.5, 0.4], { stepsPerSec: 12.5, etaSec: 40 });
    const same = reduceMessage(s, msg);
    expect(same.patch).toEqual({});
    expect(same.before ?? []).toEqual([]);
    const [effect] = effects(same);
    expect(effect.type).toBe('progress');
    if (effect.type !== 'progress') throw new Error('no progress effect');
    expect(Array.from(effect.steps)).toEqual([5, 6]);
    expect(effect.progress).toMatchObject({ step: 6, stepsPerSec: 12.5, etaSec: 40 });
    expect(effect.bands?.T).toBe(s.setup.schedule.T);

    const other = reduceMessage(s, progress('autoencoder', [1], [0.2]));
    expect(other.before).toEqual([{ type: 'clear-loss' }]);
    expect(other.patch.train).toMatchObject({ lossStage: 'autoencoder', stage: 'autoencoder', lossPoints: 0, lossVersion: s.train.lossVersion + 1 });
    const next = effects(other).find((e) => e.type === 'progress');
    expect(next && next.type === 'progress' ? next.bands : 'missing').toBeNull(); // the autoencoder has no timestep bands
  });

  it('a running state takes the stage asked for; an idle model at step 0 has none', () => {
    const s = state({ requestedStage: 'autoencoder', train: { ...state().train, stage: 'denoiser', stepsPerSec: 9 } });
    const running = reduceMessage(s, { type: 'train/state', state: 'running', step: 0 });
    expect(running.patch.train).toMatchObject({ state: 'running', stage: 'autoencoder', stepsPerSec: 9 });
    expect(running.book).toEqual({ requestedStage: null });

    const paused = reduceMessage(s, { type: 'train/state', state: 'paused', step: 4 });
    expect(paused.patch.train).toMatchObject({ state: 'paused', step: 4, stage: 'denoiser', stepsPerSec: 0 });
    expect(paused.book?.requestedStage).toBeUndefined(); // still waiting for the run to start

    expect(reduceMessage(s, { type: 'train/state', state: 'idle', step: 0 }).patch.train?.stage).toBeNull();
  });

  it('sampling: the state follows the engine; a latent frame shows its decodings, previews wait for the run', () => {
    const s = state();
    expect(reduceMessage(s, { type: 'sample/state', state: 'paused' }).patch.sample?.state).toBe('paused');

    const xt = images(3);
    const decoded = images(3);
    const frame = reduceMessage(s, { type: 'sample/frame', index: 2, total: 10, t: 800, xt, x0: xt, decodedXt: decoded, decodedX0: decoded, elapsedMs: 50 });
    expect(frame.patch.sample).toMatchObject({ index: 2, total: 10, t: 800, elapsedMs: 50, numImages: 3, latent: true });
    expect(frame.before).toEqual([{ type: 'frames', frames: expect.objectContaining({ mode: 'sample', main: decoded, latentXt: xt }) }]);
    const pixel = reduceMessage(s, { type: 'sample/frame', index: 0, total: 10, t: 999, xt, x0: xt, decodedXt: null, decodedX0: null, elapsedMs: 5 });
    expect(pixel.patch.sample?.latent).toBe(false);
    expect(pixel.before).toEqual([{ type: 'frames', frames: expect.objectContaining({ main: xt, latentXt: null }) }]);

    const preview: WorkerToPage = { type: 'train/preview', step: 100, images: xt };
    expect(effects(reduceMessage(s, preview))).toHaveLength(1);
    expect(effects(reduceMessage({ ...s, sample: { ...s.sample, state: 'running' } }, preview))).toEqual([]);
  });

  it('an error is reported for its source, and what waited on it stops waiting', () => {
    const s = state({ requestedStage: 'denoiser', recovery: { offer: null, last: null, restoring: true } });
    for (const source of ['setup', 'train', 'sample', 'data', 'model', 'compare'] as const) {
      const r = reduceMessage(s, { type: 'error', source, message: `bad ${source}` });
      expect(effects(r)).toContainEqual({ type: 'report-error', message: `bad ${source}`, source });
      expect(r.patch.transfer).toBe('idle');
      expect(r.book?.requestedStage === null).toBe(source === 'train' || source === 'model');
      expect(effects(r).some((e) => e.type === 'restore-failed')).toBe(source === 'train');
      expect(effects(r).some((e) => e.type === 'compare-failed')).toBe(source === 'compare');
      expect(r.patch.engine).toBeUndefined();
    }

    // A refused sample/start (no frame yet) goes back to idle; a run that has drawn frames waits for its state.
    const refused = { ...s.sample, state: 'running' as const, elapsedMs: null };
    expect(reduceMessage({ ...s, sample: refused }, { type: 'error', source: 'sample', message: 'x' }).patch.sample?.state).toBe('idle');
    expect(reduceMessage({ ...s, sample: { ...refused, elapsedMs: 10 } }, { type: 'error', source: 'sample', message: 'x' }).patch.sample?.state).toBe('running');

    // A failed init fails the engine, and the pretrained load that waited for it.
    const starting = state({ engine: { ...s.engine, status: 'starting' }, pretrained: { ...s.pretrained, source: 'pretrained', status: 'loading' } });
    const init = reduceMessage(starting, { type: 'error', source: 'init', message: 'no backend' });
    expect(init.patch.engine?.status).toBe('failed');
    expect(init.patch.pretrained).toMatchObject({ source: 'scratch', status: 'failed' });
  });

  it('the awaited pretrained model becomes the source with a fine-tuning proposal; a superseded answer is ignored', () => {
    const s = state({ pretrainedId: 7, pretrained: { ...state().pretrained, source: 'pretrained', status: 'loading' } });
    const setup = { ...DEFAULT_SETUP, emaDecay: 0.999 };
    const loaded = reduceMessage(s, { type: 'pretrained/loaded', id: 7, kind: 'pixel', setup, info: info(800) });
    expect(loaded.patch.pretrained).toMatchObject({ source: 'pretrained', status: 'ready', kind: 'pixel' });
    expect(loaded.patch.setup).toBe(setup);
    expect(loaded.patch.training).toMatchObject({ stage: 'denoiser', steps: 800 + FINE_TUNE_STEPS, learningRate: FINE_TUNE_LEARNING_RATE });
    expect(loaded.patch.sampling?.guidance).toBe(info(800).eval?.guidance);
    expect(loaded.book).toEqual({ fineTuneForm: true });
    expect(loaded.before).toEqual([{ type: 'new-model' }]);

    for (const stale of [
      { type: 'pretrained/loaded', id: 6, kind: 'pixel', setup, info: info(800) },
      { type: 'pretrained/progress', id: 6, kind: 'pixel', loaded: 10, total: 100 },
      { type: 'pretrained/failed', id: 6, kind: 'latent', message: 'gone' },
    ] satisfies WorkerToPage[]) {
      const r = reduceMessage(s, stale);
      expect(r.patch, stale.type).toEqual({});
      expect(effects(r), stale.type).toEqual([]);
    }
    expect(reduceMessage(s, { type: 'pretrained/progress', id: 7, kind: 'pixel', loaded: 10, total: 100 }).patch.pretrained).toMatchObject({ loaded: 10, total: 100 });
  });

  it('a failed pretrained load falls back to fresh weights of the kind asked for', () => {
    const s = state({ pretrained: { ...state().pretrained, source: 'pretrained', status: 'loading', kind: 'latent' } });
    const r = reduceMessage(s, { type: 'pretrained/failed', id: s.pretrainedId, kind: 'latent', message: 'missing' });
    expect(r.patch.setup?.kind).toBe('latent');
    expect(r.patch.pretrained).toMatchObject({ source: 'scratch', status: 'failed', kind: 'latent', message: 'missing' });
    expect(r.after).toEqual([{ type: 'fresh-weights' }]);
  });

  it('an imported model becomes the source; its first model message picks a latent model\'s stage', () => {
    const s = state({ sample: { ...state().sample, state: 'paused' } });
    const imported = reduceMessage(s, { type: 'model/imported', setup: { ...DEFAULT_SETUP, classConditional: false } });
    expect(imported.patch.pretrained?.source).toBe('imported');
    expect(imported.patch.sample?.state).toBe('idle');
    expect(imported.patch.sampling?.digit).toBeNull();
    expect(imported.book).toEqual({ justImported: true });

    const model = { type: 'model', kind: 'latent', preset: 'latent-tiny', paramCount: 1, flopsPerStep: 1, decodeFlops: 0, denoiserSteps: 0, peakTrainBytes: null, peakSampleBytes: null } as const;
    const fresh = reduceMessage(state({ justImported: true }), { ...model, autoencoderSteps: 0 });
    expect(fresh.patch.training?.stage).toBe('autoencoder');
    expect(fresh.book).toEqual({ justImported: false });
    expect(reduceMessage(state({ justImported: true }), { ...model, autoencoderSteps: 50 }).patch.training?.stage).toBe('denoiser');
    const later = reduceMessage(state(), { ...model, autoencoderSteps: 50 });
    expect(later.patch.training).toBeUndefined();
    expect(later.patch.model).toMatchObject({ kind: 'latent', autoencoderSteps: 50 });
  });

  it('a ready engine is sent a valid setup, the data preview request and the awaited pretrained request', () => {
    const starting = state({ engine: { ...state().engine, status: 'starting' } });
    const msg: WorkerToPage = { ...READY, wasmThreads: 4 };
    const r = reduceMessage(starting, msg);
    expect(r.patch.engine).toMatchObject({ status: 'ready', backend: 'wasm', wasmThreads: 4, choiceNote: null });
    expect(reduceMessage(starting, { ...msg, choiceNote: 'wasm: 12× faster here than WebGPU' }).patch.engine?.choiceNote).toBe('wasm: 12× faster here than WebGPU');
    expect(sends(r).map((m) => m.type)).toEqual(['setup', 'data/preview']);
    expect(effects(r).at(-1)).toEqual({ type: 'recovery-ready' });

    const loading = reduceMessage(state({ ...starting, pretrained: { ...starting.pretrained, source: 'pretrained', status: 'loading', kind: 'latent' } }), msg);
    expect(sends(loading).at(-1)).toEqual({ type: 'model/pretrained', kind: 'latent', id: starting.pretrainedId });

    const invalid = { ...DEFAULT_SETUP, schedule: { ...DEFAULT_SETUP.schedule, T: 5 } };
    expect(sends(reduceMessage({ ...starting, setup: invalid }, msg)).map((m) => m.type)).toEqual(['data/preview']);
  });

  it('memory figures change the store only when they change', () => {
    const s = state({ memory: { numTensors: 3, numBytes: 100 } });
    expect(reduceMessage(s, { type: 'memory', numTensors: 3, numBytes: 100 }).patch).toEqual({});
    expect(reduceMessage(s, { type: 'memory', numTensors: 4, numBytes: 100 }).patch.memory).toEqual({ numTensors: 4, numBytes: 100 });
  });

  it('changes nothing it is given', () => {
    const s = deepFreeze(state({ requestedStage: 'denoiser', justImported: true, sample: { ...state().sample, state: 'running' } }));
    const messages: WorkerToPage[] = [
      READY,
      { type: 'memory', numTensors: 1, numBytes: 2 },
      { type: 'train/state', state: 'running', step: 1 },
      progress('autoencoder', [1], [0.3]),
      { type: 'sample/state', state: 'idle' },
      { type: 'model/imported', setup: DEFAULT_SETUP },
      { type: 'pretrained/loaded', id: s.pretrainedId, kind: 'pixel', setup: DEFAULT_SETUP, info: info(10) },
      { type: 'pretrained/failed', id: s.pretrainedId, kind: 'latent', message: 'x' },
      { type: 'error', source: 'init', message: 'x' },
      { type: 'error', source: 'sample', message: 'x' },
    ];
    for (const msg of messages) expect(() => reduceMessage(s, msg), msg.type).not.toThrow();
  });
});

describe('the engine client applying messages', () => {
  it('a ready engine gets the setup, a data preview request and the awaited pretrained request', () => {
    const { client, worker } = started('');
    expect(client.store.getState().engine.status).toBe('ready');
    expect(worker.sentOf('setup')).toHaveLength(1);
    expect(worker.sentOf('data/preview')).toHaveLength(1);
    expect(worker.sentOf('model/pretrained')).toHaveLength(1);
  });

  it('training progress reaches the store at most once per flush interval, with the loss history behind it', () => {
    vi.useFakeTimers();
    const { client, worker } = started();
    client.startTraining();
    worker.answer({ type: 'train/state', state: 'running', step: 0 });
    expect(client.store.getState().train).toMatchObject({ state: 'running', stage: 'denoiser' });
    worker.answer(progress('denoiser', [1], [1.0])); // the run's first curve
    vi.advanceTimersByTime(1000);
    let updates = 0;
    const stop = client.store.subscribe((s, prev) => {
      if (s.train !== prev.train) updates++;
    });
    worker.answer(progress('denoiser', [2, 3], [0.9, 0.8], { stepsPerSec: 12, etaSec: 8 }));
    vi.advanceTimersByTime(150);
    worker.answer(progress('denoiser', [4, 5], [0.7, 0.6], { stepsPerSec: 14, etaSec: 7 }));
    expect(client.loss.length).toBe(5);
    expect(updates).toBe(0);
    vi.advanceTimersByTime(60);
    expect(updates).toBe(1);
    const train = client.store.getState().train;
    expect(train).toMatchObject({ step: 5, stepsPerSec: 14, etaSec: 7, lossPoints: 5 });
    expect(train.lastLoss).toBeCloseTo(0.6);

    // A message shortly after a flush waits for a full interval of its own.
    vi.advanceTimersByTime(40);
    worker.answer(progress('denoiser', [6], [0.5]));
    vi.advanceTimersByTime(110);
    expect(updates).toBe(1);
    vi.advanceTimersByTime(100);
    expect(updates).toBe(2);
    expect(client.store.getState().train.step).toBe(6);
    stop();
  });

  it('a state change shows the progress held back first', () => {
    vi.useFakeTimers();
    const { client, worker } = started();
    client.startTraining();
    worker.answer({ type: 'train/state', state: 'running', step: 0 });
    worker.answer(progress('denoiser', [1, 2, 3], [0.9, 0.8, 0.7], { stepsPerSec: 20 }));
    worker.answer({ type: 'train/state', state: 'paused', step: 3 });
    expect(client.store.getState().train).toMatchObject({ state: 'paused', step: 3, lossPoints: 3, stepsPerSec: 0 });
  });

  it('a new stage starts a new loss curve', () => {
    const { client, worker } = started();
    worker.answer(progress('autoencoder', [1, 2], [0.5, 0.4]));
    worker.answer(progress('denoiser', [1], [0.9]));
    expect(client.loss.toArrays().steps).toEqual([1]);
    expect(client.store.getState().train.lossStage).toBe('denoiser');
  });

  it('a setup edit is sent after the pause, and not at all when a pretrained model arrives first', () => {
    vi.useFakeTimers();
    const { client, worker } = started();
    const sent = worker.sentOf('setup').length;
    client.updateSetup((m) => ({ ...m, schedule: { ...m.schedule, T: 300 } }));
    expect(worker.sentOf('setup')).toHaveLength(sent);
    vi.advanceTimersByTime(300);
    expect(worker.sentOf('setup')).toHaveLength(sent + 1);

    client.loadPretrained('pixel');
    client.updateSetup((m) => ({ ...m, schedule: { ...m.schedule, T: 400 } }));
    const id = worker.sentOf('model/pretrained').at(-1)?.id ?? -1;
    worker.answer({ type: 'pretrained/loaded', id, kind: 'pixel', setup: DEFAULT_SETUP, info: info(1000) });
    vi.advanceTimersByTime(1000);
    expect(worker.sentOf('setup')).toHaveLength(sent + 1);
    expect(client.store.getState().pretrained.status).toBe('ready');
  });

  it('an answer to a pretrained request the user has left is ignored', () => {
    const { client, worker } = started('');
    const id = worker.sentOf('model/pretrained')[0].id;
    client.trainFromScratch();
    worker.answer({ type: 'pretrained/loaded', id, kind: 'pixel', setup: DEFAULT_SETUP, info: info(1000) });
    expect(client.store.getState().pretrained.source).toBe('scratch');
  });

  it('a failed pretrained load falls back to fresh weights of the kind asked for', () => {
    const { client, worker } = started('');
    client.loadPretrained('latent');
    const id = worker.sentOf('model/pretrained').at(-1)?.id ?? -1;
    const setups = worker.sentOf('setup').length;
    worker.answer({ type: 'pretrained/failed', id, kind: 'latent', message: 'missing' });
    const s = client.store.getState();
    expect(s.pretrained).toMatchObject({ source: 'scratch', status: 'failed', message: 'missing' });
    expect(s.setup.kind).toBe('latent');
    expect(s.training.stage).toBe('autoencoder');
    expect(worker.sentOf('setup')).toHaveLength(setups + 1);
  });

  it('an init error fails the engine; a refused sampling run goes back to idle', () => {
    const worker = new FakeWorker();
    const client = new EngineClient({ search: '?pretrained=0', createWorker: () => worker as unknown as Worker });
    client.start();
    worker.answer({ type: 'error', source: 'init', message: 'no backend' });
    expect(client.store.getState().engine.status).toBe('failed');
    expect(client.store.getState().errors.map((e) => [e.source, e.message])).toEqual([['init', 'no backend']]);

    const other = started();
    other.client.startSampling();
    expect(other.client.store.getState().sample.state).toBe('running');
    other.worker.answer({ type: 'error', source: 'sample', message: 'no model' });
    expect(other.client.store.getState().sample.state).toBe('idle');
  });

  it('an imported latent model picks its training stage from its first model message', () => {
    const { client, worker } = started();
    const latent = { ...DEFAULT_SETUP, kind: 'latent' as const };
    worker.answer({ type: 'model/imported', setup: latent });
    expect(client.store.getState().pretrained.source).toBe('imported');
    const model: WorkerToPage = {
      type: 'model',
      kind: 'latent',
      preset: 'latent-tiny',
      paramCount: 1,
      flopsPerStep: 1,
      decodeFlops: 1,
      autoencoderSteps: 0,
      denoiserSteps: 0,
      peakTrainBytes: null,
      peakSampleBytes: null,
    };
    worker.answer(model);
    expect(client.store.getState().training.stage).toBe('autoencoder');
    client.setTraining({ stage: 'autoencoder' });
    worker.answer({ ...model, autoencoderSteps: 5 });
    expect(client.store.getState().training.stage).toBe('autoencoder'); // only the first message after the import decides
  });
});
