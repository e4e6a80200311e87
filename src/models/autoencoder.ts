/**
 * The first stage of latent diffusion (Rombach et al. 2022): a small convolutional (variational)
 * autoencoder mapping 28x28x1 images in [-1, 1] to 7x7xC latents and back, written like the pixel
 * U-Net (unet.ts): plain functions over named variables, seeded init, every call inside tf.tidy.
 * The architecture and weight names are listed in autoencoder-config.ts (`autoencoderLayout`).
 *
 * Output: the decoder ends in a plain conv, no tanh: the MSE loss then has no saturating gradient
 * near ±1 (MNIST is mostly exactly -1), and LDM's decoder has none either. Reconstructions are
 * therefore only approximately in [-1, 1]; clip them for display.
 * logvar is clamped to [-30, 20] as in LDM's DiagonalGaussianDistribution.
 */
import * as tf from '@tensorflow/tfjs';
import { autoencoderIsVariational, autoencoderLayout, type AutoencoderConfig } from './setup/autoencoder-config';
import { selfAttention, type AttentionWeights } from './attention';
import { conv2d, groupNormSilu, initWeightValues, upsampleNearest2x } from './layers';

export interface EncodeResult {
  /** Posterior mean [b, 7, 7, C]. */
  mean: tf.Tensor4D;
  /** Posterior log-variance [b, 7, 7, C], clamped to [-30, 20]; null for a plain autoencoder (klWeight = 0). */
  logvar: tf.Tensor4D | null;
}

