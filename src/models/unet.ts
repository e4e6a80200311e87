/**
 * U-Net denoiser for diffusion in the manner of Ho et al. 2020 (DDPM), for 28x28 pixels and for
 * 7x7xC latents alike, written as plain functions over named variables: no tf.layers, so it runs on
 * webgpu, webgl, wasm and cpu and its weights save as a flat map of named tensors.
 *
 * Layout (channelMult [1,2,2] on 28: 28 → 14 → 7; [1,2] on 7: 7 → 4):
 *   t → sinusoidal(timeEmbedDim) → dense → SiLU → dense  (+ class embedding)  = temb (4 × baseChannels)
 *   x → in.conv 3x3
 *   down.l: numResBlocks res blocks (each followed by self-attention at the deepest level if
 *           `attention`), then (not at the last level) a stride-2 3x3 'same' conv: side → ceil(side/2)
 *   mid: res, attention (if `attention`), res
 *   up.l: numResBlocks + 1 res blocks, each on concat(h, skip) (+ attention at the deepest level),
 *         then nearest ×2, cropped to the next skip's side (8 → 7), + 3x3 conv
 *   out: GroupNorm → SiLU → conv3x3 → imageChannels
 * Residual block: GN → SiLU → conv3x3, + dense(SiLU(temb)) per channel, GN → SiLU → dropout
 * (training only) → conv3x3 (zero-initialised), + x (through a 1x1 conv where the channel count changes).
 * Class conditioning (numClasses > 0): temb += one-hot(label, numClasses + 1) × class.embed, added
 * after the timestep MLP (as in Dhariwal & Nichol's guided diffusion); label numClasses is the null
 * label for classifier-free guidance, and omitted labels mean all null.
 *
 * Init: Glorot-uniform (Ho et al.'s variance_scaling fan_avg) for every conv and dense kernel and
 * the class embedding; zeros for biases, for the last conv of every residual block, for attention's
 * output projection and for the output conv (so a new model outputs exactly 0 and every residual and
 * attention block starts as the identity); GroupNorm γ=1, β=0.
 * Weight names and shapes come from `unetLayout` (config.ts), which `unetStats` also counts.
 */
import * as tf from '@tensorflow/tfjs';
import { nullLabel, unetLayout, unetLevelChannels, unetLevelSizes, type UNetConfig } from './setup/unet-config';
import { selfAttention } from './attention';
import { concatChannels } from '../kernels/fast-concat';
import {
  classEmbedding,
  conv2d,
  cropSpatial,
  dense,
  groupNormSilu,
  initWeightValues,
  silu,
  timestepEmbedding,
  upsampleNearest2x,
} from './layers';

export interface UNetApplyOptions {
  /**
   * Class labels [b] (int32, or float32 holding integers) in 0..numClasses, where numClasses is the
   * null label ({@link nullLabel}); omitted = all null. Only for a model with numClasses > 0.
   */
  labels?: tf.Tensor1D;
  /** Training mode: dropout (config.dropout > 0) is applied only when true. Default false. */
  training?: boolean;
  /**
   * Seed of the dropout masks (training only): the same seed gives the same masks. Omitted, each
   * training call takes the next seed of a stream derived from the model's seed, so a run that makes
   * the same calls is still reproducible.
   */
  seed?: number;
}

export interface UNet {
  config: UNetConfig;
  /** Every trainable weight by dotted name, e.g. 'down.0.res.0.conv1.w'; shapes never change. */
  weights: Map<string, tf.Variable>;
  /**
   * Predicts from x [b, imageSize, imageSize, imageChannels] at float32 timesteps t [b]; returns a
   * tensor of x's shape. Leaves no intermediates.
   */
  apply(x: tf.Tensor4D, t: tf.Tensor1D, options?: UNetApplyOptions): tf.Tensor4D;
  dispose(): void;
}

/** What every residual block receives besides its input. */
interface BlockContext {
  /** SiLU(temb) [b, timeMlpDim], shared by the per-block projections. */
  tembAct: tf.Tensor2D;
  groups: number;
  /** Dropout rate, 0 outside training. */
  dropout: number;
  /** Seed of this call's dropout masks; each block mixes in its name. */
  dropoutSeed: number;
}

type WeightGetter = (name: string) => tf.Variable;

function resBlock(w: WeightGetter, name: string, x: tf.Tensor4D, ctx: BlockContext): tf.Tensor4D {
  const co = w(`${name}.conv1.b`).shape[0];
  let h = groupNormSilu(x, w(`${name}.norm1.gamma`), w(`${name}.norm1.beta`), ctx.groups);
  h = conv2d(h, w(`${name}.conv1.w`), w(`${name}.conv1.b`));
  const proj = dense(ctx.tembAct, w(`${name}.temb.w`), w(`${name}.temb.b`));
  h = tf.add(h, tf.reshape(proj, [-1, 1, 1, co]));
  h = groupNormSilu(h, w(`${name}.norm2.gamma`), w(`${name}.norm2.beta`), ctx.groups);
  if (ctx.dropout > 0) h = tf.dropout(h, ctx.dropout, undefined, `${ctx.dropoutSeed}/${name}`) as tf.Tensor4D;
  h = conv2d(h, w(`${name}.conv2.w`), w(`${name}.conv2.b`));
  const skip = x.shape[3] === co ? x : conv2d(x, w(`${name}.skip.w`), w(`${name}.skip.b`));
  return tf.add(skip, h);
}

