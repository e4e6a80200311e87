/**
 * Shareable state: the URL codec (round trip, clamping, rejection notes) and how a link is applied
 * to a page, kept in its address bar, and how the presets set their values.
 */
import { parseThreadsParam } from '../../src/state/url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyValues, buildQuery, decodeShare, encodeShare, linkSetsModel, MAX_LINK_NOTES, type Settings } from '../../src/state/share';
import { DEFAULT_SAMPLING, DEFAULT_SETUP, DEFAULT_TRAINING } from '../../src/state/store';

const DEFAULTS: Settings = { setup: DEFAULT_SETUP, training: DEFAULT_TRAINING, sampling: DEFAULT_SAMPLING };

/** The settings a link made from `settings` gives a page that starts at the defaults. */
function roundTrip(settings: Settings): { settings: Settings; notes: string[]; query: string } {
  const query = buildQuery('', encodeShare(settings, DEFAULTS), false);
  const link = decodeShare(query);
  return { settings: applyValues(DEFAULTS, link.values), notes: link.notes, query };
}

describe('encode / decode', () => {
  it('the defaults make an empty query', () => {
    expect(encodeShare(DEFAULTS, DEFAULTS)).toEqual([]);
    expect(buildQuery('', [], false)).toBe('');
  });

  it('a pixel configuration survives the round trip', () => {
    const settings: Settings = {
      setup: {
        ...DEFAULT_SETUP,
        schedule: { kind: 'sigmoid', T: 250, betaStart: 0.0002, betaEnd: 0.03, rescaleZeroTerminalSnr: true },
        preset: 'small',
        attention: false, // small's default is true: the link must say so
        prediction: 'v',
        emaDecay: 0.999,
        dropout: 0.1,
        minSnrGamma: 5,
        classConditional: false,
      },
      training: { ...DEFAULT_TRAINING, learningRate: 5e-4, batchSize: 8, steps: 1234, previewEvery: 0, seed: 7 },
      sampling: { kind: 'ddpm', steps: 250, eta: 0.5, spacing: 'trailing', ddpmVariance: 'beta', clipping: 'dynamic', guidance: 3.5, numImages: 9, seed: 42, digit: 7, useEma: false },
    };
    const back = roundTrip(settings);
    expect(back.notes).toEqual([]);
    expect(back.settings).toEqual(settings);
    expect(back.query).toContain('attn=0');
    expect(back.query).toContain('T=250');
  });

  it('a latent configuration survives the round trip, digit "any" included', () => {
    const settings: Settings = {
      setup: { ...DEFAULT_SETUP, kind: 'latent', latent: { autoencoder: 'ae-small', latentChannels: 6, denoiser: 'latent-small', klWeight: 0 }, attention: true },
      training: DEFAULT_TRAINING,
      sampling: { ...DEFAULT_SAMPLING, kind: 'dpmpp', digit: null, guidance: 0 },
    };
    const back = roundTrip(settings);
    expect(back.notes).toEqual([]);
    expect(back.settings).toEqual(settings);
    expect(decodeShare('digit=any').values.get('digit')).toBeNull();
  });

  it('only the settings that differ are written, in a fixed order', () => {
    const settings = applyValues(DEFAULTS, decodeShare('w=3&T=500').values);
    expect(encodeShare(settings, DEFAULTS)).toEqual([
      ['T', '500'],
      ['w', '3'],
    ]);
  });

  it('a change of network takes the preset attention unless the link says otherwise', () => {
    expect(applyValues(DEFAULTS, decodeShare('unet=small').values).setup.attention).toBe(true);
    expect(applyValues(DEFAULTS, decodeShare('unet=small&attn=0').values).setup.attention).toBe(false);
    const small = applyValues(DEFAULTS, decodeShare('unet=small').values);
    expect(encodeShare(small, DEFAULTS)).toEqual([['unet', 'small']]);
  });

  it('an unreadable form value (NaN) is left out', () => {
    const settings = { ...DEFAULTS, training: { ...DEFAULT_TRAINING, batchSize: NaN } };
    expect(encodeShare(settings, DEFAULTS)).toEqual([]);
  });

  it('linkSetsModel: any model setting but the kind', () => {
    expect(linkSetsModel(decodeShare('model=latent&w=3').values)).toBe(false);
    expect(linkSetsModel(decodeShare('T=100').values)).toBe(true);
    expect(linkSetsModel(decodeShare('ema=0.99').values)).toBe(true);
  });

  it('buildQuery keeps ?backend and ?stream, writes pretrained=0 when asked, and drops the rest', () => {
    expect(buildQuery('?backend=wasm&stream=0&pretrained=1&foo=2', [['T', '100']], true)).toBe('?backend=wasm&stream=0&pretrained=0&T=100');
    expect(buildQuery('?testhooks=1&backend=wasm', [], false)).toBe('?backend=wasm&testhooks=1');
    expect(buildQuery('?backend=nope&stream=maybe&testhooks=2', [], false)).toBe('');
    expect(buildQuery('?foo=2', [], false)).toBe('');
  });
});

