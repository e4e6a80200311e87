/**
 * Import fuzz: a trained model's export, and a training checkpoint, broken in 200+ ways —
 * corrupted fields of every kind, truncated or padded weights, non-finite values, mismatched
 * shapes, names and setups, wrong files — through the engine's own 'model/import' and
 * 'train/restore'. Every one must be a clean rejection (an Error whose message names the problem,
 * never a TypeError or a crash), and the current model must stay exactly as it was: its export is
 * byte-identical afterwards and no tensor leaks.
 */
import { mulberry32 } from '../../src/diffusion/random';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeNodeEngine } from './engine-helpers';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { DEFAULT_MODEL_SETUP } from '../../src/models/setup/model-setup';
import type { ModelFile } from '../../src/io/model-file';
import type { PageToWorker } from '../../src/protocol/messages';
import type { TrainingConfig } from '../../src/engine/run-config';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const training: TrainingConfig = { stage: 'denoiser', learningRate: 1e-3, batchSize: 2, steps: 3, previewEvery: 0, seed: 5, checkpointEvery: 2 };
const CLEAN = /^(model file: |model\.json is not valid JSON|A model needs two files|This file is a model, not a training checkpoint)/;

/** A seeded generator, so every run breaks the files the same way. */
const rng = mulberry32;

const encode = (x: unknown) => new TextEncoder().encode(JSON.stringify(x)).buffer as ArrayBuffer;
const files = (json: ArrayBuffer, bin: ArrayBuffer): ModelFile[] => [
  { name: 'model.json', data: json },
  { name: 'weights.bin', data: bin },
];

interface Case {
  what: string;
  files: ModelFile[];
}

/** Paths to every leaf (and object) under `root`, as key lists. */
function paths(x: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (x === null || typeof x !== 'object') return [prefix];
  const keys = Array.isArray(x) ? x.map((_, i) => i) : Object.keys(x);
  const out: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  for (const k of keys) out.push(...paths((x as Json)[k], [...prefix, k]));
  return out;
}

function at(root: Json, path: (string | number)[]): { parent: Json; key: string } {
  let parent: Json = root;
  for (const k of path.slice(0, -1)) parent = parent[k];
  return { parent, key: String(path[path.length - 1]) };
}

/** A value of another JSON type than `v` (never valid where v was: every checked field is typed). */
function otherType(v: unknown): unknown {
  if (typeof v === 'number') return 'seven';
  if (typeof v === 'string') return 7;
  if (typeof v === 'boolean') return 'yes';
  if (Array.isArray(v)) return { not: 'an array' };
  if (v === null) return [1];
  return 'an object was here';
}

/** Fields a file may omit or carry as anything (not checked, or optional with a default). */
const FREE = [/^generatedBy$/, /^modelTopology$/, /\.history$/, /\.resume$/, /\.extra\.latent$/, /\.extra\.autoencoderSteps$/, /\.config\.stream$/];
const isFree = (p: (string | number)[]) => FREE.some((r) => r.test(p.join('.')));

function jsonCases(name: string, json: Json, bin: ArrayBuffer, random: () => number, count: number): Case[] {
  const cases: Case[] = [];
  // Type changes and deletions at random checked paths (weight manifests are long: sample them).
  const all = paths(json).filter((p) => !isFree(p) && !(p[0] === 'weightsManifest' && p.length === 1));
  for (let i = 0; i < count; i++) {
    const p = all[Math.floor(random() * all.length)];
    const j = structuredClone(json);
    const { parent, key } = at(j, p);
    if (i % 2 === 0 || Array.isArray(parent)) {
      (parent as Json)[key] = otherType((parent as Json)[key]);
      cases.push({ what: `${name}: ${p.join('.')} of another type`, files: files(encode(j), bin) });
    } else {
      delete parent[key];
      cases.push({ what: `${name}: ${p.join('.')} deleted`, files: files(encode(j), bin) });
    }
  }
  return cases;
}

