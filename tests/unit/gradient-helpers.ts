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
