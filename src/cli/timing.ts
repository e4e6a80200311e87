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
  for (let i = 0; i < reps; i++) times.push(await tensorMs(fn));
  return median(times);
}

/** Wall time in ms of one run of `fn`, its result read back (await data()) and disposed. */
export async function tensorMs(fn: () => tf.Tensor): Promise<number> {
  const t0 = performance.now();
  const out = fn();
  await out.data();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}
