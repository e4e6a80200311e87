/**
 * Autoencoder (stage 1 of latent diffusion, Rombach et al. 2022) configuration and presets. Pure
 * data: no TensorFlow.js, so the UI can show parameter counts and FLOPs.
 *
 * {@link autoencoderLayout} walks the architecture once and lists every weight (name, shape, init)
 * and the cost of every layer; `createAutoencoder` (autoencoder.ts) creates its variables from the
 * same list, so {@link autoencoderStats} counts exactly the parameters the model has.
 *
 * Architecture, for channels [c0, c1] (28 → 14 → 7, latent 7x7xC):
 *   encoder  enc.in.conv 3x3 (1 → c0) @28
 *            enc.down.0.res.i  residual blocks c0 @28;  enc.down.0.downsample.conv 3x3 stride 2 (c0 → c1) @14
 *            enc.down.1.res.i  residual blocks c1 @14;  enc.down.1.downsample.conv 3x3 stride 2 (c1 → c1) @7
 *            enc.mid.res.0     residual block c1 @7
 *            enc.out: GroupNorm → SiLU → conv3x3 (c1 → 2C: mean | logvar; → C when klWeight = 0)
 *   decoder  dec.in.conv 3x3 (C → c1) @7
 *            dec.mid.res.0     residual block c1 @7
 *            dec.up.1.upsample.conv: nearest ×2, conv3x3 (c1 → c1) @14;  dec.up.1.res.i  c1 @14
 *            dec.up.0.upsample.conv: nearest ×2, conv3x3 (c1 → c0) @28;  dec.up.0.res.i  c0 @28
 *            dec.out: GroupNorm → SiLU → conv3x3 (c0 → 1, zero-initialised: a new model outputs 0), no output nonlinearity
 * With `attention`: a self-attention block (./attention.ts's AttnBlock, one head) after each middle
 * residual block at 7x7, enc.mid.attn and dec.mid.attn, as Stable Diffusion's autoencoder has in its
 * middle (Rombach et al. 2022; the article's §7.1, "attention in the encoder").
 * Channel counts change only in the down/upsampling convs, so no residual block needs a 1x1 skip.
 * Residual block: GN → SiLU → conv3x3 → GN → SiLU → conv3x3 (zero-initialised) + x.
 * Every level downsamples by 2, so the latent side is imageSize / 2^levels (7 for two levels).
 */

export const AUTOENCODER_PRESETS = ['ae-tiny', 'ae-small'] as const;
export type AutoencoderPreset = (typeof AUTOENCODER_PRESETS)[number];

export interface AutoencoderConfig {
  preset: AutoencoderPreset;
  /** Image side and channels: MNIST only (28, 1). */
  imageSize: 28;
  imageChannels: 1;
  /** Channels of the latent z [b, 7, 7, latentChannels]; 2..8. */
  latentChannels: number;
  /** Channels at 28x28 and 14x14 (each level halves the side; the 7x7 latent level keeps the last). */
  channels: number[];
  /** Residual blocks per level (the 7x7 middle always has one); 1 or 2. */
  numResBlocks: number;
  /** GroupNorm groups; must divide every entry of `channels`. */
  groups: number;
  /**
   * Weight of KL(q(z|x) || N(0, I)) (mean per latent element) against the reconstruction MSE
   * (mean per pixel). 0: a plain deterministic autoencoder (the encoder outputs no logvar);
   * > 0 (e.g. 1e-6..1e-4): a VAE with a gently regularised latent.
   */
  klWeight: number;
  /** Self-attention in the 7x7 middle of the encoder and the decoder; absent = false (files saved before it). */
  attention?: boolean;
}

export const AUTOENCODER_CONFIGS: Record<AutoencoderPreset, AutoencoderConfig> = {
  /** For browser and unit tests: a few thousand parameters. */
  'ae-tiny': { preset: 'ae-tiny', imageSize: 28, imageChannels: 1, latentChannels: 4, channels: [8, 16], numResBlocks: 1, groups: 4, klWeight: 1e-5 },
  /** For real use (the latent diffusion UI). */
  'ae-small': { preset: 'ae-small', imageSize: 28, imageChannels: 1, latentChannels: 4, channels: [16, 32], numResBlocks: 1, groups: 8, klWeight: 1e-5 },
};

