/**
 * U-Net configuration and presets: pixel (28x28x1) and latent (7x7xC) denoisers. Pure data: the
 * UI reads it to show parameter counts and FLOPs without importing TensorFlow.js.
 *
 * {@link unetLayout} walks the architecture once and lists every weight (name, shape, init) and the
 * cost of every layer; `createUNet` (unet.ts) creates its variables from the same list, so
 * {@link unetStats} counts exactly the parameters the model has.
 */

export const UNET_PRESETS = ['tiny', 'mini', 'small', 'base'] as const;
export type UNetPreset = (typeof UNET_PRESETS)[number];

/** Denoisers for the latent diffusion model (7x7xC latents); listed apart from the pixel presets the UI shows. */
export const LATENT_UNET_PRESETS = ['latent-tiny', 'latent-lite', 'latent-mid', 'latent-small'] as const;
export type LatentUNetPreset = (typeof LATENT_UNET_PRESETS)[number];

export interface UNetConfig {
  preset: UNetPreset | LatentUNetPreset;
  /** Image side (28 for MNIST, 7 for a latent) and channels (1 for MNIST, C for a 7x7xC latent). */
  imageSize: number;
  imageChannels: number;
  /** Channels at the input resolution; deeper levels use baseChannels * channelMult[level]. */
  baseChannels: number;
  /**
   * One entry per level. Each level below the first has side ceil(previous / 2) (stride-2 'same'
   * conv); the way up upsamples ×2 and crops to the skip's side, so odd sides (7 → 4 → 8 → 7) work.
   */
  channelMult: number[];
  /** Residual blocks per level. */
  numResBlocks: number;
  /** GroupNorm groups; must divide every level's channel count. */
  groups: number;
  /** Width of the sinusoidal timestep embedding before its MLP. */
  timeEmbedDim: number;
  /**
   * Self-attention at the deepest level (7x7 for the pixel presets): after each of its residual
   * blocks on the way down and up, and between the two middle blocks. Default false.
   */
  attention?: boolean;
  /** Attention heads; must divide the deepest level's channels. Default 1. */
  attentionHeads?: number;
  /** Dropout rate in every residual block (between the second SiLU and conv2), training only. Default 0. */
  dropout?: number;
  /**
   * Number of classes for class conditioning (0 = unconditional, the default). Labels run
   * 0..numClasses, where numClasses is the null label ({@link nullLabel}) for classifier-free guidance.
   */
  numClasses?: number;
}

export const UNET_CONFIGS: Record<UNetPreset, UNetConfig> = {
  tiny: {
    preset: 'tiny', imageSize: 28, imageChannels: 1, baseChannels: 4, channelMult: [1, 2, 2], numResBlocks: 1, groups: 2,
    timeEmbedDim: 8, attention: false, attentionHeads: 1, dropout: 0, numClasses: 10,
  },
  /** Between tiny and small, no attention: the "Train to digits" preset's model (measured by `npm run bench:digits`). */
  mini: {
    preset: 'mini', imageSize: 28, imageChannels: 1, baseChannels: 8, channelMult: [1, 2, 2], numResBlocks: 1, groups: 2,
    timeEmbedDim: 16, attention: false, attentionHeads: 1, dropout: 0, numClasses: 10,
  },
  small: {
    preset: 'small', imageSize: 28, imageChannels: 1, baseChannels: 16, channelMult: [1, 2, 2], numResBlocks: 1, groups: 4,
    timeEmbedDim: 32, attention: true, attentionHeads: 1, dropout: 0, numClasses: 10,
  },
  base: {
    preset: 'base', imageSize: 28, imageChannels: 1, baseChannels: 32, channelMult: [1, 2, 2], numResBlocks: 1, groups: 8,
    timeEmbedDim: 32, attention: true, attentionHeads: 1, dropout: 0, numClasses: 10,
  },
};

/** Latent channels of the latent presets; {@link latentUNetConfig} sets another C (2..8 in practice). */
export const DEFAULT_LATENT_CHANNELS = 4;

/**
 * Latent denoisers for 7x7xC: two levels, 7x7 and 4x4 (stride-2 'same' conv 7 → 4; on the way up
 * nearest ×2 to 8x8, cropped to 7x7), with self-attention at 4x4.
 */
