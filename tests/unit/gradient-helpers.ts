/** Shared checks of the "a gradient reaches every weight" tests. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/**
 * Asserts that `grads` (from tf.variableGrads over `weights`) has a gradient of the right shape for
 * every weight, and returns the names of the weights whose gradient is zero everywhere.
 */
export function deadWeights(weights: Map<string, tf.Variable>, grads: tf.NamedTensorMap): string[] {
  expect(Object.keys(grads).length).toBe(weights.size);
  const dead: string[] = [];
  for (const [name, v] of weights) {
    const g = grads[v.name];
    expect(g, name).toBeDefined();
    expect(g.shape).toEqual(v.shape);
    const m = tf.tidy(() => tf.abs(g).max());
    if (!(m.dataSync()[0] > 0)) dead.push(name);
    m.dispose();
  }
  return dead;
}

/** Deterministic values in [-0.5, 0.5) (a small LCG), so that every backend sees identical inputs. */
export function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Largest |a[i] − b[i]|; a and b must be the same length. */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
