/**
 * Presets are complete: each sets the groups of settings it touches as a whole (the page's defaults
 * plus its own values), so nothing carries over from the preset before, and the address bar then
 * shows only the preset's differences from the defaults. Through the engine client with a fake
 * worker, on a page with fresh weights and on one with the pretrained model.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import { applyPageLink, pageQuery } from '../../src/state/share-link';
import { applyPreset, groupsOf, presetActive, presetBase, PRESETS, type PresetChoice } from '../../src/state/share-presets';
import { decodeShare } from '../../src/state/share';
import { PARAM_BY_KEY, formatValue } from '../../src/state/share-params';
import { DEFAULT_SAMPLING, DEFAULT_SETUP, type AppState } from '../../src/state/store';
import type { WorkerToPage } from '../../src/protocol/messages';
import type { PretrainedInfo } from '../../src/io/pretrained-info';
import type { ModelSetup } from '../../src/models/setup/model-setup';
import { FakeWorker } from './fake-worker';

const READY: WorkerToPage = { type: 'ready', backend: 'wasm', requested: null, fallbackNote: null, adapter: null };
const PRETRAINED_SETUP: ModelSetup = { ...DEFAULT_SETUP, preset: 'small', attention: true, emaDecay: 0.999 };
/** The guidance the fake pretrained models propose (their manifests' headline). */
const PRETRAINED_GUIDANCE = 1.3;

function info(kind: 'pixel' | 'latent'): PretrainedInfo {
  return { kind, name: kind, autoencoderSteps: 0, denoiserSteps: 1000, trainingSeconds: null, finalLoss: null, plan: null, createdAt: null, eval: { guidance: PRETRAINED_GUIDANCE }, evalSampler: null, bytes: 1 };
}

function loadPretrained(worker: FakeWorker, kind: 'pixel' | 'latent'): void {
  const request = worker.sent.filter((m) => m.type === 'model/pretrained').at(-1);
  const id = request && request.type === 'model/pretrained' ? request.id : -1;
  worker.answer({ type: 'pretrained/loaded', id, kind, setup: { ...PRETRAINED_SETUP, kind }, info: info(kind) });
  worker.answer({ type: 'model', kind, preset: 'small', paramCount: 1, flopsPerStep: 1, decodeFlops: 0, autoencoderSteps: 0, denoiserSteps: 1000, peakTrainBytes: null, peakSampleBytes: null });
}

/** A started page: fresh weights, or the pretrained pixel model loaded. */
function page(pretrained: boolean): { client: EngineClient; worker: FakeWorker } {
  const worker = new FakeWorker();
  const search = pretrained ? '' : '?pretrained=0';
  const client = new EngineClient({ search, createWorker: () => worker as unknown as Worker });
  applyPageLink(client, search);
  client.start();
  worker.answer(READY);
  if (pretrained) loadPretrained(worker, 'pixel');
  return { client, worker };
}

const byName = (name: string): PresetChoice => {
  for (const p of PRESETS) for (const c of [p, ...p.alternatives]) if (c.name === name) return c;
  throw new Error(`no preset ${name}`);
};

/**
 * The query a preset should leave: its own settings that differ from the page's defaults, and the
 * settings of the groups it does not touch as they were (`before`, the page's query before it).
 */
function expectedQuery(s: AppState, choice: PresetChoice, before: string, scratch: boolean): string {
  const base = presetBase(s);
  const { values } = decodeShare(choice.query);
  const touched = groupsOf(values);
  const kept = new URLSearchParams(before);
  const out = new URLSearchParams(scratch ? 'pretrained=0' : '');
  for (const [key, spec] of PARAM_BY_KEY) {
    const group = spec.group === 'setup' ? (spec.schedule ? 'schedule' : 'model') : spec.group;
    if (!touched.has(group)) {
      if (kept.has(key)) out.set(key, kept.get(key)!);
      continue;
    }
    // On a pretrained page the link writes only the model's kind of its setup.
    if (!values.has(key) || (!scratch && spec.group === 'setup' && key !== 'model')) continue;
    if (values.get(key) !== spec.get(base)) out.set(key, formatValue(spec.type, values.get(key)!));
  }
  const text = out.toString();
  return text ? `?${text}` : '';
}

/** Settings a user (or an earlier preset) changed, in every group a preset may touch but the model's. */
function dirty(client: EngineClient): void {
  client.setSampling({ kind: 'dpmpp', steps: 7, eta: 0.5, spacing: 'trailing', clipping: 'none', guidance: 5, numImages: 4, seed: 9, digit: 3, useEma: false });
}

