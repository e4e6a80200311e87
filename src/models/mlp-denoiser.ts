/**
 * The 2D lab's denoiser (issue 17): a small MLP on (x, y) and a sinusoidal embedding of the time
 * (Vaswani et al. 2017, §3.5, as Ho et al. 2020 embed the timestep), `depth` hidden layers of
 * `width` units with SiLU, and a linear output of 2 (ε̂, x̂0, v̂ or the flow's velocity).
 *
 * The time `tau` it sees is on a 0..1000 scale for both objectives: the diffusion timestep
 * t·1000/T, or the flow's t·1000. The input features [x, y, sin(τ·f_j), cos(τ·f_j)] are built on
 * the CPU (plain floats: the batch is small), so a forward pass is only dense layers and SiLUs, with
 * few, large ops (tfjs's per-op cost dominates at this size).
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32, deriveSeed } from '../diffusion/random';

/** Frequencies of the time embedding: 2·TIME_FREQUENCIES features. */
export const TIME_FREQUENCIES = 8;
/** Input features: x, y and the time embedding. */
export const MLP_INPUT_FEATURES = 2 + 2 * TIME_FREQUENCIES;
/** The time scale the MLP sees: τ in [0, TIME_SCALE]. */
export const TIME_SCALE = 1000;

export interface MlpShape {
  width: number;
  depth: number;
}

/** The layers' [in, out] sizes. */
function layerSizes({ width, depth }: MlpShape): Array<[number, number]> {
  const sizes: Array<[number, number]> = [[MLP_INPUT_FEATURES, width]];
  for (let i = 1; i < depth; i++) sizes.push([width, width]);
  sizes.push([width, 2]);
  return sizes;
}

/** Trainable parameters of an MLP of this shape (weights and biases). */
export function mlpParamCount(shape: MlpShape): number {
  return layerSizes(shape).reduce((s, [i, o]) => s + i * o + o, 0);
}

export function checkMlpShape({ width, depth }: MlpShape): void {
  if (!Number.isInteger(width) || width < 4 || width > 1024) throw new Error(`MLP width must be an integer in [4, 1024], got ${width}.`);
  if (!Number.isInteger(depth) || depth < 1 || depth > 8) throw new Error(`MLP depth must be an integer in [1, 8], got ${depth}.`);
}

const FREQS = Float64Array.from({ length: TIME_FREQUENCIES }, (_, j) => Math.exp((-Math.log(TIME_SCALE) * j) / TIME_FREQUENCIES));

/** Writes row i of the input features: x, y, sin(τ f_j), cos(τ f_j). */
export function writeFeatures(out: Float32Array, i: number, x: number, y: number, tau: number): void {
  const o = i * MLP_INPUT_FEATURES;
  out[o] = x;
  out[o + 1] = y;
  for (let j = 0; j < TIME_FREQUENCIES; j++) {
    out[o + 2 + j] = Math.sin(tau * FREQS[j]);
    out[o + 2 + TIME_FREQUENCIES + j] = Math.cos(tau * FREQS[j]);
  }
}

/** The features of points [n, 2] at per-item times τ (or one τ for all). */
export function mlpFeatures(points: ArrayLike<number>, tau: number | ArrayLike<number>): Float32Array {
  const n = points.length >> 1;
  const out = new Float32Array(n * MLP_INPUT_FEATURES);
  for (let i = 0; i < n; i++) writeFeatures(out, i, points[2 * i], points[2 * i + 1], typeof tau === 'number' ? tau : tau[i]);
  return out;
}

/**
 * The MLP with all its parameters in one flat variable (each layer's weights [in, out] row-major,
 * then its biases), so that Adam updates them with a handful of ops, and a hand-written backward
 * pass (no gradient tape: fewer, larger ops, nothing cloned for the tape).
 */
export class MlpDenoiser {
  readonly theta: tf.Variable<tf.Rank.R1>;
  readonly paramCount: number;
  private readonly layers: Array<{ fanIn: number; fanOut: number; offset: number }> = [];

