/**
 * Weights files (src/io/weights-file.ts, weights-file-node.ts) on the wasm backend: a saved U-Net
 * rebuilds bit-identically from its own metadata; every malformed input is rejected with an Error
 * that names the problem and leaves no tensor behind; a seeded fuzz of both files never sees
 * anything else.
 */
import { mulberry32 } from '../../src/diffusion/random';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import {
  assignWeights,
  disposeTensors,
  extraTensors,
  loadWeights,
  saveWeights,
  shapesOf,
  withGroup,
  type WeightsArtifacts,
  type WeightsMeta,
} from '../../src/io/weights-file';
import { loadFromDir, saveToDir } from '../../src/io/weights-file-node';
import { UNET_CONFIGS, type UNetConfig } from '../../src/models/setup/unet-config';
import { createUNet, type UNet } from '../../src/models/unet';

let model: UNet;
let saved: WeightsArtifacts;
let x: tf.Tensor4D;
let t: tf.Tensor1D;
const meta = (config: unknown = UNET_CONFIGS.tiny): WeightsMeta => ({
  format: 'diffusion-playground',
  version: 1,
  kind: 'unet',
  config,
  extra: { step: 1234, note: 'test' },
});

beforeAll(async () => {
  await initNodeBackend('wasm');
  model = createUNet(UNET_CONFIGS.tiny, 1);
  // Give the zero-initialised weights values too, so every weight matters to the output.
  for (const v of model.weights.values()) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 2))));
  saved = await saveWeights(model.weights, meta());
  x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  t = tf.tensor1d([3, 700], 'float32');
});

afterAll(() => {
  tf.dispose([x, t]);
  model.dispose();
});

