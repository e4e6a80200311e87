/**
 * Keeping the previous model: a change of setup (or of source) puts a trained or pretrained model
 * aside before replacing it, and "Undo: switch back" brings it back, through the engine client with
 * a fake worker (what the page sends, and the worker's answers played by the test).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import { describeModel } from '../../src/state/model-words';
import { setupChanges } from '../../src/state/setup-sync';
import { DEFAULT_SETUP, type ExportedFile } from '../../src/state/store';
import type { WorkerToPage } from '../../src/protocol/messages';
import type { PretrainedInfo } from '../../src/io/pretrained-info';
import type { ModelSetup } from '../../src/models/setup/model-setup';
import { FakeWorker } from './fake-worker';

const READY: WorkerToPage = { type: 'ready', backend: 'wasm', requested: null, fallbackNote: null, adapter: null };
const PRETRAINED_SETUP: ModelSetup = { ...DEFAULT_SETUP, preset: 'small', attention: true, emaDecay: 0.999 };

function info(kind: 'pixel' | 'latent' = 'pixel', denoiserSteps = 1000): PretrainedInfo {
  return { kind, name: kind, autoencoderSteps: 0, denoiserSteps, trainingSeconds: null, finalLoss: null, plan: null, createdAt: null, eval: { guidance: 2 }, evalSampler: null, bytes: 1 };
}

function modelMessage(kind: 'pixel' | 'latent', denoiserSteps: number): WorkerToPage {
  return { type: 'model', kind, preset: kind === 'pixel' ? 'small' : 'latent-tiny', paramCount: 1, flopsPerStep: 1, decodeFlops: 0, autoencoderSteps: 0, denoiserSteps, peakTrainBytes: null, peakSampleBytes: null };
}

/** Model files as the worker exports them (distinct bytes per model, to tell them apart). */
function files(tag: number): { name: string; data: ArrayBuffer }[] {
  return [
    { name: 'model.json', data: new TextEncoder().encode(`{"tag":${tag}}`).buffer as ArrayBuffer },
    { name: 'weights.bin', data: new Float32Array([tag, tag, tag]).buffer as ArrayBuffer },
  ];
}

/** A started page; on `pretrained`, with the pretrained pixel model loaded (1,000 steps). */
function page(pretrained: boolean): { client: EngineClient; worker: FakeWorker; downloads: ExportedFile[] } {
  const worker = new FakeWorker();
  const downloads: ExportedFile[] = [];
  const client = new EngineClient({ search: pretrained ? '' : '?pretrained=0', createWorker: () => worker as unknown as Worker, download: (f) => downloads.push(f) });
  client.start();
  worker.answer(READY);
  if (pretrained) {
    loadPretrained(worker, 'pixel');
  }
  return { client, worker, downloads };
}

/** Answers the last pretrained request: the model is loaded. */
function loadPretrained(worker: FakeWorker, kind: 'pixel' | 'latent'): void {
  const { id } = worker.last('model/pretrained');
  const setup = kind === 'pixel' ? PRETRAINED_SETUP : { ...PRETRAINED_SETUP, kind: 'latent' as const };
  worker.answer({ type: 'pretrained/loaded', id, kind, setup, info: info(kind) });
  worker.answer(modelMessage(kind, 1000));
  worker.answer({ type: 'train/state', state: 'idle', step: 1000 });
}

const withT = (T: number) => (m: ModelSetup) => ({ ...m, schedule: { ...m.schedule, T } });

afterEach(() => vi.useRealTimers());

describe('an untouched pretrained model', () => {
  it('a changed T asks first, keeps the pretrained model by its kind, and Undo loads it again', () => {
    const { client, worker } = page(true);
    client.updateSetup(withT(100));
    let s = client.store.getState();
    expect(s.pendingSetup?.schedule.T).toBe(100);
    expect(s.setup.schedule.T).toBe(1000);
    expect(setupChanges(s.setup, s.pendingSetup!)).toEqual(['Diffusion steps T: 1000 → 100']);

    const from = worker.sent.length;
    client.confirmReset();
    // Nothing to export: the pretrained files are the model.
    expect(worker.typesSince(from)).toEqual(['train/reset', 'setup']);
    s = client.store.getState();
    expect(s.keep.kept).toMatchObject({ via: 'pretrained', label: 'the pretrained pixel DDPM', name: 'the pretrained pixel DDPM' });
    expect(s.pretrained.source).toBe('scratch');
    expect(s.setup.schedule.T).toBe(100);

    client.switchBack();
    expect(worker.last('model/pretrained').kind).toBe('pixel');
    expect(client.store.getState().keep.status).toBe('restoring');
    loadPretrained(worker, 'pixel');
    s = client.store.getState();
    expect(s.pretrained).toMatchObject({ source: 'pretrained', status: 'ready', kind: 'pixel' });
    expect(s.setup.schedule.T).toBe(1000);
    // The fresh weights had no training: nothing took the pretrained model's place.
    expect(s.keep).toEqual({ kept: null, status: 'idle', message: null });
  });

  it('a change of kind loads the other pretrained model at once, and keeps this one', () => {
    const { client, worker } = page(true);
    client.updateSetup((m) => ({ ...m, kind: 'latent' }));
    expect(client.store.getState().pendingSetup).toBeNull();
    expect(worker.last('model/pretrained').kind).toBe('latent');
    expect(client.store.getState().keep.kept).toMatchObject({ via: 'pretrained', name: 'the pretrained pixel DDPM' });
    loadPretrained(worker, 'latent');
    // Switching back swaps: the latent model (untouched) is kept in its place.
    client.switchBack();
    expect(worker.last('model/pretrained').kind).toBe('pixel');
    expect(client.store.getState().keep.kept).toMatchObject({ via: 'pretrained', name: 'the pretrained latent diffusion model (LDM)' });
  });
});