/** How a weight starts: Glorot-uniform, all zeros or all ones (same meaning as the U-Net's). */
export type AutoencoderInit = 'glorot' | 'zeros' | 'ones';

export interface AutoencoderWeightSpec {
  /** Dotted name, 'enc.…' or 'dec.…', e.g. 'enc.down.0.res.0.conv1.w'. */
  name: string;
  /** conv [kh,kw,ci,co], bias / norm [c]. */
  shape: number[];
  init: AutoencoderInit;
}

export interface AutoencoderLayout {
  weights: AutoencoderWeightSpec[];
  /** Approximate FLOPs of one forward pass for one image (convs 2·MAC + bias, GroupNorm 8, SiLU 4, residual add 1 per element). */
  encoderFlops: number;
  decoderFlops: number;
  /** Side of the latent (7 for two levels). */
  latentSize: number;
  /** Float elements one image's encode and decode produce (layer outputs, as the U-Net's layout counts them). */
  activationsPerImage: number;
}

const NORM_FLOPS = 8;
const SILU_FLOPS = 4;
/** Softmax: exp, sum, divide and the max subtracted, about 5 per score. */
const ATTENTION_SOFTMAX_FLOPS = 5;

/** Checks the config; throws an Error that names the field and the allowed values. */
export function validateAutoencoderConfig(config: AutoencoderConfig): void {
  const { imageSize, imageChannels, latentChannels, channels, numResBlocks, groups, klWeight } = config;
  if (imageSize !== 28 || imageChannels !== 1) {
    throw new Error(`autoencoder: only 28x28x1 images are supported, got ${imageSize}x${imageSize}x${imageChannels}.`);
  }
  if (!Number.isInteger(latentChannels) || latentChannels < 2 || latentChannels > 8) {
    throw new Error(`autoencoder: latentChannels must be an integer in 2..8, got ${latentChannels}.`);
  }
  if (!Array.isArray(channels) || channels.length !== 2) {
    throw new Error(`autoencoder: channels must list 2 levels (28x28 and 14x14, for a 7x7 latent), got [${channels}].`);
  }
  for (const c of channels) {
    if (!Number.isInteger(c) || c < 1 || c > 256) {
      throw new Error(`autoencoder: every channel count must be an integer in 1..256, got [${channels}].`);
    }
  }
  if (!Number.isInteger(numResBlocks) || numResBlocks < 1 || numResBlocks > 2) {
    throw new Error(`autoencoder: numResBlocks must be 1 or 2, got ${numResBlocks}.`);
  }
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`autoencoder: groups must be a positive integer, got ${groups}.`);
  }
  for (const c of channels) {
    if (c % groups !== 0) throw new Error(`autoencoder: ${groups} groups do not divide ${c} channels.`);
  }
  if (!Number.isFinite(klWeight) || klWeight < 0 || klWeight > 1) {
    throw new Error(`autoencoder: klWeight must be in [0, 1] (0 = plain autoencoder), got ${klWeight}.`);
  }
  if (config.attention !== undefined && typeof config.attention !== 'boolean') {
    throw new Error(`autoencoder: attention must be true or false, got ${String(config.attention)}.`);
  }
}

/** True when the encoder outputs a logvar (a VAE), i.e. klWeight > 0. */
export function autoencoderIsVariational(config: AutoencoderConfig): boolean {
  return config.klWeight > 0;
}