function valueCases(name: string, json: Json, bin: ArrayBuffer): Case[] {
  const cases: Case[] = [];
  const edit = (what: string, fn: (j: Json) => void) => {
    const j = structuredClone(json);
    fn(j);
    cases.push({ what: `${name}: ${what}`, files: files(encode(j), bin) });
  };
  const setupOf = (j: Json) => j.userDefinedMetadata.extra.setup;
  const both = (j: Json, fn: (s: Json) => void) => {
    fn(setupOf(j));
    fn(j.userDefinedMetadata.config);
  };
  const bad: [string, (s: Json) => void][] = [
    ['T = 5', (s) => (s.schedule.T = 5)],
    ['T = 1001', (s) => (s.schedule.T = 1001)],
    ['T = 10.5', (s) => (s.schedule.T = 10.5)],
    ['betaStart = 0', (s) => (s.schedule.betaStart = 0)],
    ['betaEnd = 2', (s) => (s.schedule.betaEnd = 2)],
    ['schedule kind "exponential"', (s) => (s.schedule.kind = 'exponential')],
    ['kind "video"', (s) => (s.kind = 'video')],
    ['preset "huge"', (s) => (s.preset = 'huge')],
    ['prediction "noise"', (s) => (s.prediction = 'noise')],
    ['dropout = 1', (s) => (s.dropout = 1)],
    ['emaDecay = 1', (s) => (s.emaDecay = 1)],
    ['minSnrGamma = -1', (s) => (s.minSnrGamma = -1)],
    ['latentChannels = 9', (s) => (s.latent.latentChannels = 9)],
    ['klWeight = -1', (s) => (s.latent.klWeight = -1)],
    ['autoencoder "ae-huge"', (s) => (s.latent.autoencoder = 'ae-huge')],
    ['unknown setup field', (s) => (s.extraField = 1)],
    ['unknown schedule field', (s) => (s.schedule.offset = 0)],
    ['a __proto__ field', (s) => Object.defineProperty(s, '__proto__', { value: { polluted: true }, enumerable: true })],
    ['preset small (other shapes)', (s) => (s.preset = 'small')],
    ['attention on (extra weights)', (s) => (s.attention = true)],
    ['unconditional (no label embedding)', (s) => (s.classConditional = false)],
    ['latent kind without autoencoder weights', (s) => (s.kind = 'latent')],
    ['EMA off with EMA weights', (s) => (s.emaDecay = 0)],
  ];
  for (const [what, fn] of bad) edit(`setup ${what}`, (j) => both(j, fn));
  edit('config differs from setup', (j) => (j.userDefinedMetadata.config.schedule.T = 500));
  edit('format "tfjs-layers"', (j) => (j.format = 'tfjs-layers'));
  edit('version 2', (j) => (j.userDefinedMetadata.version = 2));
  edit('kind "unet"', (j) => (j.userDefinedMetadata.kind = 'unet'));
  edit('denoiserSteps = -1', (j) => (j.userDefinedMetadata.extra.denoiserSteps = -1));
  edit('denoiserSteps = 1.5', (j) => (j.userDefinedMetadata.extra.denoiserSteps = 1.5));
  edit('autoencoderSteps on a pixel model', (j) => (j.userDefinedMetadata.extra.autoencoderSteps = 3));
  edit('latent normalization scale 0', (j) => (j.userDefinedMetadata.extra.latent = { shift: 0, scale: 0 }));
  edit('latent normalization with a script', (j) => (j.userDefinedMetadata.extra.latent = { shift: 0, scale: 1, onload: 'alert(1)' }));
  edit('unknown metadata field', (j) => (j.userDefinedMetadata.extra.script = 'fetch("https://example.com")'));
  const history = (fn: (h: Json) => void) => (j: Json) => fn(j.userDefinedMetadata.extra.history);
  edit('history steps decreasing', history((h) => h.steps.reverse()));
  edit('history longer than the steps', history((h) => (h.steps[h.steps.length - 1] = 999)));
  edit('history lengths differ', history((h) => h.losses.pop()));
  edit('history loss negative', history((h) => (h.losses[0] = -1)));
  edit('history loss a string', history((h) => (h.losses[0] = '0.5')));
  edit('history stage "decoder"', history((h) => (h.stage = 'decoder')));
  edit('history unknown field', history((h) => (h.eval = 'x')));
  edit('history steps not integers', history((h) => (h.steps[0] = 0.5)));
  const manifest = (fn: (w: Json[]) => void) => (j: Json) => fn(j.weightsManifest[0].weights);
  edit('a weight renamed', manifest((w) => (w[0].name = 'renamed')));
  edit('a weight dropped', manifest((w) => w.splice(1, 1)));
  edit('a weight twice', manifest((w) => w.push({ ...w[0] })));
  edit('a shape changed', manifest((w) => (w[0].shape = [...w[0].shape.slice(0, -1), w[0].shape.at(-1) + 1])));
  edit('two shapes swapped', manifest((w) => ([w[0].shape, w[1].shape] = [w[1].shape, w[0].shape])));
  edit('a negative dimension', manifest((w) => (w[0].shape = [-1])));
  edit('an impossibly large shape', manifest((w) => (w[0].shape = [2 ** 30, 2 ** 30])));
  edit('dtype int32', manifest((w) => (w[2].dtype = 'int32')));
  edit('dtype float16', manifest((w) => (w[2].dtype = 'float16')));
  edit('quantized', manifest((w) => (w[0].quantization = { dtype: 'uint8', scale: 1, min: 0 })));
  edit('an unknown extra group', manifest((w) => (w[0].name = 'script/x')));
  edit('two weight groups', (j) => j.weightsManifest.push(j.weightsManifest[0]));
  edit('another weights path', (j) => (j.weightsManifest[0].paths = ['https://example.com/weights.bin']));
  return cases;
}