describe('the chain the user reported', () => {
  it('"guidance 0 vs 3 vs 7" → "Guidance 3" → "DDPM, 1000 steps" samples DDPM-1000 at the default guidance (fresh weights)', () => {
    const { client } = page(false);
    applyPreset(client, byName('guidance 0 vs 3 vs 7'));
    applyPreset(client, byName('Guidance 3'));
    expect(client.store.getState().sampling).toMatchObject({ kind: 'ddim', steps: 50, guidance: 3 });
    applyPreset(client, byName('DDPM, 1000 steps'));
    const s = client.store.getState();
    expect(s.sampling).toEqual({ ...DEFAULT_SAMPLING, kind: 'ddpm', steps: 1000, ddpmVariance: 'betaTilde' });
    expect(s.sampling.guidance).toBe(DEFAULT_SAMPLING.guidance);
    expect(pageQuery(s, '')).toBe('?pretrained=0&sampler=ddpm&steps=1000');
  });

  it('the same chain on the pretrained model ends at the guidance the model proposes', () => {
    const { client } = page(true);
    expect(client.store.getState().sampling.guidance).toBe(PRETRAINED_GUIDANCE);
    applyPreset(client, byName('guidance 0 vs 3 vs 7'));
    applyPreset(client, byName('Guidance 3'));
    expect(pageQuery(client.store.getState(), '')).toBe('?steps=50&w=3');
    applyPreset(client, byName('DDPM, 1000 steps'));
    const s = client.store.getState();
    expect(s.sampling.guidance).toBe(PRETRAINED_GUIDANCE);
    expect(s.sampling).toMatchObject({ kind: 'ddpm', steps: 1000 });
    expect(s.pendingSetup).toBeNull(); // the pretrained model's schedule is the preset's
    expect(pageQuery(s, '')).toBe('?sampler=ddpm&steps=1000');
  });
});

describe('every preset and configuration', () => {
  for (const pretrained of [false, true]) {
    it(`leaves the address bar with only its differences from the defaults, after any other (${pretrained ? 'pretrained model' : 'fresh weights'})`, () => {
      // On the pretrained model, the configurations that change the model are tested below (they load or ask).
      const choices = PRESETS.flatMap((p) => [p, ...p.alternatives]).filter((c) => !pretrained || !['Latent model', 'Cosine schedule', 'Train to digits', 'Train to digits (pixel)'].includes(c.name));
      for (const before of choices) {
        for (const choice of choices) {
          const { client } = page(pretrained);
          applyPreset(client, before);
          dirty(client);
          const query = pageQuery(client.store.getState(), '');
          applyPreset(client, choice);
          const s = client.store.getState();
          expect(s.pendingSetup, `${before.name} → ${choice.name}`).toBeNull();
          expect(pageQuery(s, ''), `${before.name} → ${choice.name}`).toBe(expectedQuery(s, choice, query, !pretrained));
          expect(presetActive(s, choice), `${choice.name} shows as pressed`).toBe(true);
        }
      }
    });
  }

  it('touches only its groups: the training form stays as the user set it', () => {
    const { client } = page(false);
    client.setTraining({ learningRate: 5e-4, batchSize: 8 });
    // Only the "Train to digits" presets set the training form (tested below).
    const training = PRESETS.filter((p) => groupsOf(decodeShare(p.query).values).has('training')).map((p) => p.name);
    expect(training).toEqual(['Train to digits', 'Train to digits (pixel)']);
    for (const p of PRESETS.filter((x) => !training.includes(x.name))) {
      applyPreset(client, p);
      expect(client.store.getState().training).toMatchObject({ learningRate: 5e-4, batchSize: 8 });
    }
  });

  it('a comparison\'s configurations are complete presets: each differs from the first only in what it compares', () => {
    const { client } = page(false);
    applyPreset(client, byName('DDPM, 1000 steps'));
    applyPreset(client, byName('Guidance 7'));
    expect(client.store.getState().sampling).toMatchObject({ kind: 'ddim', steps: 50, guidance: 7 });
    const guidance = PRESETS.find((p) => p.name === 'guidance 0 vs 3 vs 7')!;
    expect(guidance.alternatives.map((a) => presetActive(client.store.getState(), a))).toEqual([false, false, true]);
    for (const p of PRESETS) {
      const own = decodeShare(p.query).values;
      for (const a of p.alternatives) {
        const alt = decodeShare(a.query).values;
        const differ = [...new Set([...own.keys(), ...alt.keys()])].filter((k) => own.get(k) !== alt.get(k));
        expect(differ.length, a.name).toBeLessThanOrEqual(1);
      }
      if (p.alternatives.length > 0) expect(p.alternatives[0].query, p.name).toBe(p.query);
    }
  });

  it('a model preset starts from the default model on fresh weights', () => {
    const { client } = page(false);
    client.updateSetup((m) => ({ ...m, preset: 'small', attention: true, emaDecay: 0.99, classConditional: false }));
    applyPreset(client, byName('guidance 0 vs 3 vs 7'));
    expect(client.store.getState().setup).toEqual(DEFAULT_SETUP);
    expect(pageQuery(client.store.getState(), '')).toBe('?pretrained=0&steps=50&w=0');
  });

  it('sampling steps never exceed T when a preset leaves the schedule alone', () => {
    const { client } = page(false);
    client.updateSetup((m) => ({ ...m, schedule: { ...m.schedule, T: 20 } }));
    applyPreset(client, byName('Guidance 3'));
    expect(client.store.getState().sampling.steps).toBe(20);
  });
});