/** Walks the autoencoder exactly as encode/decode do and lists its weights and per-image FLOPs. */
export function autoencoderLayout(config: AutoencoderConfig): AutoencoderLayout {
  validateAutoencoderConfig(config);
  const { channels: chs, numResBlocks, latentChannels } = config;
  const levels = chs.length;
  const weights: AutoencoderWeightSpec[] = [];
  let flops = 0;
  let acts = 0;
  let size: number = config.imageSize;

  const conv = (name: string, k: number, ci: number, co: number, init: AutoencoderInit = 'glorot') => {
    weights.push({ name: `${name}.w`, shape: [k, k, ci, co], init }, { name: `${name}.b`, shape: [co], init: 'zeros' });
    flops += size * size * co * (2 * k * k * ci + 1);
    acts += size * size * co;
  };
  const normSilu = (name: string, c: number) => {
    weights.push({ name: `${name}.gamma`, shape: [c], init: 'ones' }, { name: `${name}.beta`, shape: [c], init: 'zeros' });
    flops += (NORM_FLOPS + SILU_FLOPS) * size * size * c;
    acts += 5 * size * size * c; // GroupNorm's centred, normalized and affine outputs; SiLU's sigmoid and product
  };
  const resBlock = (name: string, c: number) => {
    normSilu(`${name}.norm1`, c);
    conv(`${name}.conv1`, 3, c, c);
    normSilu(`${name}.norm2`, c);
    conv(`${name}.conv2`, 3, c, c, 'zeros');
    flops += size * size * c; // residual add
    acts += size * size * c;
  };
  const next = (l: number) => chs[Math.min(l + 1, levels - 1)];
  // Self-attention (one head) at side `size`, as ./unet-config.ts counts it: GroupNorm, the q, k, v
  // and out projections (out zero-initialised: a new block is the identity), QKᵀ and AV, softmax.
  const attention = (name: string, c: number) => {
    const hw = size * size;
    weights.push({ name: `${name}.norm.gamma`, shape: [c], init: 'ones' }, { name: `${name}.norm.beta`, shape: [c], init: 'zeros' });
    for (const p of ['q', 'k', 'v', 'out']) weights.push({ name: `${name}.${p}.w`, shape: [c, c], init: p === 'out' ? 'zeros' : 'glorot' }, { name: `${name}.${p}.b`, shape: [c], init: 'zeros' });
    flops += NORM_FLOPS * hw * c + 4 * hw * c * (2 * c + 1) + 2 * (2 * hw * hw * c) + ATTENTION_SOFTMAX_FLOPS * hw * hw + hw * c;
    acts += 3 * hw * c + 4 * hw * c + 2 * hw * hw + 2 * hw * c;
  };

  // Encoder.
  conv('enc.in.conv', 3, config.imageChannels, chs[0]);
  for (let l = 0; l < levels; l++) {
    for (let i = 0; i < numResBlocks; i++) resBlock(`enc.down.${l}.res.${i}`, chs[l]);
    size /= 2; // the stride-2 conv's output side
    conv(`enc.down.${l}.downsample.conv`, 3, chs[l], next(l));
  }
  const top = chs[levels - 1];
  resBlock('enc.mid.res.0', top);
  if (config.attention) attention('enc.mid.attn', top);
  normSilu('enc.out.norm', top);
  conv('enc.out.conv', 3, top, autoencoderIsVariational(config) ? 2 * latentChannels : latentChannels);
  const encoderFlops = flops;
  const latentSize = size;

  // Decoder.
  flops = 0;
  conv('dec.in.conv', 3, latentChannels, top);
  resBlock('dec.mid.res.0', top);
  if (config.attention) attention('dec.mid.attn', top);
  for (let l = levels - 1; l >= 0; l--) {
    size *= 2;
    conv(`dec.up.${l}.upsample.conv`, 3, next(l), chs[l]);
    for (let i = 0; i < numResBlocks; i++) resBlock(`dec.up.${l}.res.${i}`, chs[l]);
  }
  normSilu('dec.out.norm', chs[0]);
  conv('dec.out.conv', 3, chs[0], config.imageChannels, 'zeros');
  // Upsampling (nearest ×2) before each decoder level's conv: counted at the conv's side.
  acts += chs.reduce((n, _c, l) => n + (config.imageSize / 2 ** l) ** 2 * next(l), 0);
  return { weights, encoderFlops, decoderFlops: flops, latentSize, activationsPerImage: acts };
}

/** Parameter count (exact) and approximate FLOPs of one image's encode and decode. Throws on a bad config. */
export function autoencoderStats(config: AutoencoderConfig): { paramCount: number; encoderFlops: number; decoderFlops: number } {
  const { weights, encoderFlops, decoderFlops } = autoencoderLayout(config);
  const paramCount = weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return { paramCount, encoderFlops, decoderFlops };
}

/** Side of the latent for this config (7 for MNIST with two levels). */
export function autoencoderLatentSize(config: AutoencoderConfig): number {
  return autoencoderLayout(config).latentSize;
}