function binCases(name: string, json: ArrayBuffer, bin: ArrayBuffer, random: () => number, count: number): Case[] {
  const cases: Case[] = [];
  const n = bin.byteLength;
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0) {
      const len = Math.floor(random() * n);
      cases.push({ what: `${name}: weights.bin truncated to ${len} bytes`, files: files(json, bin.slice(0, len)) });
    } else if (kind === 1) {
      const extra = 1 + Math.floor(random() * 64);
      const out = new Uint8Array(n + extra);
      out.set(new Uint8Array(bin));
      cases.push({ what: `${name}: weights.bin padded by ${extra} bytes`, files: files(json, out.buffer) });
    } else {
      const out = bin.slice(0);
      const f = new Float32Array(out);
      const idx = Math.floor(random() * f.length);
      f[idx] = [NaN, Infinity, -Infinity][i % 3];
      cases.push({ what: `${name}: weights.bin value ${idx} = ${f[idx]}`, files: files(json, out) });
    }
  }
  return cases;
}

function textCases(name: string, json: ArrayBuffer, bin: ArrayBuffer, random: () => number, count: number): Case[] {
  const cases: Case[] = [];
  const text = new Uint8Array(json);
  for (let i = 0; i < count; i++) {
    const len = Math.floor(random() * (text.length - 1));
    cases.push({ what: `${name}: model.json truncated to ${len} bytes`, files: files(text.slice(0, len).buffer, bin) });
  }
  const asText = (t: string) => new TextEncoder().encode(t).buffer as ArrayBuffer;
  for (const t of ['', 'null', '[]', '42', '"model"', '{}', '{"format":"diffusion-playground"}', '\u0000\u0001binary', '<!doctype html><script>alert(1)</script>']) {
    cases.push({ what: `${name}: model.json is ${JSON.stringify(t.slice(0, 20))}`, files: files(asText(t), bin) });
  }
  cases.push({ what: `${name}: no weights.bin`, files: [{ name: 'model.json', data: json }] });
  cases.push({ what: `${name}: no model.json`, files: [{ name: 'weights.bin', data: bin }] });
  cases.push({ what: `${name}: files swapped`, files: [{ name: 'model.json', data: bin }, { name: 'weights.bin', data: json }] });
  cases.push({ what: `${name}: weights.bin empty`, files: files(json, new ArrayBuffer(0)) });
  return cases;
}

