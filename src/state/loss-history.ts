/**
 * Training loss history, kept out of React state: growable typed arrays appended to by the engine
 * client, read by the loss chart a few times a second through `downsample`.
 */

export interface LossPoint {
  step: number;
  loss: number;
  ema: number;
}

/** EMA smoothing factor per step (bias-corrected, like TensorBoard's smoothing of 0.95). */
const EMA_BETA = 0.95;

export class LossHistory {
  private stepsBuf = new Int32Array(1024);
  private lossBuf = new Float32Array(1024);
  private emaBuf = new Float32Array(1024);
  private emaRaw = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
    this.emaRaw = 0;
  }

  append(steps: ArrayLike<number>, losses: ArrayLike<number>): void {
    const count = Math.min(steps.length, losses.length);
    this.reserve(this.n + count);
    for (let i = 0; i < count; i++) {
      const loss = losses[i];
      if (!Number.isFinite(loss)) continue;
      this.emaRaw = EMA_BETA * this.emaRaw + (1 - EMA_BETA) * loss;
      const k = this.n;
      this.stepsBuf[k] = steps[i];
      this.lossBuf[k] = loss;
      // Bias correction makes the first points follow the raw loss instead of rising from 0.
      this.emaBuf[k] = this.emaRaw / (1 - Math.pow(EMA_BETA, k + 1));
      this.n++;
    }
  }

  /** At most `maxPoints` points: bucket means of the raw loss, the EMA at each bucket's end. */
  downsample(maxPoints = 400): LossPoint[] {
    const n = this.n;
    const out: LossPoint[] = [];
    if (n === 0) return out;
    const buckets = Math.min(n, Math.max(1, maxPoints));
    for (let b = 0; b < buckets; b++) {
      const lo = Math.floor((b * n) / buckets);
      const hi = Math.floor(((b + 1) * n) / buckets);
      let sum = 0;
      for (let i = lo; i < hi; i++) sum += this.lossBuf[i];
      out.push({ step: this.stepsBuf[hi - 1], loss: sum / (hi - lo), ema: this.emaBuf[hi - 1] });
    }
    return out;
  }

  /** Copies of the recorded steps and losses, in order. */
  toArrays(): { steps: number[]; losses: number[] } {
    return { steps: Array.from(this.stepsBuf.subarray(0, this.n)), losses: Array.from(this.lossBuf.subarray(0, this.n)) };
  }

  last(): LossPoint | null {
    if (this.n === 0) return null;
    const k = this.n - 1;
    return { step: this.stepsBuf[k], loss: this.lossBuf[k], ema: this.emaBuf[k] };
  }

  private reserve(size: number): void {
    if (size <= this.stepsBuf.length) return;
    let cap = this.stepsBuf.length;
    while (cap < size) cap *= 2;
    const s = new Int32Array(cap);
    s.set(this.stepsBuf.subarray(0, this.n));
    const l = new Float32Array(cap);
    l.set(this.lossBuf.subarray(0, this.n));
    const e = new Float32Array(cap);
    e.set(this.emaBuf.subarray(0, this.n));
    this.stepsBuf = s;
    this.lossBuf = l;
    this.emaBuf = e;
  }
}