export interface Autoencoder {
  config: AutoencoderConfig;
  /** Every trainable weight by dotted name ('enc.…', 'dec.…'); shapes never change. */
  weights: Map<string, tf.Variable>;
  /** Side of the latent (7). */
  latentSize: number;
  /** x [b,28,28,1] in [-1,1] → q(z|x). The caller owns (and disposes) the returned tensors; nothing else is left. */
  encode(x: tf.Tensor4D): EncodeResult;
  /** z = mean + exp(logvar / 2) · noise (noise ~ N(0, I), shape of mean); a copy of mean when logvar is null. */
  sample(mean: tf.Tensor4D, logvar: tf.Tensor4D | null, noise: tf.Tensor4D | null): tf.Tensor4D;
  /** z [b,7,7,C] → x̂ [b,28,28,1], roughly in [-1,1] (no output nonlinearity). */
  decode(z: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

export const LOGVAR_MIN = -30;
export const LOGVAR_MAX = 20;

type WeightGetter = (name: string) => tf.Variable;

/**
 * Nearest-neighbour ×2 upsampling [b,h,w,c] → [b,2h,2w,c] as two rank-3 concats + reshapes: layers.ts's
 * plain `upsampleNearest2x` (the decoder uses layers.ts's, which is the fused op unless fast ops are
 * off). Kept as an export for callers and tests; same values and gradient.
 */
export function upsampleNearest2xConcat(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const px = tf.reshape(x, [b * h * w, 1, c]);
  const cols = tf.reshape(tf.concat([px, px], 1), [b * h, 1, 2 * w * c]); // each pixel twice
  return tf.reshape(tf.concat([cols, cols], 1), [b, 2 * h, 2 * w, c]); // each row twice
}

function resBlock(w: WeightGetter, name: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
  let h = groupNormSilu(x, w(`${name}.norm1.gamma`), w(`${name}.norm1.beta`), groups);
  h = conv2d(h, w(`${name}.conv1.w`), w(`${name}.conv1.b`));
  h = groupNormSilu(h, w(`${name}.norm2.gamma`), w(`${name}.norm2.beta`), groups);
  h = conv2d(h, w(`${name}.conv2.w`), w(`${name}.conv2.b`));
  return tf.add(x, h);
}

/** The self-attention block's weights under `name` (enc.mid.attn, dec.mid.attn). */
function attentionWeights(w: WeightGetter, name: string): AttentionWeights {
  const proj = (p: string) => ({ w: w(`${name}.${p}.w`), b: w(`${name}.${p}.b`) });
  return { normGamma: w(`${name}.norm.gamma`), normBeta: w(`${name}.norm.beta`), q: proj('q'), k: proj('k'), v: proj('v'), out: proj('out') };
}

function encoder(config: AutoencoderConfig, w: WeightGetter, x: tf.Tensor4D): tf.Tensor4D {
  const { groups, numResBlocks } = config;
  let h = conv2d(x, w('enc.in.conv.w'), w('enc.in.conv.b'));
  for (let l = 0; l < config.channels.length; l++) {
    for (let i = 0; i < numResBlocks; i++) h = resBlock(w, `enc.down.${l}.res.${i}`, h, groups);
    h = conv2d(h, w(`enc.down.${l}.downsample.conv.w`), w(`enc.down.${l}.downsample.conv.b`), 2);
  }
  h = resBlock(w, 'enc.mid.res.0', h, groups);
  if (config.attention) h = selfAttention(h, attentionWeights(w, 'enc.mid.attn'), groups);
  h = groupNormSilu(h, w('enc.out.norm.gamma'), w('enc.out.norm.beta'), groups);
  return conv2d(h, w('enc.out.conv.w'), w('enc.out.conv.b'));
}

function decoder(config: AutoencoderConfig, w: WeightGetter, z: tf.Tensor4D): tf.Tensor4D {
  const { groups, numResBlocks } = config;
  let h = conv2d(z, w('dec.in.conv.w'), w('dec.in.conv.b'));
  h = resBlock(w, 'dec.mid.res.0', h, groups);
  if (config.attention) h = selfAttention(h, attentionWeights(w, 'dec.mid.attn'), groups);
  for (let l = config.channels.length - 1; l >= 0; l--) {
    h = conv2d(upsampleNearest2x(h), w(`dec.up.${l}.upsample.conv.w`), w(`dec.up.${l}.upsample.conv.b`));
    for (let i = 0; i < numResBlocks; i++) h = resBlock(w, `dec.up.${l}.res.${i}`, h, groups);
  }
  h = groupNormSilu(h, w('dec.out.norm.gamma'), w('dec.out.norm.beta'), groups);
  return conv2d(h, w('dec.out.conv.w'), w('dec.out.conv.b'));
}

/** Creates an autoencoder with weights drawn from `seed` (same seed, same weights). Throws on a bad config. */
export function createAutoencoder(config: AutoencoderConfig, seed: number): Autoencoder {
  const layout = autoencoderLayout(config);
  const weights = new Map<string, tf.Variable>();
  for (const spec of layout.weights) {
    const init = tf.tensor(initWeightValues(spec, seed), spec.shape, 'float32');
    weights.set(spec.name, tf.variable(init, true, undefined, 'float32'));
    init.dispose();
  }
  const get: WeightGetter = (name) => {
    const v = weights.get(name);
    if (v == null) throw new Error(`autoencoder: no weight '${name}'.`);
    return v;
  };
  const { imageSize, imageChannels, latentChannels } = config;
  const { latentSize } = layout;
  const variational = autoencoderIsVariational(config);
  const checkLatent = (what: string, z: tf.Tensor) => {
    const [, h, w, c] = z.shape;
    if (z.rank !== 4 || h !== latentSize || w !== latentSize || c !== latentChannels) {
      throw new Error(`autoencoder: expected ${what} [b,${latentSize},${latentSize},${latentChannels}], got [${z.shape}].`);
    }
  };
  return {
    config,
    weights,
    latentSize,
    encode(x) {
      const [, hh, ww, c] = x.shape;
      if (x.rank !== 4 || hh !== imageSize || ww !== imageSize || c !== imageChannels) {
        throw new Error(`autoencoder: expected x [b,${imageSize},${imageSize},${imageChannels}], got [${x.shape}].`);
      }
      const out = tf.tidy(() => {
        const moments = encoder(config, get, x);
        if (!variational) return [moments];
        const [mean, logvar] = tf.split(moments, 2, 3);
        return [mean, tf.clipByValue(logvar, LOGVAR_MIN, LOGVAR_MAX)];
      }) as tf.Tensor4D[];
      return { mean: out[0], logvar: out[1] ?? null };
    },
    sample(mean, logvar, noise) {
      checkLatent('mean', mean);
      if (logvar == null) return tf.clone(mean);
      if (noise == null) throw new Error('autoencoder: sample needs noise when logvar is given.');
      checkLatent('logvar', logvar);
      if (noise.shape.join() !== mean.shape.join()) {
        throw new Error(`autoencoder: noise [${noise.shape}] must have the mean's shape [${mean.shape}].`);
      }
      return tf.tidy(() => tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), noise)));
    },
    decode(z) {
      checkLatent('z', z);
      return tf.tidy(() => decoder(config, get, z));
    },
    dispose() {
      for (const v of weights.values()) v.dispose();
      weights.clear();
    },
  };
}