export const LATENT_UNET_CONFIGS: Record<LatentUNetPreset, UNetConfig> = {
  'latent-tiny': {
    preset: 'latent-tiny', imageSize: 7, imageChannels: DEFAULT_LATENT_CHANNELS, baseChannels: 8, channelMult: [1, 2],
    numResBlocks: 1, groups: 2, timeEmbedDim: 8, attention: true, attentionHeads: 1, dropout: 0, numClasses: 10,
  },
  /**
   * Designed for the 7x7xC latent by measurement (issue 19, `npm run bench:latent-designs`):
   * one residual block per level instead of two, 24 channels. 16.6 MFLOP per step against
   * latent-small's 41.5, and 1,041 kernels per forward pass against 1,521.
   */
  'latent-lite': {
    preset: 'latent-lite', imageSize: 7, imageChannels: DEFAULT_LATENT_CHANNELS, baseChannels: 24, channelMult: [1, 2],
    numResBlocks: 1, groups: 8, timeEmbedDim: 32, attention: true, attentionHeads: 2, dropout: 0, numClasses: 10,
  },
  /** latent-lite's layout at latent-small's width (32): 29.2 MFLOP per step. */
  'latent-mid': {
    preset: 'latent-mid', imageSize: 7, imageChannels: DEFAULT_LATENT_CHANNELS, baseChannels: 32, channelMult: [1, 2],
    numResBlocks: 1, groups: 8, timeEmbedDim: 32, attention: true, attentionHeads: 2, dropout: 0, numClasses: 10,
  },
  'latent-small': {
    preset: 'latent-small', imageSize: 7, imageChannels: DEFAULT_LATENT_CHANNELS, baseChannels: 32, channelMult: [1, 2],
    numResBlocks: 2, groups: 8, timeEmbedDim: 32, attention: true, attentionHeads: 2, dropout: 0, numClasses: 10,
  },
};

/** A latent preset for a 7x7xC latent (C = the autoencoder's latent channels). */
export function latentUNetConfig(preset: LatentUNetPreset, latentChannels: number, imageSize = 7): UNetConfig {
  const config = { ...LATENT_UNET_CONFIGS[preset], imageChannels: latentChannels, imageSize };
  unetLevelChannels(config); // validates
  return config;
}

/** The "no class" label: classifier-free guidance's unconditional pass and training's label dropout. */
export function nullLabel(config: UNetConfig): number {
  return config.numClasses ?? 0;
}

/** Width of the timestep MLP's output, fed to every residual block (4 × baseChannels, as in Ho et al.). */
export function timeMlpDim(config: UNetConfig): number {
  return 4 * config.baseChannels;
}

/** How a weight starts: Glorot-uniform (fan_avg, Ho et al.'s default), all zeros, or all ones. */
export type UNetInit = 'glorot' | 'zeros' | 'ones';

export interface UNetWeightSpec {
  /** Dotted name, e.g. 'down.0.res.0.conv1.w'. */
  name: string;
  /** conv [kh,kw,ci,co], dense [in,out], bias / norm [c]. */
  shape: number[];
  init: UNetInit;
}

/** Approximate FLOPs of one forward pass for one image, by kind of op. */
export interface UNetFlops {
  /** 2 × MACs of every conv and dense layer (attention's q, k, v, out projections and the class embedding's one-hot × matrix included), plus one add per output for the bias. */
  linear: number;
  /** GroupNorm: ~8 per element (mean, centre, square, mean, rsqrt-scale, γ, β). */
  norm: number;
  /** SiLU ~4 per element (exp, add, divide, multiply); residual, timestep and class-embedding adds 1 per element. */
  elementwise: number;
  /** Self-attention's matmuls, 2·hw·hw·c for QKᵀ and again for AV, plus softmax (~5 per score) and the 1/√d scale. */
  attention: number;
}

export interface UNetLayout {
  weights: UNetWeightSpec[];
  flops: UNetFlops;
  /**
   * Float elements one image's forward pass produces (every conv, dense, norm, SiLU, add and
   * concat output, attention's scores and their softmax): what training keeps for the backward
   * pass, and the base of the memory guard's estimate (src/models/setup/memory.ts).
   */
  activationsPerImage: number;
}