  /** Weights ~ U(−√(6/(in+out)), √(6/(in+out))) (Glorot & Bengio 2010), biases 0, from `seed`. */
  constructor(
    readonly shape: MlpShape,
    seed: number,
  ) {
    checkMlpShape(shape);
    this.paramCount = mlpParamCount(shape);
    const init = new Float32Array(this.paramCount);
    const u = mulberry32(deriveSeed(seed, 0x6d6c70));
    let offset = 0;
    for (const [fanIn, fanOut] of layerSizes(shape)) {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < fanIn * fanOut; i++) init[offset + i] = (2 * u() - 1) * limit;
      this.layers.push({ fanIn, fanOut, offset });
      offset += fanIn * fanOut + fanOut;
    }
    this.theta = tf.variable(tf.tensor1d(init), true);
  }

  /** Each layer's weights [in, out] and biases [out], as views of θ. Call inside a tf.tidy. */
  private params(theta: tf.Tensor1D = this.theta): Array<{ w: tf.Tensor2D; b: tf.Tensor1D }> {
    return this.layers.map(({ fanIn, fanOut, offset }) => ({
      w: tf.reshape(tf.slice(theta, offset, fanIn * fanOut), [fanIn, fanOut]) as tf.Tensor2D,
      b: tf.slice(theta, offset + fanIn * fanOut, fanOut) as tf.Tensor1D,
    }));
  }

  /** The network on input features [n, MLP_INPUT_FEATURES] → [n, 2], with θ or a snapshot of it. */
  apply(features: tf.Tensor2D, theta: tf.Tensor1D = this.theta): tf.Tensor2D {
    return tf.tidy(() => {
      const params = this.params(theta);
      let h = features;
      params.forEach(({ w, b }, l) => {
        const z = tf.fused.matMul({ a: h, b: w, bias: b }) as tf.Tensor2D;
        h = l < params.length - 1 ? (tf.mul(z, tf.sigmoid(z)) as tf.Tensor2D) : z;
      });
      return h;
    });
  }

  /**
   * Output and the gradient of L = Σ_i Σ_c rowWeight_i·(out_ic − target_ic)² with respect to θ
   * ([P], θ's layout), by backpropagation written out: with s = σ(z) and h = z·s, SiLU's derivative
   * is s + h·(1 − s). New tensors the caller owns.
   */
  lossGradient(features: tf.Tensor2D, target: tf.Tensor2D, rowWeight: tf.Tensor2D): { output: tf.Tensor2D; grad: tf.Tensor1D } {
    return tf.tidy(() => {
      const params = this.params();
      const inputs: tf.Tensor2D[] = [];
      const slopes: tf.Tensor2D[] = [];
      let h = features;
      params.forEach(({ w, b }, l) => {
        inputs.push(h);
        const z = tf.fused.matMul({ a: h, b: w, bias: b }) as tf.Tensor2D;
        if (l === params.length - 1) {
          h = z;
          return;
        }
        const s = tf.sigmoid(z);
        h = tf.mul(z, s) as tf.Tensor2D;
        slopes.push(tf.add(s, tf.mul(h, tf.sub(1, s))));
      });
      const output = h;
      let d = tf.mul(tf.sub(output, target), tf.mul(rowWeight, 2)) as tf.Tensor2D;
      const grads: tf.Tensor1D[] = new Array(2 * params.length);
      for (let l = params.length - 1; l >= 0; l--) {
        grads[2 * l] = tf.reshape(tf.matMul(tf.transpose(inputs[l]), d), [-1]);
        grads[2 * l + 1] = tf.sum(d, 0);
        if (l > 0) d = tf.mul(tf.matMul(d, tf.transpose(params[l].w)), slopes[l - 1]);
      }
      return { output, grad: tf.concat(grads) as tf.Tensor1D };
    });
  }

  /** The network at points x [n, 1, 1, 2] (a tensor) and one time τ for all → [n, 1, 1, 2]. */
  applyAt(x: tf.Tensor4D, tau: number, theta: tf.Tensor1D = this.theta): tf.Tensor4D {
    const n = x.shape[0];
    const emb = new Float32Array(n * (MLP_INPUT_FEATURES - 2));
    const row = new Float32Array(MLP_INPUT_FEATURES);
    writeFeatures(row, 0, 0, 0, tau);
    for (let i = 0; i < n; i++) emb.set(row.subarray(2), i * (MLP_INPUT_FEATURES - 2));
    return tf.tidy(() => {
      const features = tf.concat([tf.reshape(x, [n, 2]), tf.tensor2d(emb, [n, MLP_INPUT_FEATURES - 2])], 1) as tf.Tensor2D;
      return tf.reshape(this.apply(features, theta), [n, 1, 1, 2]) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.theta.dispose();
  }
}
