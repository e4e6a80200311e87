/**
 * Exponential moving average (EMA) of a model's weights, as used for sampling from diffusion models
 * (Ho et al. 2020 sample with an EMA of decay 0.9999; small models trained briefly want ~0.99–0.999).
 *
 *   shadow ← decay_t · shadow + (1 − decay_t) · w        after every optimizer step (`update()`)
 *
 * decay_t is `decay`, or with `warmup: true` min(decay, (1 + t) / (10 + t)) where t is the number of
 * updates done before this one (as TensorFlow's ExponentialMovingAverage with num_updates), so the
 * average does not remember the random initial weights for thousands of steps.
 *
 * The shadow weights are non-trainable variables of their own (an optimizer never touches them).
 * Sampling uses them without disturbing training in one of three ways:
 * - `swap()`: a snapshot of the EMA as it is now, swapped into the model's own weights around each
 *   synchronous call (`run(fn)`, e.g. one denoiser evaluation) and the training weights put back
 *   after it, so that training steps may run between the sampler's steps. No copy of the model is
 *   made: assigning a tensor to a tf.Variable shares its memory (copy on write), so a swap moves
 *   references, not weights, and the snapshot costs memory only once training moves the EMA on;
 * - `withShadow(fn)`: the same with the live EMA, for one synchronous fn;
 * - `copyTo(otherModel.weights)`: writes the EMA into a second model of the same config.
 */
import * as tf from '@tensorflow/tfjs';

export interface EmaOptions {
  /** Use decay_t = min(decay, (1 + t) / (10 + t)); default false. */
  warmup?: boolean;
}

function checkDecay(decay: number): void {
  if (typeof decay !== 'number' || !Number.isFinite(decay) || decay < 0 || decay >= 1) {
    throw new Error(`ema: decay must be a number in [0, 1), got ${String(decay)}.`);
  }
}

export class Ema {
  readonly decay: number;
  readonly warmup: boolean;
  /** EMA of each weight, by the same names as the model's weights. */
  readonly shadow = new Map<string, tf.Variable>();
  private readonly weights: Map<string, tf.Variable>;
  private updates = 0;
  private disposed = false;

  /** Starts the shadow as a copy of the current weights. */
  constructor(weights: Map<string, tf.Variable>, decay: number, options: EmaOptions = {}) {
    checkDecay(decay);
    this.decay = decay;
    this.warmup = options.warmup ?? false;
    this.weights = weights;
    for (const [name, w] of weights) {
      // tf.variable shares w's data until either is assigned (copy on assign), so this is a copy.
      this.shadow.set(name, tf.variable(w, false, undefined, w.dtype));
    }
  }

  /** Number of `update()` calls so far. */
  get step(): number {
    return this.updates;
  }

  /** Sets the update count (when resuming from a checkpoint, so the warm-up goes on where it was). */
  setStep(updates: number): void {
    if (!Number.isInteger(updates) || updates < 0) throw new Error(`ema: step must be an integer >= 0, got ${updates}.`);
    this.updates = updates;
  }

  /** The decay the next `update()` will use. */
  nextDecay(): number {
    if (!this.warmup) return this.decay;
    const t = this.updates;
    return Math.min(this.decay, (1 + t) / (10 + t));
  }

  /** shadow ← d · shadow + (1 − d) · w for every weight, in place; allocates nothing that outlives it. */
  update(): void {
    this.assertLive('update');
    const d = this.nextDecay();
    tf.tidy(() => {
      const keep = tf.scalar(d, 'float32');
      const mix = tf.scalar(1 - d, 'float32');
      for (const [name, s] of this.shadow) {
        const w = this.weight(name);
        s.assign(tf.add(tf.mul(s, keep), tf.mul(w, mix)));
      }
    });
    this.updates++;
  }

  /** Writes the EMA weights into `target` (e.g. the weights of a sampling copy of the model). */
  copyTo(target: Map<string, tf.Variable>): void {
    this.assertLive('copyTo');
    for (const name of target.keys()) {
      if (!this.shadow.has(name)) throw new Error(`ema: target has a weight '${name}' that the EMA does not track.`);
    }
    for (const [name, s] of this.shadow) {
      const t = target.get(name);
      if (t == null) throw new Error(`ema: target lacks the weight '${name}'.`);
      if (!tf.util.arraysEqual(t.shape, s.shape)) {
        throw new Error(`ema: weight '${name}' has shape [${t.shape}] in the target but [${s.shape}] in the EMA.`);
      }
    }
    for (const [name, s] of this.shadow) (target.get(name) as tf.Variable).assign(s);
  }

