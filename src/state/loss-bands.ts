/**
 * The training loss by timestep: the denoiser's per-example losses (sent with every progress
 * message) split into bands of equal width over t = 1..T, each band keeping the mean of its most
 * recent examples. Low bands are nearly clean images, high bands nearly pure noise: the chart
 * shows which noise levels the model has learned. Typed arrays, outside React (like the loss history).
 */

/** Number of bands over 1..T. */
export const LOSS_BANDS = 10;
/** Each band's running mean is over its last this many examples. */
export const BAND_WINDOW = 200;

/** The band of a 0-based timestep index (the paper's t − 1) in 0..T−1. */
export function bandOf(tIndex: number, T: number, bands = LOSS_BANDS): number {
  const b = Math.floor((tIndex * bands) / T);
  return b < 0 ? 0 : b >= bands ? bands - 1 : b;
}

/** The paper's t (1..T) that band `b` covers, first and last. */
export function bandRange(b: number, T: number, bands = LOSS_BANDS): [number, number] {
  return [Math.ceil((b * T) / bands) + 1, Math.ceil(((b + 1) * T) / bands)];
}

export class LossBands {
  /** The T the bands are laid over (0 before the first example). */
  T = 0;
  private readonly values: Float32Array;
  /** Examples seen per band in all (the window holds the last min(seen, window) of them). */
  private readonly seenCount: Float64Array;

  constructor(
    readonly bands = LOSS_BANDS,
    readonly window = BAND_WINDOW,
  ) {
    this.values = new Float32Array(bands * window);
    this.seenCount = new Float64Array(bands);
  }

  clear(): void {
    this.seenCount.fill(0);
    this.T = 0;
  }

  /** Adds examples: 0-based timesteps and their losses; a different T starts the bands over. */
  add(timesteps: ArrayLike<number>, losses: ArrayLike<number>, T: number): void {
    if (T !== this.T) {
      this.clear();
      this.T = T;
    }
    const n = Math.min(timesteps.length, losses.length);
    for (let i = 0; i < n; i++) {
      const loss = losses[i];
      if (!Number.isFinite(loss)) continue;
      const b = bandOf(timesteps[i], T, this.bands);
      this.values[b * this.window + (this.seenCount[b] % this.window)] = loss;
      this.seenCount[b]++;
    }
  }

  /** Examples seen in band `b` since the last clear. */
  seen(b: number): number {
    return this.seenCount[b];
  }

  /** The mean loss of band `b`'s last examples, or null before its first. */
  mean(b: number): number | null {
    const k = Math.min(this.seenCount[b], this.window);
    if (k === 0) return null;
    let sum = 0;
    for (let i = 0; i < k; i++) sum += this.values[b * this.window + i];
    return sum / k;
  }

  means(): (number | null)[] {
    return Array.from({ length: this.bands }, (_, b) => this.mean(b));
  }
}
