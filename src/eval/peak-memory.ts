import * as tf from '@tensorflow/tfjs';

/**
 * Runs `f` under tf.profile and reports the peak of all live tensor bytes while it ran (weights
 * included): the figure the page shows as peak memory. Use on one step of a run, not every step.
 */
export async function measurePeak<T>(f: () => T, report: (bytes: number) => void): Promise<T> {
  let result!: T;
  let failure: { error: unknown } | null = null;
  // tf.profile leaves the engine in profiling mode if its function throws: catch inside, rethrow after.
  const info = await tf.profile(() => {
    try {
      result = f();
    } catch (error) {
      failure = { error };
    }
    return [];
  });
  if (failure) throw (failure as { error: unknown }).error;
  report(info.peakBytes);
  return result;
}