describe('on the pretrained model', () => {
  it('"Latent model" loads the pretrained latent model and keeps the pixel one; "Pixel model" then shows as not pressed', () => {
    const { client, worker } = page(true);
    const compare = PRESETS.find((p) => p.name === 'pixel vs latent')!;
    applyPreset(client, compare);
    expect(compare.alternatives.map((a) => presetActive(client.store.getState(), a))).toEqual([true, false]);
    applyPreset(client, byName('Latent model'));
    expect(client.store.getState().pretrained).toMatchObject({ status: 'loading', kind: 'latent' });
    expect(client.store.getState().keep.kept?.label).toBe('the pretrained pixel DDPM');
    // The preset's sampling settings win over what the latent model proposes on arrival.
    client.setSampling({ guidance: 4 });
    loadPretrained(worker, 'latent');
    const s = client.store.getState();
    expect(s.sampling).toMatchObject({ kind: 'ddim', steps: 50, guidance: PRETRAINED_GUIDANCE });
    expect(compare.alternatives.map((a) => presetActive(s, a))).toEqual([false, true]);
    expect(pageQuery(s, '')).toBe('?model=latent&steps=50');
  });

  it('"Cosine schedule" asks before changing the pretrained model; the forms change at once', () => {
    const { client } = page(true);
    applyPreset(client, byName('Cosine schedule'));
    const s = client.store.getState();
    expect(s.pendingSetup?.schedule.kind).toBe('cosine');
    expect(s.setup.schedule.kind).toBe('linear');
    expect(s.pretrained.source).toBe('pretrained');
    expect(s.sampling.steps).toBe(50);
    // "Linear schedule" drops the waiting change: the pretrained model already is linear.
    applyPreset(client, byName('Linear schedule'));
    expect(client.store.getState().pendingSetup).toBeNull();
  });
});

describe('"Train to digits"', () => {
  /** The preset's model and training form, as the page holds them. */
  const expectRecipe = (s: AppState, name: string) => {
    const { values } = decodeShare(byName(name).query);
    const kind = values.get('model');
    expect(s.setup).toMatchObject({ kind, prediction: values.get('pred'), classConditional: true, emaDecay: values.get('ema'), dropout: 0, minSnrGamma: 0, attention: kind === 'latent' }); // the network's default attention: latent-tiny has it, mini not
    if (kind === 'pixel') expect(s.setup.preset).toBe(values.get('unet'));
    else expect(s.setup.latent).toEqual({ autoencoder: values.get('ae'), latentChannels: values.get('lc'), denoiser: values.get('lden'), klWeight: values.get('kl') });
    expect(s.setup.schedule).toEqual(DEFAULT_SETUP.schedule);
    expect(s.training).toMatchObject({ stage: kind === 'latent' ? 'autoencoder' : 'denoiser', learningRate: values.get('lr'), lrSchedule: values.get('lrsched'), warmupSteps: values.get('warmup'), batchSize: values.get('batch'), steps: values.get('tsteps') });
  };

  it('a change of kind alone (attention following the network, as the Model panel does) still loads the other pretrained model', () => {
    const { client, worker } = page(true);
    client.updateSetup((m) => ({ ...m, kind: 'latent', attention: !m.attention }));
    expect(client.store.getState().pendingSetup).toBeNull();
    expect(worker.sent.filter((m) => m.type === 'model/pretrained')).toHaveLength(2);
    expect(client.store.getState().pretrained).toMatchObject({ status: 'loading', kind: 'latent' });
  });

  for (const name of ['Train to digits', 'Train to digits (pixel)']) {
    it(`"${name}" on fresh weights sets the model and the training form at once, over what the user had set`, () => {
      const { client } = page(false);
      client.updateSetup((m) => ({ ...m, preset: 'small', attention: true, minSnrGamma: 5 }));
      client.setTraining({ learningRate: 5e-4, batchSize: 8, steps: 7 });
      applyPreset(client, byName(name));
      const s = client.store.getState();
      expect(s.pendingSetup).toBeNull();
      expectRecipe(s, name);
      expect(presetActive(s, byName(name))).toBe(true);
    });

    it(`"${name}" on the pretrained model asks first; after "Reset to fresh weights" it has fresh weights and the preset's form, not the defaults`, () => {
      const { client, worker } = page(true);
      applyPreset(client, byName(name));
      let s = client.store.getState();
      expect(s.pendingSetup?.kind).toBe(decodeShare(byName(name).query).values.get('model'));
      expect(s.setup.preset).toBe('small'); // the pretrained model's, until the user confirms
      expect(s.pretrained.status).toBe('ready'); // a whole recipe is no switch to the other pretrained model
      client.confirmReset();
      s = client.store.getState();
      expect(s.pendingSetup).toBeNull();
      expect(s.pretrained.source).toBe('scratch');
      expect(worker.sent.filter((m) => m.type === 'model/pretrained')).toHaveLength(1); // the first page load's only
      expectRecipe(s, name);
      expect(presetActive(s, byName(name))).toBe(true);
    });
  }
});
