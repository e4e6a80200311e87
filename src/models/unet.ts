/**
 * Pixel-space U-Net for 28x28 diffusion in the manner of Ho et al. 2020 (DDPM), written as plain
 * functions over named variables: no tf.layers, so it runs on webgpu, webgl, wasm and cpu alike
 * and its weights save as a flat map of named tensors.
 *
 * Layout (for channelMult [1,2,2]: 28 → 14 → 7; only even sides are halved):
 *   t → sinusoidal(timeEmbedDim) → dense → SiLU → dense  = temb (4 × baseChannels)
 *   x → in.conv 3x3
 *   down.l: numResBlocks res blocks, then (not at the last level) a stride-2 3x3 conv
 *   mid: res, res                         (a later issue adds self-attention between them)
 *   up.l: numResBlocks + 1 res blocks, each on concat(h, skip), then nearest ×2 + 3x3 conv
 *   out: GroupNorm → SiLU → conv3x3 → imageChannels
 * Residual block: GN → SiLU → conv3x3, + dense(SiLU(temb)) per channel, GN → SiLU → conv3x3
 * (zero-initialised), + x (through a 1x1 conv where the channel count changes).
 *
 * Init: Glorot-uniform (Ho et al.'s variance_scaling fan_avg) for every conv and dense kernel;
 * zeros for biases, for the last conv of every residual block and for the output conv (so a new
 * model outputs exactly 0 and every residual block starts as the identity); GroupNorm γ=1, β=0.
 * Weight names and shapes come from `unetLayout` (config.ts), which `unetStats` also counts.
 */
import * as tf from '@tensorflow/tfjs';
import { unetLayout, unetLevelChannels, type UNetConfig } from './config';
import { conv2d, dense, groupNorm, initWeightValues, silu, timestepEmbedding, upsampleNearest2x } from './layers';

export interface UNet {
  config: UNetConfig;
  /** Every trainable weight by dotted name, e.g. 'down.0.res.0.conv1.w'; shapes never change. */
  weights: Map<string, tf.Variable>;
  /** Predicts from x [b,28,28,1] at float32 timesteps t [b]; returns a tensor of x's shape. Leaves no intermediates. */
  apply(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D;
  dispose(): void;
}

/** What every residual block receives besides its input (a later issue adds dropout and class conditioning to temb). */
interface BlockContext {
  /** SiLU(temb) [b, timeMlpDim], shared by the per-block projections. */
  tembAct: tf.Tensor2D;
  groups: number;
}

type WeightGetter = (name: string) => tf.Variable;

function resBlock(w: WeightGetter, name: string, x: tf.Tensor4D, ctx: BlockContext): tf.Tensor4D {
  const co = w(`${name}.conv1.b`).shape[0];
  let h = silu(groupNorm(x, w(`${name}.norm1.gamma`), w(`${name}.norm1.beta`), ctx.groups));
  h = conv2d(h, w(`${name}.conv1.w`), w(`${name}.conv1.b`));
  const proj = dense(ctx.tembAct, w(`${name}.temb.w`), w(`${name}.temb.b`));
  h = tf.add(h, tf.reshape(proj, [-1, 1, 1, co]));
  h = silu(groupNorm(h, w(`${name}.norm2.gamma`), w(`${name}.norm2.beta`), ctx.groups));
  // Dropout goes here (Ho et al. put it between the second SiLU and conv2).
  h = conv2d(h, w(`${name}.conv2.w`), w(`${name}.conv2.b`));
  const skip = x.shape[3] === co ? x : conv2d(x, w(`${name}.skip.w`), w(`${name}.skip.b`));
  return tf.add(skip, h);
}

function forward(config: UNetConfig, w: WeightGetter, x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D {
  const levels = unetLevelChannels(config).length;
  const temb0 = timestepEmbedding(t, config.timeEmbedDim);
  const temb = dense(silu(dense(temb0, w('time.dense0.w'), w('time.dense0.b'))), w('time.dense1.w'), w('time.dense1.b'));
  // Class conditioning would add a (one-hot × matrix) class embedding to temb here.
  const ctx: BlockContext = { tembAct: silu(temb), groups: config.groups };

  let h = conv2d(x, w('in.conv.w'), w('in.conv.b'));
  const skips: tf.Tensor4D[] = [h];
  for (let l = 0; l < levels; l++) {
    for (let i = 0; i < config.numResBlocks; i++) {
      h = resBlock(w, `down.${l}.res.${i}`, h, ctx);
      // Self-attention at 7x7 would follow the block here.
      skips.push(h);
    }
    if (l < levels - 1) {
      h = conv2d(h, w(`down.${l}.downsample.conv.w`), w(`down.${l}.downsample.conv.b`), 2);
      skips.push(h);
    }
  }
  h = resBlock(w, 'mid.res.0', h, ctx);
  h = resBlock(w, 'mid.res.1', h, ctx);
  for (let l = levels - 1; l >= 0; l--) {
    for (let i = 0; i <= config.numResBlocks; i++) {
      const skip = skips.pop() as tf.Tensor4D;
      h = resBlock(w, `up.${l}.res.${i}`, tf.concat([h, skip], 3), ctx);
    }
    if (l > 0) {
      h = conv2d(upsampleNearest2x(h), w(`up.${l}.upsample.conv.w`), w(`up.${l}.upsample.conv.b`));
    }
  }
  h = silu(groupNorm(h, w('out.norm.gamma'), w('out.norm.beta'), config.groups));
  return conv2d(h, w('out.conv.w'), w('out.conv.b'));
}

/** Creates a U-Net with weights drawn from `seed` (the same seed gives the same weights). */
export function createUNet(config: UNetConfig, seed: number): UNet {
  const weights = new Map<string, tf.Variable>();
  for (const spec of unetLayout(config).weights) {
    const init = tf.tensor(initWeightValues(spec, seed), spec.shape, 'float32');
    weights.set(spec.name, tf.variable(init, true, undefined, 'float32'));
    init.dispose();
  }
  const get: WeightGetter = (name) => {
    const v = weights.get(name);
    if (v == null) throw new Error(`unet: no weight '${name}'.`);
    return v;
  };
  const { imageSize, imageChannels } = config;
  return {
    config,
    weights,
    apply(x, t) {
      const [b, hh, ww, c] = x.shape;
      if (hh !== imageSize || ww !== imageSize || c !== imageChannels) {
        throw new Error(`unet: expected x [b,${imageSize},${imageSize},${imageChannels}], got [${x.shape}].`);
      }
      if (t.shape[0] !== b) throw new Error(`unet: t has ${t.shape[0]} timesteps for a batch of ${b}.`);
      return tf.tidy(() => forward(config, get, x, t));
    },
    dispose() {
      for (const v of weights.values()) v.dispose();
      weights.clear();
    },
  };
}
