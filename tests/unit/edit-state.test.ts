/**
 * The Edit panel's page side (src/state/edit/): the form in the URL's `edit.*` keys (only what
 * differs from the defaults; bad values ignored; other keys untouched), the request a run sends
 * (the Sampling panel's sampler, the Edit form's settings), the run's caption and id from the
 * engine client, uploads turned into the input or refused, and the reducer leaving edit messages
 * to the edit client.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EDIT_FORM, formFromUrl, formProblem, formToUrl } from '../../src/state/edit/edit-form';
import { EditClient } from '../../src/state/edit/edit-client';
import { readSection } from '../../src/state/section-url';
import { DEFAULT_SAMPLING } from '../../src/state/store';
import type { PageToWorker } from '../../src/protocol/messages';
import { reduceMessage } from '../../src/state/message-reducer';

describe('edit form in the URL', () => {
  it('writes only what differs and reads it back; bad values are ignored', () => {
    const form = { ...DEFAULT_EDIT_FORM, mode: 'inpaint' as const, strength: 0.8, digit: 3, resample: 4 };
    const keys = formToUrl(form);
    expect(new Map(keys)).toEqual(new Map([['mode', 'inpaint'], ['s', '0.8'], ['digit', '3'], ['r', '4']]));
    expect(formFromUrl(new Map(keys))).toEqual(form);
    const bad = formFromUrl(readSection('?edit.mode=paint&edit.s=2&edit.n=99&edit.steps=10&model=latent', 'edit.'));
    expect(bad).toEqual({ ...DEFAULT_EDIT_FORM, steps: 10 });
    expect(formProblem({ ...DEFAULT_EDIT_FORM, steps: 2000 }, 1000)).toMatch(/Steps/);
    expect(formProblem(DEFAULT_EDIT_FORM, 1000)).toBeNull();
  });
});

function makeClient(classConditional = true) {
  const sent: PageToWorker[] = [];
  const runs: { caption: string; n: number; steps: number }[] = [];
  let url = '/?model=latent&edit.n=3';
  const bar = {
    location: { pathname: '/', get search() { return url.slice(1); }, hash: '' },
    history: { state: null, replaceState: (_s: unknown, _t: string, next: string) => void (url = next) },
  };
  const client = new EditClient({
    send: (m) => sent.push(m),
    beginRun: (caption, n, steps) => (runs.push({ caption, n, steps }), runs.length + 40),
    sampling: () => ({ ...DEFAULT_SAMPLING, kind: 'ddpm', steps: 999 }),
    model: () => ({ latent: false, label: 'pixel DDPM (small)', classConditional }),
    search: '?edit.n=3',
    bar: bar as never,
  });
  return { client, sent, runs, url: () => url };
}

describe('EditClient', () => {
  it('sends the request with the sampler of the Sampling panel and the Edit form, under a run id and caption', () => {
    const { client, sent, runs, url } = makeClient();
    expect(client.store.getState().form.seeds).toBe(3);
    client.setForm({ mode: 'inpaint', steps: 7, digit: 5, guidance: 2 });
    expect(url()).toBe('/?model=latent&edit.mode=inpaint&edit.steps=7&edit.n=3&edit.digit=5&edit.w=2');
    client.start();
    expect(runs).toEqual([{ caption: 'Edit: inpaint by DDNM · pixel DDPM (small) · DDPM-7 · digit 5 · w = 2', n: 3, steps: 7 }]);
    const msg = sent[0];
    expect(msg.type).toBe('edit/start');
    if (msg.type !== 'edit/start') return;
    expect(msg.run).toBe(41);
    expect(msg.edit).toMatchObject({ kind: 'ddpm', steps: 7, numImages: 3, digit: 5, guidance: 2, mode: 'inpaint' });
    expect(msg.edit.mask?.length).toBe(784);
    expect(client.store.getState().running).toBe(41);
    client.onSampleState('idle');
    expect(client.store.getState().running).toBeNull();
  });

  it('asks an unconditional model for no class', () => {
    const { client, sent } = makeClient(false);
    client.setForm({ digit: 4 });
    client.start();
    const msg = sent[0];
    if (msg.type !== 'edit/start') throw new Error('no start');
    expect(msg.edit.digit).toBeNull();
    expect(msg.edit.mask).toBeNull();
  });

  it('takes a converted upload as the input, and says when there is no digit or no image', () => {
    const { client, sent } = makeClient();
    client.convert('a.png', 2, 1, new Uint8Array(8));
    const req = sent[0];
    if (req.type !== 'edit/convert') throw new Error('no convert');
    const pixels = new Uint8Array(784);
    pixels[0] = 255;
    client.onMessage({ type: 'edit/converted', id: req.id, pixels, inverted: true, blank: false });
    expect(client.store.getState().input[0]).toBe(1);
    expect(client.store.getState().input[1]).toBe(-1);
    expect(client.store.getState().uploadNote).toMatchObject({ kind: 'ok', text: expect.stringMatching(/^a\.png: converted .*inverted/) });
    client.onMessage({ type: 'edit/converted', id: 99, pixels: new Uint8Array(784), inverted: false, blank: true });
    expect(client.store.getState().uploadNote?.kind).toBe('error');
    client.uploadFailed('“x.txt” is not an image');
    expect(client.store.getState().uploadNote).toEqual({ kind: 'error', text: '“x.txt” is not an image' });
  });

  it('leaves edit messages to the edit client in the reducer', () => {
    const r = reduceMessage({} as never, { type: 'edit/progress', run: 1, phase: 'inverting', done: 1, total: 3, elapsedMs: 5 });
    expect(r).toEqual({ patch: {} });
  });
});
