/**
 * The skip-connection concat with a cheap backward (src/kernels/fast-concat.ts): value and gradient
 * exactly those of tf.concat on wasm (both split paths) and cpu, a whole U-Net train step's loss and
 * gradients unchanged, and no leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { concatChannels, setFastConcat } from '../../src/kernels/fast-concat';
import { UNET_CONFIGS } from '../../src/models/setup/unet-config';
import { createUNet } from '../../src/models/unet';

beforeAll(async () => {
  await initNodeBackend('wasm');
});
afterAll(async () => {
  setFastConcat(true);
  await tf.setBackend('wasm');
});

/** Value and gradients (for upstream gradient g) of concat(a, b) with the fast op on or off. */
function run(fast: boolean, a: tf.Tensor, b: tf.Tensor, g: tf.Tensor): Float32Array[] {
  setFastConcat(fast);
  const out = tf.tidy(() => {
    const f = (x: tf.Tensor, y: tf.Tensor) => concatChannels(x, y);
    const value = f(a, b);
    const [da, db] = tf.grads(f)([a, b], g);
    return [value, da, db];
  });
  setFastConcat(true);
  const data = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return data;
}

describe('concatChannels', () => {
  const shapes: [number[], number, number][] = [
    [[2, 7, 7], 16, 16], // gcd 16: transpose path, equal halves
    [[2, 5, 5], 32, 16], // gcd 16: transpose path, a has two blocks
    [[3, 4, 4], 8, 24], // gcd 8: b has three blocks
    [[2, 3, 3], 3, 5], // gcd 1: two slices
    [[4], 6, 2], // rank 2
  ];
  for (const backend of ['wasm', 'cpu'] as const) {
    for (const [lead, ca, cb] of shapes) {
      it(`equals tf.concat exactly, value and gradient, on ${backend}: [${lead}] ${ca}+${cb}`, async () => {
        await tf.setBackend(backend);
        const a = tf.randomNormal([...lead, ca], 0, 1, 'float32', 1);
        const b = tf.randomNormal([...lead, cb], 0, 1, 'float32', 2);
        const g = tf.randomNormal([...lead, ca + cb], 0, 1, 'float32', 3);
        const plain = run(false, a, b, g);
        const fast = run(true, a, b, g);
        for (let i = 0; i < 3; i++) expect(Array.from(fast[i])).toEqual(Array.from(plain[i]));
        tf.dispose([a, b, g]);
        await tf.setBackend('wasm');
      });
    }
  }

  it('leaks no tensors and no backend buffers on wasm', () => {
    const a = tf.randomNormal([2, 6, 6, 32]);
    const b = tf.randomNormal([2, 6, 6, 16]);
    const g = tf.randomNormal([2, 6, 6, 48]);
    run(true, a, b, g); // warm-up
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    run(true, a, b, g);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([a, b, g]);
  });
});

describe('a U-Net train step with the fast concat', () => {
  it('has the same loss and gradients as with tf.concat (float32 tolerance), and leaks nothing', () => {
    const model = createUNet({ ...UNET_CONFIGS.tiny, attention: true }, 3);
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const t = tf.tensor1d([10, 700]);
    const target = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const vars = [...model.weights.values()];
    const step = (fast: boolean): Map<string, Float32Array> => {
      setFastConcat(fast);
      const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(target, model.apply(x, t)) as tf.Scalar, vars);
      setFastConcat(true);
      const out = new Map<string, Float32Array>([['loss', value.dataSync() as Float32Array]]);
      for (const [name, gr] of Object.entries(grads)) out.set(name, gr.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const plain = step(false);
    step(true); // warm-up for the leak count
    const tensors = tf.memory().numTensors;
    const fast = step(true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(fast.size).toBe(plain.size);
    for (const [name, ref] of plain) {
      const got = fast.get(name)!;
      let scale = 1e-3;
      for (const v of ref) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(1e-5 * scale);
    }
    tf.dispose([x, t, target]);
    model.dispose();
  });
});
