/**
 * The 2D lab's page side, driven through the engine client with a fake worker: the setup it sends
 * (and when), training progress, the particle record of a sampling run, only the latest field and
 * density kept, quality verdicts, bad input, URL state and presets.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import type { LabQualityRow, LabToPage } from '../../src/protocol/lab-messages';
import type { WorkerToPage } from '../../src/protocol/messages';
import { DEFAULT_LAB, workerTime } from '../../src/state/lab/lab-settings';
import { decodeLab, labEntries, syncLabUrl } from '../../src/state/lab/lab-url';
import { LAB_PRESETS, presetMatches, presetSettings } from '../../src/state/lab/lab-presets';
import { bestLearned, verdict } from '../../src/state/lab/lab-quality';
import type { AddressBar } from '../../src/state/section-url';
import { FakeWorker } from './fake-worker';

function lab(search = '') {
  const worker = new FakeWorker();
  const client = new EngineClient({ search, createWorker: () => worker as unknown as Worker });
  client.start();
  return { client, lab: client.lab, worker, answer: (m: LabToPage) => worker.answer(m as WorkerToPage) };
}

const labSent = (w: FakeWorker) => w.sent.filter((m) => m.type.startsWith('lab/'));

const COMPONENTS = Array.from({ length: 8 }, (_, k) => ({ mean: [2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)] as [number, number], std: 0.2, weight: 1 }));

function row(partial: Partial<LabQualityRow>): LabQualityRow {
  return { sampler: 'ddim', denoiser: 'learned', steps: 20, evaluations: 20, distance: 0.001, floor: 0.001, modeShares: Array(8).fill(1 / 8), ...partial };
}

afterEach(() => vi.useRealTimers());

describe('the lab client', () => {
  it('sends its setup once the engine is ready, and a new one only when a model setting changes', () => {
    const { lab: l, worker } = lab();
    l.update({ width: 64 });
    expect(labSent(worker)).toEqual([]);
    l.connect();
    l.connect();
    const setups = () => worker.sentOf('lab/setup');
    expect(setups()).toHaveLength(1);
    expect(setups()[0].setup).toMatchObject({ data: { kind: 'gaussians8', count: DEFAULT_LAB.count }, width: 64, depth: DEFAULT_LAB.depth, objective: 'diffusion', minSnrGamma: null });
    l.update({ trainSteps: 50, tView: 0.7 });
    expect(setups()).toHaveLength(1);
    l.update({ objective: 'flow', minSnr: 5 });
    expect(setups()).toHaveLength(2);
    expect(setups()[1].setup).toMatchObject({ objective: 'flow', minSnrGamma: 5 });
  });

  it('trains: progress fills the loss history and bands, the state and time left reach the store', () => {
    const { lab: l, worker, answer } = lab();
    l.connect();
    answer({ type: 'lab/data', points: new Float32Array([2, 0, -2, 0]), exact: true, components: COMPONENTS });
    answer({ type: 'lab/model', paramCount: 34178, step: 0 });
    l.update({ trainSteps: 300, batch: 256, learningRate: 0.002 });
    l.train();
    expect(worker.last('lab/train/start').training).toEqual({ steps: 300, batch: 256, learningRate: 0.002 });
    answer({ type: 'lab/train/state', state: 'running', step: 0 });
    answer({
      type: 'lab/train/progress',
      step: 3,
      totalSteps: 300,
      steps: new Int32Array([1, 2, 3]),
      losses: new Float32Array([1, 0.8, 0.6]),
      stepsPerSec: 250,
      etaSec: 1.2,
      itemTimesteps: new Int32Array([0, 999]),
      itemLosses: new Float32Array([0.9, 0.1]),
    });
    const s = l.store.getState();
    expect(s.model?.paramCount).toBe(34178);
    expect(s.train).toMatchObject({ state: 'running', step: 3, totalSteps: 300, stepsPerSec: 250, etaSec: 1.2 });
    expect(l.loss.toArrays()).toEqual({ steps: [1, 2, 3], losses: [1, expect.closeTo(0.8, 6), expect.closeTo(0.6, 6)] });
    expect(l.lossBands.mean(0)).toBeCloseTo(0.9, 6);
    expect(l.lossBands.mean(9)).toBeCloseTo(0.1, 6);
    l.reset();
    expect(worker.sentOf('lab/train/reset')).toHaveLength(1);
    expect(l.loss.length).toBe(0);
    expect(l.store.getState().train.step).toBe(0);
  });

  it('records a sampling run chunk by chunk, then samples the second pane from the same seed', () => {
    const { lab: l, worker, answer } = lab();
    l.connect();
    l.update({ particles: 3, sampleSeed: 7, a: { sampler: 'ddpm', steps: 2, denoiser: 'learned' }, b: { sampler: 'ddim', steps: 1, denoiser: 'learned' } });
    l.sample();
    expect(l.store.getState().sampleBatch).toBe(1);
    const first = worker.sentOf('lab/sample');
    expect(first).toHaveLength(1); // the second pane waits for the first to finish
    const ra = first[0].request;
    expect(ra).toMatchObject({ sampler: 'ddpm', steps: 2, count: 3, seed: 7, denoiser: 'learned' });
    const pos = (k: number) => Array.from({ length: 6 }, (_, j) => 10 * k + j);
    // Positions 2 first, then 0..1: the record counts as filled only what has arrived in order.
    answer({ type: 'lab/sample/steps', run: ra.run, total: 3, first: 2, count: 1, n: 3, t: new Float32Array([-1]), points: new Float32Array(pos(2)), evaluations: 2 });
    expect(l.records.a.store.getState().filled).toBe(0);
    answer({ type: 'lab/sample/steps', run: ra.run, total: 3, first: 0, count: 2, n: 3, t: new Float32Array([999, 499]), points: new Float32Array([...pos(0), ...pos(1)]), evaluations: 2 });
    expect(l.records.a.store.getState()).toMatchObject({ filled: 3, total: 3, n: 3 });
    expect(Array.from(l.records.a.frame(1)!)).toEqual(pos(1));
    expect(l.records.a.time(2)).toBe(-1);
    expect(Array.from(l.records.a.path(1, 2))).toEqual([2, 3, 12, 13, 22, 23]);
    // Another run's chunks are ignored.
    answer({ type: 'lab/sample/steps', run: ra.run + 100, total: 3, first: 0, count: 1, n: 3, t: new Float32Array([1]), points: new Float32Array(6), evaluations: 1 });
    expect(Array.from(l.records.a.frame(0)!)).toEqual(pos(0));
    answer({ type: 'lab/sample/state', run: ra.run, state: 'done', elapsedMs: 12 });
    const second = worker.sentOf('lab/sample');
    expect(second).toHaveLength(2);
    expect(second[1].request).toMatchObject({ sampler: 'ddim', steps: 1, seed: 7, count: 3 });
    expect(second[1].request.run).not.toBe(ra.run);
    expect(l.records.a.store.getState().state).toBe('done');
    expect(l.records.b.store.getState().state).toBe('running');
  });

  it('keeps one field and one density request in flight, sends the newest when it is answered, and never shows an older answer', () => {
    const { lab: l, worker, answer } = lab();
    l.connect();
    l.update({ tView: 0.5 });
    const f1 = l.requestField()!;
    expect(worker.last('lab/field')).toMatchObject({ id: f1, kind: 'score', t: workerTime(DEFAULT_LAB, 0.5) });
    expect(worker.last('lab/field').t).toBe(500);
    const grid = worker.last('lab/field').grid;
    l.update({ tView: 0.25 });
    expect(l.requestField()).toBeNull(); // waits for the one in flight
    l.update({ tView: 0.1 });
    expect(l.requestField()).toBeNull();
    expect(worker.sentOf('lab/field')).toHaveLength(1);
    answer({ type: 'lab/field', id: f1, t: 500, kind: 'score', grid, learned: new Float32Array(2), exact: null });
    expect(l.store.getState().field?.id).toBe(f1);
    // The answer sent the newest settings at once.
    const f2 = worker.last('lab/field');
    expect(worker.sentOf('lab/field')).toHaveLength(2);
    expect(f2.t).toBe(Math.round(0.1 * 999));
    answer({ type: 'lab/field', id: f2.id, t: f2.t, kind: 'score', grid, learned: new Float32Array(2), exact: new Float32Array(2) });
    expect(l.store.getState().field?.id).toBe(f2.id);
    // A late copy of an older answer is dropped.
    answer({ type: 'lab/field', id: f1, t: 500, kind: 'score', grid, learned: new Float32Array(2), exact: null });
    expect(l.store.getState().field?.id).toBe(f2.id);

    const d1 = l.requestDensity()!;
    answer({ type: 'lab/density', id: d1, t: 1, grid, density: new Float32Array(1) });
    const d2 = l.requestDensity()!;
    expect(d2).toBeGreaterThan(d1);
    // A new model: answers to requests made before it are dropped.
    l.update({ objective: 'flow' });
    answer({ type: 'lab/density', id: d2, t: 1, grid, density: new Float32Array(1) });
    expect(l.store.getState().density).toBeNull();
    l.requestField();
    expect(worker.last('lab/field')).toMatchObject({ kind: 'velocity', t: 0.1 });
  });

  it('a request never answered stops blocking after a few seconds', () => {
    vi.useFakeTimers();
    const { lab: l, worker } = lab();
    l.connect();
    l.requestDensity();
    expect(l.requestDensity()).toBeNull();
    vi.advanceTimersByTime(3500);
    expect(l.requestDensity()).not.toBeNull();
    expect(worker.sentOf('lab/density')).toHaveLength(2);
  });

  it('bad input gets a message and sends nothing', () => {
    const { lab: l, worker } = lab();
    l.connect();
    const before = worker.sent.length;
    l.setSketch(new Float32Array(8));
    l.useSketch();
    expect(l.store.getState().notice).toMatch(/at least 10 points .*you have 4/);
    l.update({ data: 'drawn' });
    l.train();
    expect(l.store.getState().notice).toMatch(/Draw at least 10 points/);
    expect(worker.typesSince(before)).toEqual([]);
    l.update({ data: 'moons', b: { sampler: 'ddim', steps: 10, denoiser: 'exact' }, a: { sampler: 'euler', steps: 10, denoiser: 'learned' } });
    const n = worker.sent.length;
    l.sample();
    expect(l.store.getState().notice).toMatch(/flow matching/);
    expect(worker.typesSince(n)).toEqual([]);
    // 20 sprayed points become the data set: a setup with them.
    l.setSketch(Float32Array.from({ length: 40 }, (_, i) => i / 10));
    l.useSketch();
    const setup = worker.last('lab/setup').setup;
    expect(setup.data.kind).toBe('drawn');
    expect(setup.data.points?.length).toBe(40);
  });

  it('a restarted engine gets the setup again', () => {
    const { lab: l, worker } = lab();
    l.connect();
    l.disconnect();
    expect(l.store.getState().connected).toBe(false);
    l.connect();
    expect(worker.sentOf('lab/setup')).toHaveLength(2);
  });

  it('a worker error ends the sampling queue and shows its message', () => {
    const { lab: l, worker, answer } = lab();
    l.connect();
    l.sample();
    expect(l.records.b.store.getState().state).toBe('running'); // waiting its turn, its old run gone
    answer({ type: 'lab/error', message: 'no model' });
    expect(l.store.getState().error).toBe('no model');
    expect(l.records.b.store.getState().state).toBe('cancelled');
    expect(worker.sentOf('lab/sample')).toHaveLength(1);
  });
});

describe('quality verdicts', () => {
  it('meets the target within 2× the floor with every mode covered, not otherwise', () => {
    expect(verdict(row({ distance: 0.0019, floor: 0.001 }), COMPONENTS)).toMatchObject({ met: true, covered: 8, modes: 8 });
    expect(verdict(row({ distance: 0.0021, floor: 0.001 }), COMPONENTS).met).toBe(false);
    const shares = [0.25, 0.25, 0.25, 0.25 - 0.04, 0.04, 0, 0, 0];
    expect(verdict(row({ modeShares: shares }), COMPONENTS)).toMatchObject({ met: false, covered: 4 });
    // A negative unbiased estimate is as good as data.
    expect(verdict(row({ distance: -0.0001 }), COMPONENTS).ratio).toBe(0);
    const best = bestLearned([row({ distance: 0.01 }), row({ denoiser: 'exact', distance: 0 }), row({ distance: 0.0015 })], COMPONENTS);
    expect(best?.verdict.ratio).toBeCloseTo(1.5, 9);
  });
});

describe('URL state and presets', () => {
  it('writes only what differs from the defaults and reads it back', () => {
    const s = { ...DEFAULT_LAB, data: 'mixture' as const, width: 96, learningRate: 0.001, b: { sampler: 'ddim' as const, steps: 10, denoiser: 'exact' as const } };
    const entries = labEntries(s);
    expect(Object.fromEntries(entries)).toEqual({ data: 'mixture', width: '96', lr: '0.001', b: 'ddim.10.exact' });
    const query = '?' + entries.map(([k, v]) => `lab.${k}=${v}`).join('&');
    expect(decodeLab(query)).toEqual({ settings: s, notes: [] });
    expect(labEntries(DEFAULT_LAB)).toEqual([]);
  });

  it('bad values become notes and keep their defaults', () => {
    const { settings, notes } = decodeLab('?lab.width=0&lab.data=cats&lab.a=ddpm.0.learned&lab.mix=1,2&lab.foo=1&lab.depth=2');
    expect(settings).toEqual({ ...DEFAULT_LAB, depth: 2 });
    expect(notes).toHaveLength(5);
  });

  it('a link applies before the engine starts, and the address bar follows the settings', () => {
    vi.useFakeTimers();
    const { client, worker } = lab();
    client.lab.applyUrl('?backend=wasm&lab.data=moons&lab.depth=2');
    client.lab.connect();
    expect(worker.last('lab/setup').setup).toMatchObject({ data: { kind: 'moons' }, depth: 2 });
    const bar: AddressBar = {
      location: { pathname: '/', search: '?backend=wasm&lab.data=moons&lab.depth=2', hash: '' },
      history: { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void (bar.location.search = String(url).slice(1)) },
    };
    const sync = syncLabUrl(client.lab.store, bar, 300);
    client.lab.update({ depth: DEFAULT_LAB.depth, width: 32 });
    vi.advanceTimersByTime(300);
    expect(bar.location.search).toBe('?backend=wasm&lab.data=moons&lab.width=32');
    sync.dispose();
  });

  it('each preset is complete: it sets every setting from the defaults, whatever came before', () => {
    expect(LAB_PRESETS.map((p) => p.name)).toEqual(['8 Gaussians in 10 seconds', 'DDPM vs DDIM paths', 'flow matching vs diffusion', 'learned vs exact score']);
    const { lab: l } = lab();
    for (const p of LAB_PRESETS) {
      l.update({ width: 17, data: 'rings', tView: 0.9, particles: 33 });
      l.applyPreset(p);
      expect(l.settings).toEqual(presetSettings(p));
      expect(presetMatches(l.settings, p)).toBe(true);
      expect(l.store.getState().preset).toBe(p.name);
    }
    // Adjusting a setting keeps the preset's note (and its alternatives) up.
    l.update({ trainSteps: 400 });
    expect(l.store.getState().preset).toBe(LAB_PRESETS[3].name);
    const flow = LAB_PRESETS[2];
    l.applyPreset(flow.alternatives[1]);
    expect(l.settings.objective).toBe('flow');
    expect(l.settings.b.sampler).toBe('euler');
    expect(l.settings.a.sampler).toBe('ddim');
    expect(LAB_PRESETS[3].values.b?.denoiser).toBe('exact');
  });
});
