/**
 * The pixel U-Net (src/models/unet.ts) and its stats (src/models/setup/unet-config.ts) on the wasm backend,
 * with the wasm Conv2DBackpropFilter kernel from src/backends/wasm/conv-gradients.ts for the gradients.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from '../../src/backends/wasm/conv-gradients';
import { UNET_CONFIGS, UNET_PRESETS, unetLayout, unetLevelSizes, unetStats } from '../../src/models/setup/unet-config';
import { createUNet, type UNet } from '../../src/models/unet';
import { initWeightValues, timestepEmbedding, upsampleNearest2x } from '../../src/models/layers';
import { deadWeights } from './gradient-helpers';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  registerWasmConvGradients();
});

function inputs(b: number): { x: tf.Tensor4D; t: tf.Tensor1D } {
  const x = tf.randomNormal([b, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const t = tf.tensor1d(Array.from({ length: b }, (_, i) => 17 + 400 * i), 'float32');
  return { x, t };
}

/** Gives every zero- or one-initialised weight random values, so gradients flow everywhere. */
function perturb(model: UNet): void {
  for (const spec of unetLayout(model.config).weights) {
    if (spec.init === 'glorot') continue;
    const values = initWeightValues({ ...spec, init: 'glorot' }, 99);
    tf.tidy(() => model.weights.get(spec.name)!.assign(tf.tensor(values, spec.shape)));
  }
}

describe('unetStats', () => {
  it.each(UNET_PRESETS)('counts exactly the parameters of the %s model', (preset) => {
    const model = createUNet(UNET_CONFIGS[preset], 1);
    let total = 0;
    for (const v of model.weights.values()) total += v.size;
    expect(unetStats(UNET_CONFIGS[preset]).paramCount).toBe(total);
    expect([...model.weights.keys()]).toContain('down.0.res.0.conv1.w');
    model.dispose();
  });

  it('sizes the presets as documented', () => {
    const p = (k: 'tiny' | 'small' | 'base') => unetStats(UNET_CONFIGS[k]).paramCount;
    expect(p('tiny')).toBeLessThan(30_000);
    expect(p('small')).toBeGreaterThan(100_000);
    expect(p('small')).toBeLessThan(300_000);
    expect(p('base')).toBeGreaterThan(800_000);
    expect(p('base')).toBeLessThan(1_500_000);
  });

  it('halves odd sides by ceil (28 → 14 → 7 → 4) and rejects levels that shrink a side to 1', () => {
    expect(unetLevelSizes({ ...UNET_CONFIGS.tiny, channelMult: [1, 2, 2, 2] })).toEqual([28, 14, 7, 4]);
    expect(() => unetStats({ ...UNET_CONFIGS.tiny, channelMult: [1, 2, 2, 2, 2, 2] })).toThrow(/to 1 \(28 → 14 → 7 → 4 → 2 → 1\)/);
  });
});

describe('layers', () => {
  it('upsamples by nearest neighbour', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const up = upsampleNearest2x(x);
    const ref = tf.image.resizeNearestNeighbor(x, [4, 4]);
    expect(up.shape).toEqual([1, 4, 4, 2]);
    expect(Array.from(up.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([x, up, ref]);
  });

  it('embeds t = 0 as [sin 0 … | cos 0 …] and uses max period 10000', () => {
    const e = timestepEmbedding(tf.tensor1d([0, 1]), 8);
    const v = e.arraySync();
    expect(v[0]).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    // frequencies 1, 10000^(-1/3), 10000^(-2/3), 1e-4 (Ho et al.: ln(10000) / (half - 1))
    expect(v[1][0]).toBeCloseTo(Math.sin(1), 5);
    expect(v[1][3]).toBeCloseTo(Math.sin(1e-4), 6);
    expect(v[1][7]).toBeCloseTo(Math.cos(1e-4), 6);
    e.dispose();
  });
});

describe('createUNet', () => {
  it.each(UNET_PRESETS)('maps [b,28,28,1] to [b,28,28,1] for %s', (preset) => {
    const model = createUNet(UNET_CONFIGS[preset], 3);
    perturb(model);
    const b = preset === 'base' ? 1 : 2;
    const { x, t } = inputs(b);
    const y = model.apply(x, t);
    expect(y.shape).toEqual([b, 28, 28, 1]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, t, y]);
    model.dispose();
  });

  it('starts with a zero output (zero-initialised output conv)', () => {
    const model = createUNet(UNET_CONFIGS.tiny, 3);
    const { x, t } = inputs(2);
    const y = model.apply(x, t);
    expect(tf.abs(y).max().dataSync()[0]).toBe(0);
    tf.dispose([x, t, y]);
    model.dispose();
  });

  it('gives the same weights for the same seed, different for another', () => {
    const a = createUNet(UNET_CONFIGS.tiny, 42);
    const b = createUNet(UNET_CONFIGS.tiny, 42);
    const c = createUNet(UNET_CONFIGS.tiny, 43);
    const name = 'down.1.res.0.conv1.w';
    for (const [k, v] of a.weights) expect(Array.from(b.weights.get(k)!.dataSync())).toEqual(Array.from(v.dataSync()));
    expect(Array.from(c.weights.get(name)!.dataSync())).not.toEqual(Array.from(a.weights.get(name)!.dataSync()));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('leaks no tensor across apply, and disposes every weight', () => {
    const { x, t } = inputs(2);
    const before = tf.memory().numTensors;
    const model = createUNet(UNET_CONFIGS.tiny, 5);
    const withWeights = tf.memory().numTensors;
    expect(withWeights - before).toBe(model.weights.size);
    tf.tidy(() => {
      model.apply(x, t).sum();
    });
    const y = model.apply(x, t); // outside tidy: apply tidies its own intermediates
    expect(tf.memory().numTensors).toBe(withWeights + 1);
    y.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t]);
  });

  it('sends a non-zero gradient to every weight, without leaking', () => {
    const model = createUNet(UNET_CONFIGS.tiny, 11);
    perturb(model);
    const { x, t } = inputs(2);
    const target = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    const vars = [...model.weights.values()];
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(target, model.apply(x, t)) as tf.Scalar,
      vars,
    );
    const dead = deadWeights(model.weights, grads);
    expect(dead).toEqual([]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors - before).toBe(0);
    tf.dispose([x, t, target]);
    model.dispose();
  });
});
