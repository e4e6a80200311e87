/**
 * A link applied to the page (through the engine client, with a fake worker), the address bar kept
 * in step with the settings, and the presets.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import { applyPageLink, FRESH_WEIGHTS_NOTE, pageQuery, syncUrl, type AddressBar } from '../../src/state/share-link';
import { applyPreset, presetActive, PRESETS } from '../../src/state/share-presets';
import { DEFAULT_SETUP } from '../../src/state/store';
import type { WorkerToPage } from '../../src/protocol/messages';
import type { PretrainedInfo } from '../../src/io/pretrained-info';
import { FakeWorker } from './fake-worker';

function page(search: string): { client: EngineClient; worker: FakeWorker } {
  const worker = new FakeWorker();
  const client = new EngineClient({ search, createWorker: () => worker as unknown as Worker });
  applyPageLink(client, search);
  return { client, worker };
}

const READY: WorkerToPage = { type: 'ready', backend: 'wasm', requested: null, fallbackNote: null, adapter: null };

function info(denoiserSteps: number): PretrainedInfo {
  return { kind: 'pixel', name: 'pixel', autoencoderSteps: 0, denoiserSteps, trainingSeconds: null, finalLoss: null, plan: null, createdAt: null, eval: { guidance: 2 }, evalSampler: null, bytes: 1 };
}

afterEach(() => vi.useRealTimers());

describe('applying a link', () => {
  it('a scratch link sets the setup and the forms', () => {
    const { client } = page('?pretrained=0&T=500&unet=small&lr=0.001&batch=4&steps=30&w=3&sampler=ddpm');
    const s = client.store.getState();
    expect(s.pretrained.source).toBe('scratch');
    expect(s.setup.schedule.T).toBe(500);
    expect(s.setup.preset).toBe('small');
    expect(s.setup.attention).toBe(true);
    expect(s.training.learningRate).toBe(0.001);
    expect(s.training.batchSize).toBe(4);
    expect(s.sampling).toMatchObject({ steps: 30, guidance: 3, kind: 'ddpm' });
    expect(s.linkNotes).toEqual([]);
  });

  it('a link with its own model starts from fresh weights instead of the pretrained model, and says so', () => {
    const { client, worker } = page('?T=200&cond=0');
    expect(client.store.getState().pretrained.source).toBe('scratch');
    expect(client.store.getState().linkNotes).toEqual([FRESH_WEIGHTS_NOTE]);
    client.start();
    worker.answer(READY);
    expect(worker.sent.some((m) => m.type === 'model/pretrained')).toBe(false);
    const setup = worker.sent.find((m) => m.type === 'setup');
    expect(setup && setup.type === 'setup' ? [setup.setup.schedule.T, setup.setup.classConditional] : null).toEqual([200, false]);
  });

  it('a pretrained link keeps the pretrained model, and its form values win over the fine-tuning proposal', () => {
    const { client, worker } = page('?lr=0.0005&steps=30&w=4');
    client.start();
    worker.answer(READY);
    const request = worker.sent.find((m) => m.type === 'model/pretrained');
    expect(request).toBeDefined();
    const id = request && request.type === 'model/pretrained' ? request.id : -1;
    worker.answer({ type: 'pretrained/loaded', id, kind: 'pixel', setup: { ...DEFAULT_SETUP, emaDecay: 0.999 }, info: info(1000) });
    const s = client.store.getState();
    expect(s.pretrained.status).toBe('ready');
    expect(s.setup.emaDecay).toBe(0.999);
    expect(s.training.learningRate).toBe(0.0005);
    expect(s.training.steps).toBe(1200); // the proposal, not in the link
    expect(s.sampling.steps).toBe(30);
    expect(s.sampling.guidance).toBe(4);
    // The page's own link now: the fine-tuning proposal and the model are implied, the rest is written.
    expect(pageQuery(s, '')).toBe('?lr=0.0005&steps=30&w=4');
  });

  it('?model=latent on a pretrained page loads the pretrained latent model', () => {
    const { client } = page('?model=latent');
    expect(client.store.getState().pretrained).toMatchObject({ source: 'pretrained', status: 'loading', kind: 'latent' });
  });

  it('bad parameters become notes and the rest still applies', () => {
    const { client } = page('?pretrained=0&T=5000&bogus=1&sampler=fast&seed=9');
    const s = client.store.getState();
    expect(s.setup.schedule.T).toBe(1000);
    expect(s.sampling.seed).toBe(9);
    expect(s.sampling.kind).toBe('ddim');
    expect(s.linkNotes).toHaveLength(3);
  });
});

describe('the address bar', () => {
  it('follows the settings after a pause, keeping ?backend', () => {
    vi.useFakeTimers();
    const { client } = page('?backend=wasm&pretrained=0&foo=1');
    const writes: string[] = [];
    const bar: AddressBar = {
      location: { pathname: '/', search: '?backend=wasm&pretrained=0&foo=1', hash: '' },
      history: {
        state: null,
        replaceState: (_s: unknown, _t: string, url?: string | URL | null) => {
          writes.push(String(url));
          bar.location.search = String(url).slice(1);
        },
      },
    };
    const sync = syncUrl(client, bar, 300);
    vi.advanceTimersByTime(300);
    expect(writes).toEqual(['/?backend=wasm&pretrained=0']); // the unknown parameter is gone
    client.setSampling({ guidance: 7 });
    client.setSampling({ seed: 3 });
    vi.advanceTimersByTime(100);
    expect(writes).toHaveLength(1);
    vi.advanceTimersByTime(300);
    expect(writes).toEqual(['/?backend=wasm&pretrained=0', '/?backend=wasm&pretrained=0&w=7&seed=3']);
    sync.dispose();
  });

  it('a page on the pretrained model writes nothing while it loads, and a failed load is retried by a reload', () => {
    const { client, worker } = page('');
    expect(pageQuery(client.store.getState(), '')).toBe('');
    client.start();
    worker.answer(READY);
    const request = worker.sent.find((m) => m.type === 'model/pretrained');
    worker.answer({ type: 'pretrained/failed', id: request && request.type === 'model/pretrained' ? request.id : -1, kind: 'pixel', message: 'missing' });
    expect(client.store.getState().pretrained.source).toBe('scratch');
    expect(pageQuery(client.store.getState(), '')).toBe('');
    // A model setting changed after the failure: the link carries it (and so starts from scratch).
    client.updateSetup((m) => ({ ...m, schedule: { ...m.schedule, T: 300 } }));
    expect(pageQuery(client.store.getState(), '?backend=cpu')).toBe('?backend=cpu&T=300');
  });
});

describe('presets', () => {
  it('each preset sets its values; a comparison offers its alternatives', () => {
    const { client } = page('?pretrained=0');
    const byName = new Map(PRESETS.map((p) => [p.name, p]));
    expect([...byName.keys()]).toEqual(['DDPM, 1000 steps', 'DDIM, 50 steps', 'pixel vs latent', 'linear vs cosine schedule', 'guidance 0 vs 3 vs 7', 'Train to digits', 'Train to digits (pixel)']);

    applyPreset(client, byName.get('DDPM, 1000 steps')!);
    expect(client.store.getState().sampling).toMatchObject({ kind: 'ddpm', steps: 1000 });
    applyPreset(client, byName.get('DDIM, 50 steps')!);
    expect(client.store.getState().sampling).toMatchObject({ kind: 'ddim', steps: 50, eta: 0 });

    const guidance = byName.get('guidance 0 vs 3 vs 7')!;
    client.updateSetup((m) => ({ ...m, classConditional: false }));
    applyPreset(client, guidance);
    expect(client.store.getState().setup.classConditional).toBe(true);
    expect(client.store.getState().sampling.guidance).toBe(0);
    expect(guidance.alternatives.map((a) => a.name)).toEqual(['Guidance 0', 'Guidance 3', 'Guidance 7']);
    applyPreset(client, guidance.alternatives[2]);
    expect(client.store.getState().sampling.guidance).toBe(7);
    expect(guidance.alternatives.map((a) => presetActive(client.store.getState(), a))).toEqual([false, false, true]);

    const schedule = byName.get('linear vs cosine schedule')!;
    applyPreset(client, schedule);
    expect(client.store.getState().setup.schedule.kind).toBe('linear');
    applyPreset(client, schedule.alternatives[1]);
    expect(client.store.getState().setup.schedule.kind).toBe('cosine');

    applyPreset(client, byName.get('pixel vs latent')!.alternatives[1]);
    expect(client.store.getState().setup.kind).toBe('latent');
  });

  it('every preset query decodes without a note', async () => {
    const { decodeShare } = await import('../../src/state/share');
    for (const p of PRESETS) for (const q of [p, ...p.alternatives]) expect(decodeShare(q.query).notes, q.name).toEqual([]);
  });
});

describe('section keys (lab.*, edit.*)', () => {
  it('are left to their section: not read as settings, kept when the page writes its query, replaced by their own writer', async () => {
    const { decodeShare, buildQuery } = await import('../../src/state/share');
    const { readSection, withSection } = await import('../../src/state/section-url');
    const decoded = decodeShare('?lab.data=moons&steps=20&edit.mode=inpaint');
    expect(decoded.notes).toEqual([]);
    expect([...decoded.values.keys()]).toEqual(['steps']);
    expect(buildQuery('?lab.data=moons&steps=20', [['steps', '30']], false)).toBe('?steps=30&lab.data=moons');
    expect(Object.fromEntries(readSection('?lab.data=moons&lab.width=64&steps=20', 'lab.'))).toEqual({ data: 'moons', width: '64' });
    expect(withSection('?lab.data=moons&steps=20&edit.mode=sdedit', 'lab.', [['width', '32']])).toBe('?steps=20&edit.mode=sdedit&lab.width=32');
    expect(withSection('?lab.data=moons', 'lab.', [])).toBe('');
  });
});