describe('import fuzz: only clean rejections, the model untouched', () => {
  const { engine, messages, until } = makeNodeEngine();
  let exported: ModelFile[];
  let checkpoint: ModelFile[];

  const exportNow = async (): Promise<ModelFile[]> => {
    messages.length = 0;
    await engine.handle({ type: 'model/export' });
    const m = await until((x) => x.type === 'model/exported');
    if (m.type !== 'model/exported') throw new Error();
    return m.files;
  };

  beforeAll(async () => {
    await engine.handle({ type: 'init', backend: null });
    await engine.handle({ type: 'setup', setup: { ...DEFAULT_MODEL_SETUP, schedule: { ...DEFAULT_SCHEDULE, T: 100 }, emaDecay: 0.9 } });
    await engine.handle({ type: 'train/start', training });
    await until((m) => m.type === 'train/state' && m.state === 'done', 120_000);
    const ckpts = messages.filter((m) => m.type === 'train/checkpoint');
    const last = ckpts[ckpts.length - 1];
    if (last?.type !== 'train/checkpoint') throw new Error('no checkpoint');
    checkpoint = last.files;
    exported = await exportNow();
  }, 180_000);
  afterAll(() => engine.dispose());

  it('rejects 200+ broken files cleanly and keeps the model exactly', async () => {
    const random = rng(8);
    const json = JSON.parse(new TextDecoder().decode(exported[0].data)) as Json;
    const cjson = JSON.parse(new TextDecoder().decode(checkpoint[0].data)) as Json;
    expect(json.userDefinedMetadata.extra.history.steps).toEqual([1, 2, 3]);
    expect(Object.keys(cjson.userDefinedMetadata.extra.resume)).toEqual(['stage', 'config', 'offsets', 'denoiser', 'autoencoderStep']);
    const cases: { type: 'model/import' | 'train/restore'; c: Case }[] = [];
    const add = (type: 'model/import' | 'train/restore', list: Case[]) => cases.push(...list.map((c) => ({ type, c })));
    add('model/import', jsonCases('export', json, exported[1].data, random, 60));
    add('model/import', valueCases('export', json, exported[1].data));
    add('model/import', binCases('export', exported[0].data, exported[1].data, random, 40));
    add('model/import', textCases('export', exported[0].data, exported[1].data, random, 15));
    add('train/restore', jsonCases('checkpoint', cjson, checkpoint[1].data, random, 50));
    add('train/restore', binCases('checkpoint', checkpoint[0].data, checkpoint[1].data, random, 16));
    const resume = (what: string, fn: (r: Json) => void) => {
      const j = structuredClone(cjson);
      fn(j.userDefinedMetadata.extra.resume);
      add('train/restore', [{ what: `checkpoint: resume ${what}`, files: files(encode(j), checkpoint[1].data) }]);
    };
    resume('learning rate 0', (r) => (r.config.learningRate = 0));
    resume('learning rate 5', (r) => (r.config.learningRate = 5));
    resume('batch 0', (r) => (r.config.batchSize = 0));
    resume('batch 1000', (r) => (r.config.batchSize = 1000));
    resume('steps disagree', (r) => (r.denoiser.step = 2));
    resume('offsets disagree', (r) => (r.offsets.denoiser = 1));
    resume('random state not an integer', (r) => (r.denoiser.timestepRng.a = 0.5));
    resume('unknown field', (r) => (r.eval = 'x'));
    resume('stage "decoder"', (r) => (r.stage = 'decoder'));
    // An export is a model, not a checkpoint: restoring it is refused too.
    add('train/restore', [{ what: 'an export given as a checkpoint', files: exported.map((f) => ({ ...f, data: f.data.slice(0) })) }]);
    // A checkpoint's optimizer state that does not fit the model.
    {
      const j = structuredClone(cjson);
      const w = j.weightsManifest[0].weights as Json[];
      const m = w.find((x) => x.name === 'optimizer/m/0000');
      const v = w.find((x) => x.name === 'optimizer/m/0001');
      [m!.name, v!.name] = [v!.name, m!.name];
      add('train/restore', [{ what: 'checkpoint: two moments swapped', files: files(encode(j), checkpoint[1].data) }]);
    }
    expect(cases.length).toBeGreaterThanOrEqual(200);

    const tensorsBefore = tf.memory().numTensors;
    const failures: string[] = [];
    for (const { type, c } of cases) {
      messages.length = 0;
      const request = { type, files: c.files.map((f) => ({ name: f.name, data: f.data.slice(0) })) } as PageToWorker;
      let error: unknown = null;
      try {
        await engine.handle(request);
      } catch (err) {
        error = err;
      }
      const ok = error instanceof Error && !(error instanceof TypeError) && !(error instanceof RangeError) && CLEAN.test(error.message) && !/undefined undefined|Cannot read|is not a function|of undefined/.test(error.message);
      if (!ok) failures.push(`${c.what}: ${error instanceof Error ? `${error.name}: ${error.message}` : 'accepted'}`);
      if (messages.some((m) => m.type === 'model/imported' || m.type === 'train/restored')) failures.push(`${c.what}: the engine took it`);
      if (tf.memory().numTensors !== tensorsBefore) failures.push(`${c.what}: ${tf.memory().numTensors - tensorsBefore} tensors leaked`);
    }
    expect(failures).toEqual([]);
    const after = await exportNow();
    expect(new Uint8Array(after[1].data)).toEqual(new Uint8Array(exported[1].data));
    expect(new TextDecoder().decode(after[0].data)).toBe(new TextDecoder().decode(exported[0].data));
  }, 300_000);

  it('still takes the good files, with their loss history', async () => {
    messages.length = 0;
    await engine.handle({ type: 'model/import', files: exported.map((f) => ({ ...f, data: f.data.slice(0) })) });
    expect(messages.some((m) => m.type === 'model/imported')).toBe(true);
    const history = messages.find((m) => m.type === 'train/history');
    expect(history && history.type === 'train/history' ? [...history.steps] : null).toEqual([1, 2, 3]);
  });
});