const NORM_FLOPS = 8;
const SILU_FLOPS = 4;
/** Softmax per score: subtract max, exp, sum, divide (and the max itself). */
const SOFTMAX_FLOPS = 5;

function checkInt(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`unet: ${name} must be an integer >= ${min}, got ${String(v)}.`);
  }
}

/** Side of each level: the input side, then ceil(side / 2) per stride-2 'same' downsample. */
export function unetLevelSizes(config: UNetConfig): number[] {
  const sizes = [config.imageSize];
  for (let l = 1; l < config.channelMult.length; l++) sizes.push(Math.ceil(sizes[l - 1] / 2));
  return sizes;
}

/** Checks the config (throws a clear error) and returns the channel count of each level. */
export function unetLevelChannels(config: UNetConfig): number[] {
  const { imageSize, imageChannels, channelMult, baseChannels, groups, timeEmbedDim, numResBlocks } = config;
  checkInt('imageSize', imageSize, 1);
  checkInt('imageChannels', imageChannels, 1);
  checkInt('baseChannels', baseChannels, 1);
  checkInt('groups', groups, 1);
  if (!Array.isArray(channelMult) || channelMult.length < 1) throw new Error('unet: channelMult needs at least one level.');
  channelMult.forEach((m, l) => checkInt(`channelMult[${l}]`, m, 1));
  if (numResBlocks < 1 || !Number.isInteger(numResBlocks)) throw new Error('unet: numResBlocks must be an integer >= 1.');
  if (timeEmbedDim < 4 || timeEmbedDim % 2 !== 0) throw new Error('unet: timeEmbedDim must be even and >= 4.');
  const chs = channelMult.map((m) => baseChannels * m);
  for (const c of chs) {
    if (c % groups !== 0) throw new Error(`unet: ${groups} groups do not divide ${c} channels.`);
  }
  const sizes = unetLevelSizes(config);
  if (sizes.length > 1 && sizes[sizes.length - 1] < 2) {
    throw new Error(`unet: ${sizes.length} levels shrink a side of ${imageSize} to 1 (${sizes.join(' → ')}); use fewer levels.`);
  }
  const dropout = config.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`unet: dropout must be in [0, 1), got ${dropout}.`);
  checkInt('numClasses', config.numClasses ?? 0, 0);
  const heads = config.attentionHeads ?? 1;
  checkInt('attentionHeads', heads, 1);
  if (config.attention && chs[chs.length - 1] % heads !== 0) {
    throw new Error(`unet: ${heads} attention heads do not divide the deepest level's ${chs[chs.length - 1]} channels.`);
  }
  return chs;
}

