/** Timing for the command-line benchmarks. */
import type * as tf from '@tensorflow/tfjs';
import { median } from '../eval/stats';

/**
 * Median wall time in ms of `reps` runs of `fn` after `warmups` untimed runs, reading the result
 * back (await data()) each time so that queued work is counted.
 */
export async function medianTensorMs(fn: () => tf.Tensor, reps: number, warmups = 1): Promise<number> {
  for (let i = 0; i < warmups; i++) {
    const warm = fn();
    await warm.data();
    warm.dispose();
  }
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn();
    await out.data();
    times.push(performance.now() - t0);
    out.dispose();
  }
  return median(times);
}