/** A deep copy of the saved model.json, to break in one place. */
function json(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return structuredClone(saved.modelJson) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Expects `load` to throw an Error matching `message` and to leave the tensor count as it was. */
function expectRejected(load: () => unknown, message: RegExp): void {
  const before = tf.memory().numTensors;
  let caught: unknown = null;
  try {
    const out = load() as { tensors?: Map<string, tf.Tensor> };
    if (out?.tensors) disposeTensors(out.tensors);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(Error);
  expect((caught as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before);
}

const rng = mulberry32;

describe('saveWeights / loadWeights / assignWeights', () => {
  it('writes tf.io artifacts that carry the full config', () => {
    const j = saved.modelJson;
    expect(j.format).toBe('diffusion-playground');
    expect(j.weightsManifest).toHaveLength(1);
    expect(j.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(j.weightsManifest[0].weights.map((w) => w.name)).toEqual([...model.weights.keys()]);
    expect(j.weightsManifest[0].weights.every((w) => w.dtype === 'float32')).toBe(true);
    expect(j.userDefinedMetadata).toEqual(meta());
    let params = 0;
    for (const v of model.weights.values()) params += v.size;
    expect(saved.weightsBin.byteLength).toBe(4 * params);
    // Survives a trip through JSON text unchanged.
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('rebuilds a model from the checkpoint alone with bit-identical outputs', async () => {
    const before = tf.memory().numTensors;
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-'));
    try {
      await saveToDir(dir, saved);
      const files = await loadFromDir(dir);
      const { meta: m, tensors } = loadWeights(files.modelJson, files.weightsBin, {
        kind: 'unet',
        shapes: shapesOf(model.weights),
      });
      expect(m).toEqual(meta());
      const rebuilt = createUNet(m.config as UNetConfig, 987654);
      assignWeights(rebuilt.weights, tensors);
      disposeTensors(tensors);
      const a = model.apply(x, t);
      const b = rebuilt.apply(x, t);
      expect(b.dataSync()).toEqual(a.dataSync());
      for (const [n, v] of model.weights) expect(rebuilt.weights.get(n)?.dataSync()).toEqual(v.dataSync());
      tf.dispose([a, b]);
      rebuilt.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads from the JSON text and from a byte view (e.g. a Node Buffer) as well', () => {
    const text = JSON.stringify(saved.modelJson);
    const padded = new Uint8Array(saved.weightsBin.byteLength + 8);
    padded.set(new Uint8Array(saved.weightsBin), 4);
    const view = padded.subarray(4, 4 + saved.weightsBin.byteLength);
    const { tensors } = loadWeights(text, view, { shapes: shapesOf(model.weights) });
    expect(tensors.size).toBe(model.weights.size);
    disposeTensors(tensors);
  });

  it('keeps extra tensors under a group prefix (e.g. optimizer state) apart from the model', async () => {
    const m = tf.tensor([1, 2, 3], [3]);
    const step = tf.scalar(42);
    const extras = withGroup(new Map([['adam/iter', step], ['adam/m/down.0.res.0.conv1.b', m]]), 'optimizer');
    const all = new Map<string, tf.Tensor>([...model.weights, ...extras]);
    const art = await saveWeights(all, meta());
    const { tensors } = loadWeights(art.modelJson, art.weightsBin, {
      shapes: shapesOf(model.weights),
      extraGroups: ['optimizer'],
    });
    const opt = extraTensors(tensors, 'optimizer');
    expect([...opt.keys()]).toEqual(['adam/iter', 'adam/m/down.0.res.0.conv1.b']);
    expect(opt.get('adam/iter')?.dataSync()).toEqual(new Float32Array([42]));
    const copy = createUNet(UNET_CONFIGS.tiny, 5);
    assignWeights(copy.weights, tensors); // extras are ignored
    copy.dispose();
    disposeTensors(tensors);
    expectRejected(() => loadWeights(art.modelJson, art.weightsBin, { extraGroups: ['ema'] }), /unexpected extra tensor 'optimizer\/adam\/iter'/);
    tf.dispose([m, step]);
  });

  it('refuses to save what it could not load', async () => {
    const bad = tf.tensor([1, Number.NaN]);
    const int = tf.tensor([1, 2], [2], 'int32');
    await expect(saveWeights(new Map([['w', bad]]), meta())).rejects.toThrow(/'w' has a non-finite value at flat index 1/);
    await expect(saveWeights(new Map([['w', int]]), meta())).rejects.toThrow(/dtype int32; model files hold float32 only/);
    await expect(saveWeights(new Map(), { ...meta(), config: undefined })).rejects.toThrow(/meta.config is missing/);
    await expect(saveWeights(new Map(), meta({ a: Number.NaN }))).rejects.toThrow(/meta.config.a is NaN/);
    await expect(saveWeights(new Map(), { ...meta(), version: 2 as 1 })).rejects.toThrow(/meta.version must be 1/);
    tf.dispose([bad, int]);
  });
});

describe('rejections', () => {
  const bin = () => saved.weightsBin;
  const shapes = () => shapesOf(model.weights);
  const specs = (j: Record<string, any>) => j.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[]; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('wrong format or version', () => {
    const a = json();
    a.format = 'keras';
    expectRejected(() => loadWeights(a, bin()), /"format" must be 'diffusion-playground', got the string "keras"/);
    const b = json();
    b.userDefinedMetadata.version = 2;
    expectRejected(() => loadWeights(b, bin()), /unsupported model file version number 2; this build reads version 1/);
    const c = json();
    delete c.userDefinedMetadata;
    expectRejected(() => loadWeights(c, bin()), /"userDefinedMetadata" must be an object, got undefined/);
    const d = json();
    delete d.userDefinedMetadata.config;
    expectRejected(() => loadWeights(d, bin()), /config is missing/);
  });

  it('wrong kind', () => {
    expectRejected(() => loadWeights(json(), bin(), { kind: 'autoencoder' }), /holds a 'unet' model, expected 'autoencoder'/);
  });

  it('missing tensor', () => {
    const j = json();
    const removed = specs(j).shift()!;
    const size = removed.shape.reduce((a, b) => a * b, 1);
    expectRejected(() => loadWeights(j, bin().slice(4 * size), { shapes: shapes() }), new RegExp(`missing tensor '${removed.name}'`));
    // Without expectations it is a valid (smaller) checkpoint, which assignWeights refuses.
    const { tensors } = loadWeights(j, bin().slice(4 * size));
    const target = createUNet(UNET_CONFIGS.tiny, 3);
    const snapshot = [...target.weights.values()].map((v) => v.dataSync().slice());
    expectRejected(() => assignWeights(target.weights, tensors), new RegExp(`cannot assign: missing tensor '${removed.name}'`));
    // All or nothing: nothing was assigned.
    [...target.weights.values()].forEach((v, i) => expect(v.dataSync()).toEqual(snapshot[i]));
    target.dispose();
    disposeTensors(tensors);
  });

  it('extra tensor', () => {
    const j = json();
    specs(j).push({ name: 'mid.attn.q.w', shape: [2], dtype: 'float32' });
    const b = new Uint8Array(bin().byteLength + 8);
    b.set(new Uint8Array(bin()));
    expectRejected(() => loadWeights(j, b.buffer, { shapes: shapes() }), /unexpected tensor 'mid.attn.q.w' that the model does not have/);
    const { tensors } = loadWeights(j, b.buffer);
    const target = createUNet(UNET_CONFIGS.tiny, 3);
    expectRejected(() => assignWeights(target.weights, tensors), /cannot assign: unexpected tensor 'mid.attn.q.w'/);
    target.dispose();
    disposeTensors(tensors);
  });

  it('duplicate tensor name', () => {
    const j = json();
    specs(j)[1].name = specs(j)[0].name;
    expectRejected(() => loadWeights(j, bin()), /appears twice in the manifest/);
  });

  it('wrong shape (same byte count)', () => {
    const j = json();
    const s = specs(j).find((e) => e.shape.length === 4)!;
    s.shape = [s.shape[0] * s.shape[1], 1, s.shape[2], s.shape[3]];
    expectRejected(() => loadWeights(j, bin(), { shapes: shapes() }), new RegExp(`tensor '${s.name}' has shape \\[.*\\] in the file but the model expects`));
    // And into a model: shapes must be identical, not merely the same size.
    const { tensors } = loadWeights(j, bin());
    const target = createUNet(UNET_CONFIGS.tiny, 3);
    expectRejected(() => assignWeights(target.weights, tensors), new RegExp(`cannot assign: tensor '${s.name}' has shape`));
    target.dispose();
    disposeTensors(tensors);
    const k = json();
    specs(k)[0].shape = [-1, 3];
    expectRejected(() => loadWeights(k, bin()), /dimensions must be non-negative integers/);
    const l = json();
    specs(l)[0].shape = [1e10, 1e10];
    expectRejected(() => loadWeights(l, bin()), /impossibly large/);
  });

  it('wrong dtype', () => {
    for (const dtype of ['int32', 'float16', undefined]) {
      const j = json();
      specs(j)[0].dtype = dtype as string;
      expectRejected(() => loadWeights(j, bin()), new RegExp(`tensor '${specs(j)[0].name}' has dtype .*; model files hold float32 only`));
    }
    const q = json();
    (specs(q)[0] as Record<string, unknown>).quantization = { dtype: 'uint8', min: 0, scale: 1 };
    expectRejected(() => loadWeights(q, bin()), /is quantized/);
  });

  it('truncated or oversize weights.bin', () => {
    const n = bin().byteLength;
    expectRejected(() => loadWeights(json(), bin().slice(0, n - 4)), new RegExp(`truncated: it has ${n - 4} bytes but the manifest describes ${n}`));
    expectRejected(() => loadWeights(json(), bin().slice(0, n - 1)), /truncated/);
    expectRejected(() => loadWeights(json(), new ArrayBuffer(0)), /truncated: it has 0 bytes/);
    const big = new Uint8Array(n + 3);
    big.set(new Uint8Array(bin()));
    expectRejected(() => loadWeights(json(), big.buffer), new RegExp(`oversize: it has ${n + 3} bytes but the manifest describes only ${n} \\(3 bytes too many\\)`));
    expectRejected(() => loadWeights(json(), 'not bytes' as unknown as ArrayBuffer), /weights.bin must be an ArrayBuffer/);
  });

  it('NaN or Inf values', () => {
    const names = specs(json()).map((s) => s.name);
    for (const [value, index] of [[Number.NaN, 0], [Infinity, 100], [-Infinity, 5000]] as const) {
      const b = bin().slice(0);
      new Float32Array(b)[index] = value;
      expectRejected(() => loadWeights(json(), b), /holds a non-finite value/);
    }
    const b = bin().slice(0);
    new Float32Array(b)[0] = Number.NaN;
    expectRejected(() => loadWeights(json(), b), new RegExp(`tensor '${names[0]}' holds a non-finite value \\(NaN\\) at flat index 0`));
  });

  it('malformed JSON structure', () => {
    expectRejected(() => loadWeights('{"format": ', bin()), /model.json is not valid JSON/);
    for (const v of [null, 42, 'true', [], '[1]']) {
      expectRejected(() => loadWeights(v, bin()), /model.json must hold a JSON object/);
    }
    const a = json();
    delete a.weightsManifest;
    expectRejected(() => loadWeights(a, bin()), /"weightsManifest" must be an array, got nothing \(missing\)/);
    const b = json();
    b.weightsManifest = {};
    expectRejected(() => loadWeights(b, bin()), /"weightsManifest" must be an array, got an object/);
    const c = json();
    c.weightsManifest.push(c.weightsManifest[0]);
    expectRejected(() => loadWeights(c, bin()), /exactly one group/);
    const d = json();
    d.weightsManifest[0].paths = ['group1-shard1of1.bin'];
    expectRejected(() => loadWeights(d, bin()), /paths must be \["weights.bin"\]/);
    const e = json();
    delete e.weightsManifest[0].weights;
    expectRejected(() => loadWeights(e, bin()), /weights must be an array, got nothing/);
    const f = json();
    specs(f)[3] = 'w' as never;
    expectRejected(() => loadWeights(f, bin()), /weights\[3\] must be an object, got the string "w"/);
    const g = json();
    specs(g)[0].name = '__proto__';
    const { tensors } = loadWeights(g, bin()); // an odd but harmless name
    expect(tensors.has('__proto__')).toBe(true);
    disposeTensors(tensors);
  });

  it('reports unreadable directories and broken files clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-bad-'));
    try {
      await expect(loadFromDir(dir)).rejects.toThrow(/cannot read .*model.json/);
      await saveToDir(dir, saved);
      await writeFile(join(dir, 'model.json'), '{ not json');
      await expect(loadFromDir(dir)).rejects.toThrow(/model.json is not valid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fuzz', () => {
  it('200 seeded byte flips and truncations give clean Errors or valid loads, and never leak', () => {
    const random = rng(20240601);
    const text = new TextEncoder().encode(JSON.stringify(saved.modelJson));
    const bin = new Uint8Array(saved.weightsBin);
    const decoder = new TextDecoder();
    let loaded = 0;
    let rejected = 0;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      let j = text.slice();
      let b: Uint8Array = bin.slice();
      const mode = i % 4;
      const flips = 1 + Math.floor(random() * 4);
      if (mode === 0) {
        for (let k = 0; k < flips; k++) j[Math.floor(random() * j.length)] ^= 1 << Math.floor(random() * 8);
      } else if (mode === 1) {
        for (let k = 0; k < flips; k++) b[Math.floor(random() * b.length)] ^= 1 << Math.floor(random() * 8);
      } else if (mode === 2) {
        b = b.slice(0, Math.floor(random() * b.length));
      } else {
        // Truncate the JSON, or overwrite one of its characters with a structural one.
        if (random() < 0.5) j = j.slice(0, Math.floor(random() * j.length));
        else j[Math.floor(random() * j.length)] = '{}[]",:0-e9'.charCodeAt(Math.floor(random() * 11));
      }
      if (attempt(decoder.decode(j), b)) loaded++;
      else rejected++;
    }
    expect(tf.memory().numTensors).toBe(before);
    // Both outcomes occur: mantissa flips load, most others are caught.
    expect(loaded).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(50);

    function attempt(jsonText: string, weights: Uint8Array): boolean {
      const start = tf.memory().numTensors;
      try {
        const { tensors } = loadWeights(jsonText, weights, { kind: 'unet' });
        disposeTensors(tensors);
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^model file: \S/);
        return false;
      } finally {
        expect(tf.memory().numTensors).toBe(start);
      }
    }
  });
});