describe('clamping and rejection notes', () => {
  it('clamps numbers out of range and says so', () => {
    const { values, notes } = decodeShare('T=5000&batch=0&n=100&ema=1');
    expect(values.get('T')).toBe(1000);
    expect(values.get('batch')).toBe(1);
    expect(values.get('n')).toBe(64);
    expect(values.get('ema')).toBe(0.9999);
    expect(notes).toHaveLength(4);
    expect(notes[0]).toBe('"T=5000" in the link: Diffusion steps T must be between 10 and 1000; using 1000.');
  });

  it('rounds whole numbers and the guidance step', () => {
    expect(decodeShare('w=1.3')).toMatchObject({ values: new Map([['w', 1.3]]), notes: [] });
    const { values, notes } = decodeShare('T=12.6&w=3.33');
    expect(values.get('T')).toBe(13);
    expect(values.get('w')).toBe(3.3);
    expect(notes).toEqual([
      '"T=12.6" in the link: Diffusion steps T must be a whole number; using 13.',
      '"w=3.33" in the link: Guidance scale w goes in steps of 0.1; using 3.3.',
      "Sampling steps cannot exceed the link's T = 13; using 13.",
    ]);
  });

  it('drops what it cannot read, with a note each', () => {
    const { values, notes } = decodeShare('sched=bogus&foo=1&lr=abc&kl=0.5&digit=12&cond=maybe&T=');
    expect([...values.keys()]).toEqual([]);
    expect(notes).toEqual([
      '"sched=bogus" in the link: Schedule kind must be one of linear, cosine, sigmoid, quadratic; ignored.',
      '"foo" in the link is not a setting; ignored.',
      '"lr=abc" in the link: Learning rate must be a number; ignored.',
      '"kl=0.5" in the link: Autoencoder KL weight must be one of 0, 0.00001, 0.0001; ignored.',
      '"digit=12" in the link: Digit must be 0 to 9 or any; ignored.',
      '"cond=maybe" in the link: Class-conditional must be 1 or 0; ignored.',
      '"T=" in the link: Diffusion steps T must be a number; ignored.',
    ]);
  });

  it('checks settings against each other: β order, sampling steps ≤ T', () => {
    const betas = decodeShare('b0=0.05&b1=0.01&sched=cosine');
    expect(betas.values.has('b0')).toBe(false);
    expect(betas.values.has('b1')).toBe(false);
    expect(betas.values.get('sched')).toBe('cosine');
    expect(betas.notes).toEqual(["The link's β start (0.05) must be smaller than its β end (0.01); its β range was ignored."]);
    const steps = decodeShare('T=100&steps=500');
    expect(steps.values.get('steps')).toBe(100);
    expect(steps.notes).toEqual(["The link's sampling steps (500) cannot exceed T = 100; using 100."]);
  });

  it('the page\'s other parameters are not settings but are no surprise either', () => {
    expect(decodeShare('backend=wasm&stream=0&pretrained=0').notes).toEqual([]);
  });

  it('the other parameters\' unreadable values get a note too (backend has its own)', () => {
    expect(decodeShare('backend=nope&stream=1&pretrained=YES&testhooks=1').notes).toEqual([]);
    expect(decodeShare('pretrained=maybe&stream=2&threads=8').notes).toEqual([
      '"pretrained=maybe" in the link must be 0, off, no, false, 1, on, yes, true; ignored (the page starts on the pretrained model).',
      '"stream=2" in the link must be 0, 1; ignored (training streams its progress).',
      '"threads=8" in the link must be 1, 2, 3, 4; ignored (the page chooses the wasm threads).',
    ]);
    expect(parseThreadsParam('?threads=1')).toBe(1);
    expect(parseThreadsParam('?threads=8')).toBeNull();
    expect(buildQuery('?threads=2&x=1', [], false)).toBe('?threads=2');
  });

  it('a T below the default sampling steps brings them down', () => {
    const { values, notes } = decodeShare('T=10');
    expect(values.get('steps')).toBe(10);
    expect(notes).toEqual(["Sampling steps cannot exceed the link's T = 10; using 10."]);
    expect(decodeShare('T=100').values.has('steps')).toBe(false);
  });

  it('a link of garbage lists at most MAX_LINK_NOTES notes', () => {
    const { values, notes } = decodeShare(Array.from({ length: 50 }, (_, i) => `junk${i}=1`).join('&') + '&T=abc&n=7');
    expect(notes).toHaveLength(MAX_LINK_NOTES);
    expect(notes.at(-1)).toBe('…and 42 more problems in the link; they were ignored.');
    expect(values.get('n')).toBe(7);
  });

  it('booleans read 1/0 and words', () => {
    expect(decodeShare('zsnr=true&cond=off&attn=YES').values).toEqual(
      new Map<string, boolean>([
        ['zsnr', true],
        ['cond', false],
        ['attn', true],
      ]),
    );
  });
});

afterEach(() => vi.useRealTimers());
