/**
 * The U-Net's later additions on the wasm backend: self-attention, class conditioning (with the
 * null label of classifier-free guidance), dropout, and the latent (7x7xC) presets.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import {
  LATENT_UNET_CONFIGS,
  LATENT_UNET_PRESETS,
  UNET_CONFIGS,
  UNET_PRESETS,
  latentUNetConfig,
  nullLabel,
  unetLayout,
  unetLevelSizes,
  unetStats,
  type UNetConfig,
} from '../../src/models/setup/unet-config';
import { createUNet, type UNet } from '../../src/models/unet';
import { selfAttention, type AttentionWeights } from '../../src/models/attention';
import { classEmbedding, initWeightValues } from '../../src/models/layers';
import { mulberry32 } from '../../src/diffusion/random';
import { deadWeights } from './gradient-helpers';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

const ALL: [string, UNetConfig][] = [
  ...UNET_PRESETS.map((p) => [p, UNET_CONFIGS[p]] as [string, UNetConfig]),
  ...LATENT_UNET_PRESETS.map((p) => [p, LATENT_UNET_CONFIGS[p]] as [string, UNetConfig]),
];

function inputs(config: UNetConfig, b: number): { x: tf.Tensor4D; t: tf.Tensor1D } {
  const { imageSize: s, imageChannels: c } = config;
  const x = tf.randomNormal([b, s, s, c], 0, 1, 'float32', 7) as tf.Tensor4D;
  const t = tf.tensor1d(Array.from({ length: b }, (_, i) => 17 + 400 * i), 'float32');
  return { x, t };
}

/** Gives every zero- or one-initialised weight random values, so outputs and gradients are non-trivial. */
function perturb(model: UNet): void {
  for (const spec of unetLayout(model.config).weights) {
    if (spec.init === 'glorot') continue;
    const values = initWeightValues({ ...spec, init: 'glorot' }, 99);
    tf.tidy(() => model.weights.get(spec.name)!.assign(tf.tensor(values, spec.shape)));
  }
}

