/**
 * The one-kernel inference GroupNorm (src/kernels/group-norm-inference.ts, registered on wasm
 * by src/backends/wasm/group-norm.ts): its arithmetic against a closed form, and a latent U-Net and
 * autoencoder on wasm (where sampling uses it) against the cpu backend (which has no such kernel),
 * with the kernel kept out of training (a gradient through it would throw). No tensor is left behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { GROUP_NORM_KERNEL, groupNormInto } from '../../src/kernels/group-norm-inference';
import { latentUNetConfig } from '../../src/models/setup/unet-config';
import { createUNet } from '../../src/models/unet';
import { AUTOENCODER_CONFIGS } from '../../src/models/setup/autoencoder-config';
import { createAutoencoder } from '../../src/models/autoencoder';
import { maxDiff } from './gradient-helpers';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('groupNormInto', () => {
  // 2 examples, 3 positions, 4 channels in 2 groups. Each group's 6 values are μ ± s alternating,
  // so its mean is μ, its variance s² and every normalized value is exactly ±1/√(1 + eps/s²).
  const [batch, positions, c, groups] = [2, 3, 4, 2];
  const mus = [[0.5, -2], [3, 0]];
  const ss = [[1, 0.25], [2, 4]];
  const x = new Float32Array(batch * positions * c);
  const sign = new Float32Array(x.length);
  for (let e = 0; e < batch; e++) {
    for (let p = 0; p < positions; p++) {
      for (let ch = 0; ch < c; ch++) {
        const g = ch >> 1;
        const i = (e * positions + p) * c + ch;
        sign[i] = (p * 2 + (ch & 1)) % 2 === 0 ? 1 : -1;
        x[i] = mus[e][g] + sign[i] * ss[e][g];
      }
    }
  }
  const gamma = new Float32Array([1, 2, -1, 0.5]);
  const beta = new Float32Array([0, 0.1, 0.2, -0.3]);
  const eps = 1e-5;
  const want = (i: number) => {
    const e = Math.floor(i / (positions * c));
    const ch = i % c;
    const s = ss[e][ch >> 1];
    return (sign[i] / Math.sqrt(1 + eps / (s * s))) * gamma[ch] + beta[ch];
  };

  it("normalizes each example's groups to ±1, then scales and shifts", () => {
    const out = new Float32Array(x.length);
    groupNormInto(x, gamma, beta, out, batch, c, { groups, eps });
    for (let i = 0; i < x.length; i++) expect(out[i]).toBeCloseTo(want(i), 5);
  });
});

/** f's output values on `backend` (weights made inside f from a fixed seed). */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const y = f();
  const v = (await y.data()) as Float32Array;
  y.dispose();
  return v;
}

describe('on wasm', () => {
  it('is registered there and not on cpu', async () => {
    expect(tf.getKernel(GROUP_NORM_KERNEL, 'wasm')).toBeDefined();
    expect(tf.getKernel(GROUP_NORM_KERNEL, 'cpu')).toBeUndefined();
  });

  it("a latent U-Net's prediction and an autoencoder's decoding match the cpu backend's, leaving no tensor", async () => {
    const config = latentUNetConfig('latent-lite', 4);
    const run = () => {
      const unet = createUNet(config, 3);
      const ae = createAutoencoder(AUTOENCODER_CONFIGS['ae-tiny'], 3);
      try {
        return tf.tidy(() => {
          const x = tf.randomNormal([3, 7, 7, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
          const eps = unet.apply(x, tf.tensor1d([10, 500, 990]), { labels: tf.tensor1d([0, 4, 10], 'int32') });
          return tf.concat([tf.reshape(eps, [-1]), tf.reshape(ae.decode(x), [-1])]);
        });
      } finally {
        unet.dispose();
        ae.dispose();
      }
    };
    const want = await on('cpu', run);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = await on('wasm', run);
    expect(tf.memory().numTensors).toBe(before);
    // ...and the kernel did run there (the U-Net's GroupNorms are small enough for it).
    const profile = await tf.profile(run);
    tf.dispose(profile.result as tf.Tensor);
    expect(profile.kernels.filter((k) => k.name === GROUP_NORM_KERNEL).length).toBeGreaterThan(5);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
  });

  it('training takes the differentiable path: gradients reach every GroupNorm weight', async () => {
    await tf.setBackend('wasm');
    const unet = createUNet(latentUNetConfig('latent-lite', 4), 3);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => tf.mean(tf.square(unet.apply(tf.randomNormal([2, 7, 7, 4], 0, 1, 'float32', 1) as tf.Tensor4D, tf.tensor1d([3, 700])))) as tf.Scalar),
    );
    // Without a gradient, tfjs would throw on reaching the kernel; here every weight has one.
    for (const name of ['down.0.res.0.norm1.gamma', 'mid.attn.norm.beta', 'out.norm.gamma']) expect(grads[unet.weights.get(name)!.name]).toBeDefined();
    expect(Number.isFinite((await value.data())[0])).toBe(true);
    value.dispose();
    tf.dispose(Object.values(grads));
    const weights = unet.weights.size;
    unet.dispose();
    expect(tf.memory().numTensors).toBe(before - weights);
  });
});