/** Walks the U-Net exactly as `apply` does and lists its weights and per-image FLOPs. */
export function unetLayout(config: UNetConfig): UNetLayout {
  const chs = unetLevelChannels(config);
  const sizes = unetLevelSizes(config);
  const levels = chs.length;
  const weights: UNetWeightSpec[] = [];
  const flops: UNetFlops = { linear: 0, norm: 0, elementwise: 0, attention: 0 };
  let acts = 0;
  const tDim = timeMlpDim(config);
  const numClasses = config.numClasses ?? 0;
  let size = config.imageSize;

  const conv = (name: string, k: number, ci: number, co: number, outSize: number, init: UNetInit = 'glorot') => {
    weights.push({ name: `${name}.w`, shape: [k, k, ci, co], init }, { name: `${name}.b`, shape: [co], init: 'zeros' });
    flops.linear += outSize * outSize * co * (2 * k * k * ci + 1);
    acts += outSize * outSize * co;
  };
  const dense = (name: string, din: number, dout: number, rows = 1, init: UNetInit = 'glorot') => {
    weights.push({ name: `${name}.w`, shape: [din, dout], init }, { name: `${name}.b`, shape: [dout], init: 'zeros' });
    flops.linear += rows * dout * (2 * din + 1);
    acts += rows * dout;
  };
  const norm = (name: string, c: number) => {
    weights.push({ name: `${name}.gamma`, shape: [c], init: 'ones' }, { name: `${name}.beta`, shape: [c], init: 'zeros' });
    flops.norm += NORM_FLOPS * size * size * c;
    acts += 3 * size * size * c; // centred, normalized, scaled and shifted
  };
  const normSilu = (name: string, c: number) => {
    norm(name, c);
    flops.elementwise += SILU_FLOPS * size * size * c;
    acts += 2 * size * size * c; // sigmoid, product
  };
  // GroupNorm → SiLU → conv3x3, + temb; GroupNorm → SiLU → (dropout) → conv3x3 (zero-init); + skip (1x1 if channels change).
  const resBlock = (name: string, ci: number, co: number) => {
    normSilu(`${name}.norm1`, ci);
    conv(`${name}.conv1`, 3, ci, co, size);
    dense(`${name}.temb`, tDim, co);
    normSilu(`${name}.norm2`, co);
    conv(`${name}.conv2`, 3, co, co, size, 'zeros');
    if (ci !== co) conv(`${name}.skip`, 1, ci, co, size);
    flops.elementwise += 2 * size * size * co; // timestep add, residual add
    acts += 2 * size * size * co;
  };
  // GroupNorm → 1x1 q, k, v → softmax(q kᵀ / √d) v per head → 1x1 out (zero-init) → + x.
  const attnBlock = (name: string, c: number) => {
    const hw = size * size;
    norm(`${name}.norm`, c);
    for (const p of ['q', 'k', 'v']) dense(`${name}.${p}`, c, c, hw);
    dense(`${name}.out`, c, c, hw, 'zeros');
    flops.attention += 2 * hw * hw * c * 2 + SOFTMAX_FLOPS * hw * hw * (config.attentionHeads ?? 1) + hw * c;
    flops.elementwise += hw * c; // residual add
    acts += 2 * hw * hw * (config.attentionHeads ?? 1) + hw * c; // scores, softmax; the residual add
  };

  dense('time.dense0', config.timeEmbedDim, tDim);
  dense('time.dense1', tDim, tDim);
  flops.elementwise += SILU_FLOPS * tDim * 2; // SiLU inside the MLP and before the per-block projections
  if (numClasses > 0) {
    // one-hot [b, numClasses + 1] × matrix, added to the MLP's output
    weights.push({ name: 'class.embed', shape: [numClasses + 1, tDim], init: 'glorot' });
    flops.linear += 2 * (numClasses + 1) * tDim;
    flops.elementwise += tDim;
  }

  const attnAt = (l: number) => config.attention === true && l === levels - 1;
  conv('in.conv', 3, config.imageChannels, chs[0], size);
  const skips = [chs[0]];
  let cur = chs[0];
  for (let l = 0; l < levels; l++) {
    for (let i = 0; i < config.numResBlocks; i++) {
      resBlock(`down.${l}.res.${i}`, cur, chs[l]);
      cur = chs[l];
      if (attnAt(l)) attnBlock(`down.${l}.attn.${i}`, cur);
      skips.push(cur);
    }
    if (l < levels - 1) {
      size = sizes[l + 1];
      conv(`down.${l}.downsample.conv`, 3, cur, cur, size);
      skips.push(cur);
    }
  }
  resBlock('mid.res.0', cur, cur);
  if (config.attention === true) attnBlock('mid.attn', cur);
  resBlock('mid.res.1', cur, cur);
  for (let l = levels - 1; l >= 0; l--) {
    for (let i = 0; i <= config.numResBlocks; i++) {
      const skip = skips.pop() as number;
      acts += size * size * (cur + skip); // the concat
      resBlock(`up.${l}.res.${i}`, cur + skip, chs[l]);
      cur = chs[l];
      if (attnAt(l)) attnBlock(`up.${l}.attn.${i}`, cur);
    }
    if (l > 0) {
      size = sizes[l - 1]; // nearest ×2, cropped to the skip's side, then the conv
      conv(`up.${l}.upsample.conv`, 3, cur, cur, size);
    }
  }
  normSilu('out.norm', cur);
  conv('out.conv', 3, cur, config.imageChannels, size, 'zeros');
  return { weights, flops, activationsPerImage: acts };
}

/** Parameter count (exact) and approximate FLOPs of one forward pass for one image. */
export function unetStats(config: UNetConfig): { paramCount: number; flopsPerImage: number } {
  const { weights, flops } = unetLayout(config);
  const paramCount = weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return { paramCount, flopsPerImage: flops.linear + flops.norm + flops.elementwise + flops.attention };
}