describe('a trained model', () => {
  it('is exported before the change goes ahead, and Undo imports it back as it was', () => {
    const { client, worker } = page(true);
    // Fine-tuned: 120 steps beyond the pretrained 1,000.
    worker.answer(modelMessage('pixel', 1120));
    worker.answer({ type: 'train/state', state: 'done', step: 1120 });
    expect(describeModel(client.store.getState()).label).toBe('the pretrained pixel DDPM fine-tuned for 120 steps');
    const form = client.store.getState().training;

    client.updateSetup(withT(500));
    const from = worker.sent.length;
    client.confirmReset();
    // The model's files come first; nothing is reset before they are here.
    expect(worker.typesSince(from)).toEqual(['model/export']);
    expect(client.store.getState().keep.status).toBe('saving');
    expect(client.store.getState().pendingSetup?.schedule.T).toBe(500);

    const kept = files(1);
    worker.answer({ type: 'model/exported', files: kept });
    expect(worker.typesSince(from)).toEqual(['model/export', 'train/reset', 'setup']);
    let s = client.store.getState();
    expect(s.keep.status).toBe('idle');
    expect(s.keep.kept).toMatchObject({ via: 'files', label: 'the pretrained pixel DDPM fine-tuned for 120 steps', name: 'the fine-tuned pixel DDPM', bytes: kept[0].data.byteLength + 12 });
    expect(s.setup.schedule.T).toBe(500);
    expect(s.pretrained.source).toBe('scratch');
    expect(s.exported).toEqual([]); // kept, not downloaded

    client.switchBack();
    const request = worker.last('model/import');
    // Copies of the kept files (the message transfers its buffers).
    expect(request.files.map((f) => new Uint8Array(f.data))).toEqual(kept.map((f) => new Uint8Array(f.data)));
    expect(request.files[1].data).not.toBe(kept[1].data);
    expect(client.store.getState().transfer).toBe('importing');
    worker.answer({ type: 'model/imported', setup: PRETRAINED_SETUP });
    worker.answer(modelMessage('pixel', 1120));
    s = client.store.getState();
    // The pretrained model again, fine-tuned as it was, with its fine-tuning form.
    expect(s.pretrained).toMatchObject({ source: 'pretrained', status: 'ready', kind: 'pixel' });
    expect(s.pretrained.info?.denoiserSteps).toBe(1000);
    expect(s.setup.schedule.T).toBe(1000);
    expect(s.training).toEqual(form);
    expect(s.transfer).toBe('idle');
    expect(s.keep).toEqual({ kept: null, status: 'idle', message: null });
  });

  it('a run in progress is paused before its files are taken', () => {
    const { client, worker } = page(false);
    worker.answer(modelMessage('pixel', 30));
    worker.answer({ type: 'train/state', state: 'running', step: 30 });
    client.updateSetup(withT(200));
    const from = worker.sent.length;
    client.confirmReset();
    expect(worker.typesSince(from)).toEqual(['train/pause', 'model/export']);
  });

  it('switching back swaps: the model trained since is kept in its place', () => {
    const { client, worker } = page(false);
    worker.answer(modelMessage('pixel', 50));
    client.updateSetup((m) => ({ ...m, schedule: { ...m.schedule, kind: 'cosine' } }));
    client.confirmReset();
    worker.answer({ type: 'model/exported', files: files(1) });
    expect(client.store.getState().keep.kept?.label).toBe('the pixel DDPM trained here for 50 steps (linear schedule, T = 1000)');
    expect(client.store.getState().keep.kept?.name).toBe('your pixel DDPM (linear, T = 1000)');

    // The cosine model trains 30 steps; then back to the linear one.
    worker.answer(modelMessage('pixel', 30));
    const from = worker.sent.length;
    client.switchBack();
    expect(worker.typesSince(from)).toEqual(['model/export']);
    worker.answer({ type: 'model/exported', files: files(2) });
    expect(worker.typesSince(from)).toEqual(['model/export', 'model/import']);
    expect(new Float32Array(worker.last('model/import').files[1].data)[0]).toBe(1);
    expect(client.store.getState().keep.kept?.label).toBe('the pixel DDPM trained here for 30 steps (cosine schedule, T = 1000)');
    worker.answer({ type: 'model/imported', setup: DEFAULT_SETUP });
    expect(client.store.getState().setup.schedule.kind).toBe('linear');
    expect(client.store.getState().pretrained.source).toBe('scratch');

    // And back again: the cosine model's files.
    worker.answer(modelMessage('pixel', 50));
    client.switchBack();
    worker.answer({ type: 'model/exported', files: files(3) });
    expect(new Float32Array(worker.last('model/import').files[1].data)[0]).toBe(2);
  });

  it('a model that cannot be kept is not changed; the user may then discard it', () => {
    const { client, worker } = page(false);
    worker.answer(modelMessage('pixel', 50));
    client.updateSetup(withT(300));
    client.confirmReset();
    worker.answer({ type: 'error', source: 'model', message: 'out of memory' });
    let s = client.store.getState();
    expect(s.keep.status).toBe('idle');
    expect(s.keep.message).toBe('The current model could not be kept (out of memory), so nothing was changed.');
    expect(s.pendingSetup?.schedule.T).toBe(300);
    expect(s.setup.schedule.T).toBe(1000);
    expect(worker.sent.some((m) => m.type === 'train/reset')).toBe(false);

    client.confirmReset(false);
    s = client.store.getState();
    expect(s.setup.schedule.T).toBe(300);
    expect(s.keep.kept).toBeNull();
    expect(worker.last('train/reset')).toBeDefined();
  });

  it('a refused switch back leaves the engine\'s model, and the kept one stays kept', () => {
    const { client, worker } = page(false);
    worker.answer(modelMessage('pixel', 50));
    client.updateSetup(withT(300));
    client.confirmReset();
    worker.answer({ type: 'model/exported', files: files(1) });
    const label = client.store.getState().keep.kept?.label;
    client.switchBack(); // the new model is untrained: straight to the import
    worker.answer({ type: 'error', source: 'model', message: 'model file: bad bytes' });
    const s = client.store.getState();
    expect(s.keep.kept?.label).toBe(label);
    expect(s.keep.message).toBe(`Could not switch back to ${label}: model file: bad bytes`);
    expect(s.setup.schedule.T).toBe(300);
  });

  it('a change undone while its model was being kept leaves the model, and the slot, as they were', () => {
    const { client, worker } = page(false);
    worker.answer(modelMessage('pixel', 50));
    client.updateSetup(withT(300));
    client.confirmReset();
    client.updateSetup(withT(1000)); // back to the model's own setup: nothing is pending any more
    expect(client.store.getState().pendingSetup).toBeNull();
    worker.answer({ type: 'model/exported', files: files(1) });
    const s = client.store.getState();
    expect(s.keep).toEqual({ kept: null, status: 'idle', message: null });
    expect(s.setup.schedule.T).toBe(1000);
    expect(worker.sent.some((m) => m.type === 'train/reset')).toBe(false);
  });

  it('a restarted worker ends a keep in flight without changing the model', () => {
    const { client, worker } = page(false);
    worker.answer(modelMessage('pixel', 50));
    client.updateSetup(withT(300));
    client.confirmReset();
    worker.answer(READY);
    const s = client.store.getState();
    expect(s.keep.status).toBe('idle');
    expect(s.keep.message).toBe('The engine restarted before the model change finished; try again.');
    expect(s.pendingSetup?.schedule.T).toBe(300);
  });

  it('an export for download is still downloaded, and not taken for a keep', () => {
    const { client, worker, downloads } = page(false);
    worker.answer(modelMessage('pixel', 50));
    client.exportModel();
    worker.answer({ type: 'model/exported', files: files(1) });
    expect(downloads.map((f) => f.name)).toEqual(['diffusion-model.json', 'diffusion-weights.bin']);
    client.updateSetup(withT(300));
    client.confirmReset();
    worker.answer({ type: 'model/exported', files: files(2) });
    expect(downloads).toHaveLength(2);
    expect(client.store.getState().keep.kept?.via).toBe('files');
  });
});