  /**
   * Runs `fn` with the EMA weights in the model's own variables, then restores the training weights
   * exactly (also when fn throws). fn must be synchronous: an async fn would go on after its first
   * await with the training weights back in place, so a returned promise is an error.
   */
  withShadow<T>(fn: () => T): T {
    this.assertLive('withShadow');
    const saved = new Map<string, tf.Tensor>();
    let result: T;
    try {
      for (const [name, s] of this.shadow) {
        const w = this.weight(name);
        saved.set(name, tf.clone(w));
        w.assign(s);
      }
      result = fn();
    } finally {
      for (const [name, copy] of saved) {
        this.weight(name).assign(copy);
        copy.dispose();
      }
    }
    if (result != null && typeof (result as { then?: unknown }).then === 'function') {
      (result as unknown as Promise<unknown>).then(undefined, () => undefined);
      throw new Error('ema: withShadow needs a synchronous fn; for async sampling use copyTo(a sampling model).');
    }
    return result;
  }

  /**
   * A snapshot of the EMA to swap into the model's weights around synchronous calls (caller
   * disposes it). The snapshot shares the shadow's memory until the next `update()` (tf.memory()
   * counts it as a copy all the same: it counts bytes per tensor).
   */
  swap(): EmaSwap {
    this.assertLive('swap');
    return new EmaSwap(this.weights, this.shadow);
  }

  /** Disposes the shadow variables (not the model's weights). Safe to call twice. */
  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
    this.disposed = true;
  }

  private weight(name: string): tf.Variable {
    const w = this.weights.get(name);
    if (w == null) throw new Error(`ema: the model no longer has the weight '${name}'.`);
    return w;
  }

  private assertLive(what: string): void {
    if (this.disposed) throw new Error(`ema: ${what}() after dispose().`);
  }
}

/** The EMA as it was at `Ema.swap()`, swapped into the model's weights around each `run`. */
export class EmaSwap {
  private readonly values = new Map<string, tf.Variable>();
  private running = false;

  constructor(
    private readonly weights: Map<string, tf.Variable>,
    shadow: Map<string, tf.Variable>,
  ) {
    // A variable made from a tensor shares its data (a reference, not a copy; tf.clone copies on
    // wasm), and no tidy frees it.
    for (const [name, s] of shadow) {
      if (!weights.has(name)) throw new Error(`ema: the model no longer has the weight '${name}'.`);
      this.values.set(name, tf.variable(s, false));
    }
  }

  /**
   * Runs a synchronous `fn` with the snapshot in the model's weights; the training weights are back
   * (the very same tensors) when it returns or throws. A promise from fn is an error, as in withShadow.
   */
  run<T>(fn: () => T): T {
    if (this.values.size === 0) throw new Error('ema: run() after dispose().');
    if (this.running) return fn(); // nested: the snapshot is in place already
    const swapped: string[] = [];
    let result: T;
    this.running = true;
    try {
      for (const name of this.values.keys()) {
        this.exchange(name);
        swapped.push(name);
      }
      result = fn();
    } finally {
      for (const name of swapped) this.exchange(name);
      this.running = false;
    }
    if (result != null && typeof (result as { then?: unknown }).then === 'function') {
      (result as unknown as Promise<unknown>).then(undefined, () => undefined);
      throw new Error('ema: run needs a synchronous fn.');
    }
    return result;
  }

  /**
   * The model's weight and the snapshot's trade their data (references only). One weight at a time
   * goes through a temporary variable, so tf.memory(), which counts bytes per tensor even when
   * tensors share data, never counts a second copy of the model.
   */
  private exchange(name: string): void {
    const w = this.weights.get(name)!;
    const value = this.values.get(name)!;
    const held = tf.variable(w, false);
    w.assign(value);
    value.assign(held);
    held.dispose();
  }

  /** Frees the snapshot (the model's weights are untouched). Safe to call twice. */
  dispose(): void {
    for (const v of this.values.values()) v.dispose();
    this.values.clear();
  }
}
