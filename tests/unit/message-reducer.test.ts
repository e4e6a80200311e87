/**
 * Worker messages on the page: the pure reducer (state and message in, store patch and follow-ups
 * out), and the engine client applying it with a fake worker (timers faked: progress is coalesced,
 * setup edits are debounced).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import { DEFAULT_SETUP } from '../../src/state/store';
import type { PageToWorker, WorkerToPage } from '../../src/protocol/messages';
import type { PretrainedInfo } from '../../src/io/pretrained-info';

/** A worker that records what the page sends and lets the test answer. */
class FakeWorker {
  sent: PageToWorker[] = [];
  private listeners: ((ev: MessageEvent<WorkerToPage>) => void)[] = [];
  addEventListener(type: string, fn: (ev: MessageEvent<WorkerToPage>) => void): void {
    if (type === 'message') this.listeners.push(fn);
  }
  postMessage(msg: PageToWorker): void {
    this.sent.push(msg);
  }
  terminate(): void {}
  answer(msg: WorkerToPage): void {
    for (const fn of this.listeners) fn({ data: msg } as MessageEvent<WorkerToPage>);
  }
  sentOf<T extends PageToWorker['type']>(type: T): Extract<PageToWorker, { type: T }>[] {
    return this.sent.filter((m): m is Extract<PageToWorker, { type: T }> => m.type === type);
  }
}

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

describe('the engine client applying messages', () => {
  it('a ready engine gets the setup, a data preview request and the awaited pretrained request', () => {
    const { client, worker } = started('');
    expect(client.store.getState().engine.status).toBe('ready');
    expect(worker.sentOf('setup')).toHaveLength(1);
    expect(worker.sentOf('data/preview')).toHaveLength(1);
    expect(worker.sentOf('model/pretrained')).toHaveLength(1);
  });

  it('training progress reaches the store at most once per flush, with the loss history behind it', () => {
    vi.useFakeTimers();
    const { client, worker } = started();
    client.startTraining();
    worker.answer({ type: 'train/state', state: 'running', step: 0 });
    expect(client.store.getState().train).toMatchObject({ state: 'running', stage: 'denoiser' });
    let updates = 0;
    const stop = client.store.subscribe((s, prev) => {
      if (s.train !== prev.train) updates++;
    });
    worker.answer(progress('denoiser', [1, 2], [0.9, 0.8], { stepsPerSec: 12, etaSec: 8 }));
    worker.answer(progress('denoiser', [3, 4], [0.7, 0.6], { stepsPerSec: 14, etaSec: 7 }));
    expect(client.loss.length).toBe(4);
    const before = updates;
    vi.advanceTimersByTime(250);
    expect(updates - before).toBe(1);
    const train = client.store.getState().train;
    expect(train).toMatchObject({ step: 4, stepsPerSec: 14, etaSec: 7, lossPoints: 4 });
    expect(train.lastLoss).toBeCloseTo(0.6);
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