describe('other sources', () => {
  it('"Train from scratch" keeps a fine-tuned model; an untouched pretrained model does not displace it', () => {
    const { client, worker } = page(true);
    worker.answer(modelMessage('pixel', 1010));
    client.trainFromScratch();
    expect(client.store.getState().pretrained.source).toBe('pretrained'); // waiting for the files
    worker.answer({ type: 'model/exported', files: files(1) });
    expect(client.store.getState().pretrained.source).toBe('scratch');
    expect(client.store.getState().keep.kept?.label).toBe('the pretrained pixel DDPM fine-tuned for 10 steps');

    // Load the pretrained model again (untouched), then switch kind: the fine-tuned model stays kept.
    client.loadPretrained('pixel');
    loadPretrained(worker, 'pixel');
    client.updateSetup((m) => ({ ...m, kind: 'latent' }));
    expect(worker.last('model/pretrained').kind).toBe('latent');
    expect(client.store.getState().keep.kept?.label).toBe('the pretrained pixel DDPM fine-tuned for 10 steps');
  });

  it('nothing is kept of fresh, untrained weights', () => {
    const { client } = page(false);
    client.updateSetup(withT(300));
    expect(client.store.getState().setup.schedule.T).toBe(300);
    expect(client.store.getState().keep.kept).toBeNull();
    client.forgetKept();
    expect(client.store.getState().keep.kept).toBeNull();
  });
});