function attnBlock(w: WeightGetter, name: string, x: tf.Tensor4D, config: UNetConfig): tf.Tensor4D {
  const proj = (p: string) => ({ w: w(`${name}.${p}.w`), b: w(`${name}.${p}.b`) });
  return selfAttention(
    x,
    { normGamma: w(`${name}.norm.gamma`), normBeta: w(`${name}.norm.beta`), q: proj('q'), k: proj('k'), v: proj('v'), out: proj('out') },
    config.groups,
    config.attentionHeads ?? 1,
  );
}

interface ForwardArgs {
  labels?: tf.Tensor1D;
  dropout: number;
  dropoutSeed: number;
}

function forward(config: UNetConfig, w: WeightGetter, x: tf.Tensor4D, t: tf.Tensor1D, args: ForwardArgs): tf.Tensor4D {
  const levels = unetLevelChannels(config).length;
  const sizes = unetLevelSizes(config);
  const attention = config.attention === true;
  const temb0 = timestepEmbedding(t, config.timeEmbedDim);
  let temb = dense(silu(dense(temb0, w('time.dense0.w'), w('time.dense0.b'))), w('time.dense1.w'), w('time.dense1.b'));
  if ((config.numClasses ?? 0) > 0) {
    const labels = args.labels ?? tf.fill([x.shape[0]], nullLabel(config), 'int32');
    temb = tf.add(temb, classEmbedding(labels, w('class.embed')));
  }
  const ctx: BlockContext = { tembAct: silu(temb), groups: config.groups, dropout: args.dropout, dropoutSeed: args.dropoutSeed };

  let h = conv2d(x, w('in.conv.w'), w('in.conv.b'));
  const skips: tf.Tensor4D[] = [h];
  for (let l = 0; l < levels; l++) {
    for (let i = 0; i < config.numResBlocks; i++) {
      h = resBlock(w, `down.${l}.res.${i}`, h, ctx);
      if (attention && l === levels - 1) h = attnBlock(w, `down.${l}.attn.${i}`, h, config);
      skips.push(h);
    }
    if (l < levels - 1) {
      h = conv2d(h, w(`down.${l}.downsample.conv.w`), w(`down.${l}.downsample.conv.b`), 2);
      skips.push(h);
    }
  }
  h = resBlock(w, 'mid.res.0', h, ctx);
  if (attention) h = attnBlock(w, 'mid.attn', h, config);
  h = resBlock(w, 'mid.res.1', h, ctx);
  for (let l = levels - 1; l >= 0; l--) {
    for (let i = 0; i <= config.numResBlocks; i++) {
      const skip = skips.pop() as tf.Tensor4D;
      h = resBlock(w, `up.${l}.res.${i}`, concatChannels(h, skip), ctx);
      if (attention && l === levels - 1) h = attnBlock(w, `up.${l}.attn.${i}`, h, config);
    }
    if (l > 0) {
      const up = cropSpatial(upsampleNearest2x(h), sizes[l - 1], sizes[l - 1]);
      h = conv2d(up, w(`up.${l}.upsample.conv.w`), w(`up.${l}.upsample.conv.b`));
    }
  }
  h = groupNormSilu(h, w('out.norm.gamma'), w('out.norm.beta'), config.groups);
  return conv2d(h, w('out.conv.w'), w('out.conv.b'));
}

/** Seed of the n-th training call's dropout masks for a model created with `seed`. */
function dropoutStreamSeed(seed: number, n: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca6b)) >>> 0;
}

/** Creates a U-Net with weights drawn from `seed` (the same seed gives the same weights). Throws on an invalid config. */
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
  const numClasses = config.numClasses ?? 0;
  const dropout = config.dropout ?? 0;
  let trainingCalls = 0;
  return {
    config,
    weights,
    apply(x, t, options = {}) {
      const [b, hh, ww, c] = x.shape;
      if (hh !== imageSize || ww !== imageSize || c !== imageChannels) {
        throw new Error(`unet: expected x [b,${imageSize},${imageSize},${imageChannels}], got [${x.shape}].`);
      }
      if (t.rank !== 1 || t.shape[0] !== b) throw new Error(`unet: t has shape [${t.shape}] for a batch of ${b}; expected [${b}].`);
      const { labels, training = false } = options;
      if (labels != null) {
        if (numClasses === 0) throw new Error('unet: labels given to an unconditional model (numClasses 0).');
        if (labels.rank !== 1 || labels.shape[0] !== b) {
          throw new Error(`unet: labels have shape [${labels.shape}] for a batch of ${b}; expected [${b}].`);
        }
        if (labels.dtype !== 'int32' && labels.dtype !== 'float32') throw new Error(`unet: labels must be int32 or float32, got ${labels.dtype}.`);
      }
      const useDropout = training && dropout > 0;
      const dropoutSeed = useDropout ? (options.seed ?? dropoutStreamSeed(seed, trainingCalls++)) : 0;
      return tf.tidy(() => forward(config, get, x, t, { labels, dropout: useDropout ? dropout : 0, dropoutSeed }));
    },
    dispose() {
      for (const v of weights.values()) v.dispose();
      weights.clear();
    },
  };
}

export { nullLabel };