/** Reads and disposes a tensor. */
function take(y: tf.Tensor): Float32Array {
  const v = y.dataSync() as Float32Array;
  y.dispose();
  return Float32Array.from(v);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('presets and stats', () => {
  it.each(ALL)('counts exactly the parameters of %s', (_, config) => {
    const model = createUNet(config, 1);
    let total = 0;
    for (const v of model.weights.values()) total += v.size;
    expect(unetStats(config).paramCount).toBe(total);
    model.dispose();
  });

  it('counts exactly for variants: heads, no classes, no attention, odd pixel levels', () => {
    const variants: UNetConfig[] = [
      { ...UNET_CONFIGS.tiny, attention: true, attentionHeads: 2 },
      { ...UNET_CONFIGS.small, numClasses: 0, attention: false },
      { ...UNET_CONFIGS.tiny, channelMult: [1, 2, 2, 2], attention: true },
      { ...LATENT_UNET_CONFIGS['latent-tiny'], channelMult: [1], imageChannels: 2 },
    ];
    for (const config of variants) {
      const model = createUNet(config, 1);
      let total = 0;
      for (const v of model.weights.values()) total += v.size;
      expect(unetStats(config).paramCount).toBe(total);
      model.dispose();
    }
  });

  it('has attention in small/base (not tiny) and class embeddings of numClasses + 1 rows', () => {
    expect(UNET_CONFIGS.tiny.attention).toBe(false);
    expect(UNET_CONFIGS.small.attention).toBe(true);
    expect(UNET_CONFIGS.base.attention).toBe(true);
    const names = unetLayout(UNET_CONFIGS.small).weights.map((w) => w.name);
    expect(names).toEqual(expect.arrayContaining(['down.2.attn.0.q.w', 'mid.attn.out.w', 'up.2.attn.1.k.b', 'class.embed']));
    expect(names.filter((n) => n.endsWith('.attn.0.q.w') || n === 'mid.attn.q.w' || n.endsWith('.attn.1.q.w'))).toHaveLength(4);
    expect(unetLayout(UNET_CONFIGS.small).weights.find((w) => w.name === 'class.embed')!.shape).toEqual([11, 64]);
    expect(nullLabel(UNET_CONFIGS.small)).toBe(10);
    expect(unetLayout(UNET_CONFIGS.tiny).weights.some((w) => w.name.includes('attn'))).toBe(false);
  });

  it('counts attention FLOPs: 2·hw·hw·c for QKᵀ and for AV, projections as linear', () => {
    const config = UNET_CONFIGS.small;
    const on = unetLayout(config).flops;
    const off = unetLayout({ ...config, attention: false }).flops;
    const hw = 49;
    const c = 32;
    // 4 blocks (down, mid, 2 up), one head each: matmuls + softmax (5 per score) + the 1/√d scale
    expect(on.attention).toBe(4 * (2 * 2 * hw * hw * c + 5 * hw * hw + hw * c));
    expect(on.linear - off.linear).toBe(4 * 4 * hw * c * (2 * c + 1));
    expect(off.attention).toBe(0);
    expect(unetStats(config).flopsPerImage).toBe(on.linear + on.norm + on.elementwise + on.attention);
  });

  it('uses 7 → 4 levels for the latent presets and takes any latent channel count', () => {
    expect(unetLevelSizes(LATENT_UNET_CONFIGS['latent-small'])).toEqual([7, 4]);
    for (let c = 2; c <= 8; c++) expect(latentUNetConfig('latent-tiny', c).imageChannels).toBe(c);
    expect(LATENT_UNET_CONFIGS['latent-small'].preset).toBe('latent-small');
    expect((UNET_CONFIGS as Record<string, unknown>)['latent-tiny']).toBeUndefined();
  });

  it('rejects invalid configs with clear errors', () => {
    const tiny = UNET_CONFIGS.tiny;
    expect(() => unetStats({ ...tiny, attention: true, attentionHeads: 3 })).toThrow(/3 attention heads do not divide .* 8 channels/);
    expect(() => unetStats({ ...tiny, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => unetStats({ ...tiny, numClasses: -1 })).toThrow(/numClasses must be an integer >= 0/);
    expect(() => unetStats({ ...tiny, imageChannels: 0 })).toThrow(/imageChannels/);
    expect(() => unetStats({ ...tiny, imageSize: 7, channelMult: [1, 2, 2, 2] })).toThrow(/7 → 4 → 2 → 1/);
    expect(() => latentUNetConfig('latent-tiny', 2.5)).toThrow(/imageChannels/);
  });
});

describe('shapes', () => {
  it.each(ALL)('maps x to x.shape for %s, with and without labels', (name, config) => {
    const model = createUNet(config, 3);
    perturb(model);
    const b = name === 'base' ? 1 : 2;
    const { x, t } = inputs(config, b);
    const labels = tf.tensor1d([3, nullLabel(config)].slice(0, b), 'int32');
    for (const y of [model.apply(x, t), model.apply(x, t, { labels })]) {
      expect(y.shape).toEqual(x.shape);
      expect(take(y).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([x, t, labels]);
    model.dispose();
  });

  it('runs every latent channel count 2..8 on the 7 → 4 → 8 → 7 path', () => {
    for (let c = 2; c <= 8; c++) {
      const config = latentUNetConfig('latent-tiny', c);
      const model = createUNet(config, 3);
      perturb(model);
      const { x, t } = inputs(config, 2);
      const y = model.apply(x, t);
      expect(y.shape).toEqual([2, 7, 7, c]);
      expect(take(y).every(Number.isFinite)).toBe(true);
      tf.dispose([x, t]);
      model.dispose();
    }
  });

  it('rejects labels with the wrong shape, and labels for an unconditional model', () => {
    const model = createUNet(UNET_CONFIGS.tiny, 3);
    const uncond = createUNet({ ...UNET_CONFIGS.tiny, numClasses: 0 }, 3);
    const { x, t } = inputs(UNET_CONFIGS.tiny, 2);
    const labels = tf.tensor1d([1, 2, 3], 'int32');
    expect(() => model.apply(x, t, { labels })).toThrow(/labels have shape \[3\] for a batch of 2/);
    const two = tf.tensor1d([1, 2], 'int32');
    expect(() => uncond.apply(x, t, { labels: two })).toThrow(/unconditional/);
    tf.dispose([x, t, labels, two]);
    model.dispose();
    uncond.dispose();
  });
});

describe('class conditioning', () => {
  it('embeds labels (int32 or float32) as rows of the table', () => {
    const table = tf.tensor2d([0, 1, 10, 11, 20, 21, 30, 31], [4, 2]);
    for (const dtype of ['int32', 'float32'] as const) {
      const labels = tf.tensor1d([3, 0, 2], dtype);
      expect(classEmbedding(labels, table).arraySync()).toEqual([[30, 31], [0, 1], [20, 21]]);
      labels.dispose();
    }
    table.dispose();
  });

  it('gives different outputs for different labels; the null label equals omitted labels; int32 = float32', () => {
    const config = UNET_CONFIGS.tiny;
    const model = createUNet(config, 4);
    perturb(model);
    const { x, t } = inputs(config, 2);
    const l37 = tf.tensor1d([3, 7], 'int32');
    const l37f = tf.tensor1d([3, 7], 'float32');
    const l51 = tf.tensor1d([5, 1], 'int32');
    const nul = tf.fill([2], nullLabel(config), 'int32') as tf.Tensor1D;
    const a = take(model.apply(x, t, { labels: l37 }));
    const af = take(model.apply(x, t, { labels: l37f }));
    const b = take(model.apply(x, t, { labels: l51 }));
    const n = take(model.apply(x, t, { labels: nul }));
    const o = take(model.apply(x, t));
    expect(Array.from(af)).toEqual(Array.from(a));
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(a, n)).toBeGreaterThan(1e-3);
    expect(Array.from(o)).toEqual(Array.from(n));
    // Each item depends only on its own label: swapping labels changes item 0 only when its label changes.
    const mixed = tf.tensor1d([3, 1], 'int32');
    const m = take(model.apply(x, t, { labels: mixed }));
    const half = a.length / 2;
    expect(Array.from(m.subarray(0, half))).toEqual(Array.from(a.subarray(0, half)));
    expect(Array.from(m.subarray(half))).toEqual(Array.from(b.subarray(half)));
    tf.dispose([x, t, l37, l37f, l51, nul, mixed]);
    model.dispose();
  });
});

describe('dropout', () => {
  it('changes outputs only in training mode, reproducibly by seed', () => {
    const config: UNetConfig = { ...UNET_CONFIGS.tiny, dropout: 0.3 };
    const model = createUNet(config, 6);
    const plain = createUNet({ ...config, dropout: 0 }, 6);
    perturb(model);
    perturb(plain);
    const { x, t } = inputs(config, 2);
    const evalOut = take(model.apply(x, t));
    expect(Array.from(take(model.apply(x, t, { training: false, seed: 1 })))).toEqual(Array.from(evalOut));
    expect(Array.from(take(plain.apply(x, t, { training: true, seed: 1 })))).toEqual(Array.from(evalOut));
    const s1 = take(model.apply(x, t, { training: true, seed: 1 }));
    const s1again = take(model.apply(x, t, { training: true, seed: 1 }));
    const s2 = take(model.apply(x, t, { training: true, seed: 2 }));
    expect(Array.from(s1again)).toEqual(Array.from(s1));
    expect(maxAbsDiff(s1, evalOut)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(s1, s2)).toBeGreaterThan(1e-3);
    tf.dispose([x, t]);
    model.dispose();
    plain.dispose();
  });

  it('without a seed, draws a fresh mask each call from a stream that a same-seed model repeats', () => {
    const config: UNetConfig = { ...UNET_CONFIGS.tiny, dropout: 0.3 };
    const runs = [0, 1].map(() => {
      const model = createUNet(config, 8);
      perturb(model);
      const { x, t } = inputs(config, 2);
      const outs = [take(model.apply(x, t, { training: true })), take(model.apply(x, t, { training: true }))];
      tf.dispose([x, t]);
      model.dispose();
      return outs;
    });
    expect(maxAbsDiff(runs[0][0], runs[0][1])).toBeGreaterThan(1e-3);
    expect(Array.from(runs[1][0])).toEqual(Array.from(runs[0][0]));
    expect(Array.from(runs[1][1])).toEqual(Array.from(runs[0][1]));
  });
});

describe('gradients and memory', () => {
  const configs: [string, UNetConfig][] = [
    ['tiny + attention (2 heads) + classes + dropout', { ...UNET_CONFIGS.tiny, attention: true, attentionHeads: 2, dropout: 0.1 }],
    ['latent-tiny', LATENT_UNET_CONFIGS['latent-tiny']],
  ];
  it.each(configs)('sends a non-zero gradient to every weight of %s, without leaking', (_, config) => {
    const model = createUNet(config, 11);
    perturb(model);
    const { x, t } = inputs(config, 2);
    const labels = tf.tensor1d([2, nullLabel(config)], 'int32');
    const target = tf.randomNormal(x.shape, 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    const vars = [...model.weights.values()];
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(target, model.apply(x, t, { labels, training: true, seed: 5 })) as tf.Scalar,
      vars,
    );
    const dead = deadWeights(model.weights, grads);
    expect(dead).toEqual([]);
    // Only the rows of the labels used get a gradient.
    const rows = grads[model.weights.get('class.embed')!.name].arraySync() as number[][];
    const live = rows.map((r) => r.some((v) => v !== 0));
    expect(live.map((l, i) => (l ? i : -1)).filter((i) => i >= 0)).toEqual([2, nullLabel(config)]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors - before).toBe(0);
    tf.dispose([x, t, target, labels]);
    model.dispose();
  });

  it('leaks no tensor across apply with labels, training and the latent crop path', () => {
    const config: UNetConfig = { ...LATENT_UNET_CONFIGS['latent-tiny'], dropout: 0.2 };
    const { x, t } = inputs(config, 2);
    const labels = tf.tensor1d([1, 2], 'float32');
    const before = tf.memory().numTensors;
    const model = createUNet(config, 5);
    const y1 = model.apply(x, t, { labels, training: true });
    const y2 = model.apply(x, t);
    expect(tf.memory().numTensors).toBe(before + model.weights.size + 2);
    tf.dispose([y1, y2]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, labels]);
  });
});

/** Plain-JS reference of selfAttention on [b,h,w,c] (row-major NHWC). */
function referenceAttention(
  x: Float32Array,
  [b, h, w, c]: number[],
  p: Record<string, Float32Array>,
  groups: number,
  heads: number,
): Float32Array {
  const hw = h * w;
  const cg = c / groups;
  const d = c / heads;
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++) {
    const base = n * hw * c;
    const xn = new Float32Array(hw * c);
    for (let g = 0; g < groups; g++) {
      let mean = 0;
      for (let i = 0; i < hw; i++) for (let j = 0; j < cg; j++) mean += x[base + i * c + g * cg + j];
      mean /= hw * cg;
      let vari = 0;
      for (let i = 0; i < hw; i++) for (let j = 0; j < cg; j++) vari += (x[base + i * c + g * cg + j] - mean) ** 2;
      vari /= hw * cg;
      for (let i = 0; i < hw; i++) {
        for (let j = 0; j < cg; j++) {
          const ch = g * cg + j;
          xn[i * c + ch] = ((x[base + i * c + ch] - mean) / Math.sqrt(vari + 1e-5)) * p.gamma[ch] + p.beta[ch];
        }
      }
    }
    const proj = (src: Float32Array, wt: Float32Array, bias: Float32Array) => {
      const r = new Float32Array(hw * c);
      for (let i = 0; i < hw; i++) {
        for (let o = 0; o < c; o++) {
          let s = bias[o];
          for (let k = 0; k < c; k++) s += src[i * c + k] * wt[k * c + o];
          r[i * c + o] = s;
        }
      }
      return r;
    };
    const q = proj(xn, p.qw, p.qb);
    const k = proj(xn, p.kw, p.kb);
    const v = proj(xn, p.vw, p.vb);
    const mixed = new Float32Array(hw * c);
    for (let hd = 0; hd < heads; hd++) {
      for (let i = 0; i < hw; i++) {
        const scores = new Float64Array(hw);
        for (let j = 0; j < hw; j++) {
          let s = 0;
          for (let e = 0; e < d; e++) s += q[i * c + hd * d + e] * k[j * c + hd * d + e];
          scores[j] = s / Math.sqrt(d);
        }
        const mx = Math.max(...scores);
        let sum = 0;
        for (let j = 0; j < hw; j++) sum += (scores[j] = Math.exp(scores[j] - mx));
        for (let e = 0; e < d; e++) {
          let s = 0;
          for (let j = 0; j < hw; j++) s += (scores[j] / sum) * v[j * c + hd * d + e];
          mixed[i * c + hd * d + e] = s;
        }
      }
    }
    const o = proj(mixed, p.ow, p.ob);
    for (let i = 0; i < hw * c; i++) out[base + i] = x[base + i] + o[i];
  }
  return out;
}

describe('selfAttention', () => {
  const c = 4;
  const rand = mulberry32(123);
  const vec = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (2 * rand() - 1) * scale);
  const p: Record<string, Float32Array> = {
    gamma: vec(c, 2), beta: vec(c), qw: vec(c * c), qb: vec(c), kw: vec(c * c), kb: vec(c),
    vw: vec(c * c), vb: vec(c), ow: vec(c * c), ob: vec(c),
  };
  const weights = (): AttentionWeights => ({
    normGamma: tf.tensor1d(p.gamma), normBeta: tf.tensor1d(p.beta),
    q: { w: tf.tensor2d(p.qw, [c, c]), b: tf.tensor1d(p.qb) },
    k: { w: tf.tensor2d(p.kw, [c, c]), b: tf.tensor1d(p.kb) },
    v: { w: tf.tensor2d(p.vw, [c, c]), b: tf.tensor1d(p.vb) },
    out: { w: tf.tensor2d(p.ow, [c, c]), b: tf.tensor1d(p.ob) },
  });

  it.each([1, 2])('matches a plain-JS reference with %i head(s)', (heads) => {
    const shape = [2, 2, 3, c];
    const xv = vec(2 * 6 * c, 3);
    const wts = weights();
    const x = tf.tensor4d(xv, shape as [number, number, number, number]);
    const y = take(selfAttention(x, wts, 2, heads));
    const ref = referenceAttention(xv, shape, p, 2, heads);
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
    tf.dispose([x, ...Object.values(wts).flatMap((v) => ('w' in v ? [v.w, v.b] : [v]))]);
  });

  it('is equivariant to permutations of the spatial positions', () => {
    const [b, h, w] = [2, 3, 3];
    const hw = h * w;
    const xv = vec(b * hw * c, 2);
    const perm = [4, 0, 8, 2, 6, 1, 3, 7, 5];
    const permute = (v: Float32Array) => {
      const r = new Float32Array(v.length);
      for (let n = 0; n < b; n++) for (let i = 0; i < hw; i++) for (let k = 0; k < c; k++) r[(n * hw + i) * c + k] = v[(n * hw + perm[i]) * c + k];
      return r;
    };
    const wts = weights();
    const x = tf.tensor4d(xv, [b, h, w, c]);
    const xp = tf.tensor4d(permute(xv), [b, h, w, c]);
    const y = take(selfAttention(x, wts, 2, 2));
    const yp = take(selfAttention(xp, wts, 2, 2));
    expect(maxAbsDiff(permute(y), yp)).toBeLessThan(1e-5);
    tf.dispose([x, xp, ...Object.values(wts).flatMap((v) => ('w' in v ? [v.w, v.b] : [v]))]);
  });
});
