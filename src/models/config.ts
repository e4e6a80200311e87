/**
 * Pixel U-Net configuration and presets. Pure data: the UI reads it to show parameter counts
 * and FLOPs without importing TensorFlow.js.
 *
 * {@link unetLayout} walks the architecture once and lists every weight (name, shape, init) and the
 * cost of every layer; `createUNet` (unet.ts) creates its variables from the same list, so
 * {@link unetStats} counts exactly the parameters the model has.
 */

export const UNET_PRESETS = ['tiny', 'small', 'base'] as const;
export type UNetPreset = (typeof UNET_PRESETS)[number];

export interface UNetConfig {
  preset: UNetPreset;
  /** Image side (28 for MNIST) and channels (1). */
  imageSize: number;
  imageChannels: number;
  /** Channels at 28x28; deeper levels use baseChannels * channelMult[level]. */
  baseChannels: number;
  channelMult: number[];
  /** Residual blocks per level. */
  numResBlocks: number;
  /** GroupNorm groups; must divide every level's channel count. */
  groups: number;
  /** Width of the sinusoidal timestep embedding before its MLP. */
  timeEmbedDim: number;
}

export const UNET_CONFIGS: Record<UNetPreset, UNetConfig> = {
  tiny: { preset: 'tiny', imageSize: 28, imageChannels: 1, baseChannels: 4, channelMult: [1, 2, 2], numResBlocks: 1, groups: 2, timeEmbedDim: 8 },
  small: { preset: 'small', imageSize: 28, imageChannels: 1, baseChannels: 16, channelMult: [1, 2, 2], numResBlocks: 1, groups: 4, timeEmbedDim: 32 },
  base: { preset: 'base', imageSize: 28, imageChannels: 1, baseChannels: 32, channelMult: [1, 2, 2], numResBlocks: 1, groups: 8, timeEmbedDim: 32 },
};

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
  /** 2 × MACs of every conv and dense layer, plus one add per output for the bias. */
  linear: number;
  /** GroupNorm: ~8 per element (mean, centre, square, mean, rsqrt-scale, γ, β). */
  norm: number;
  /** SiLU ~4 per element (exp, add, divide, multiply); residual and timestep adds 1 per element. */
  elementwise: number;
}

export interface UNetLayout {
  weights: UNetWeightSpec[];
  flops: UNetFlops;
}

const NORM_FLOPS = 8;
const SILU_FLOPS = 4;

/** Checks the config and returns the channel count of each level. */
export function unetLevelChannels(config: UNetConfig): number[] {
  const { imageSize, channelMult, baseChannels, groups, timeEmbedDim, numResBlocks } = config;
  if (channelMult.length < 1) throw new Error('unet: channelMult needs at least one level.');
  if (numResBlocks < 1) throw new Error('unet: numResBlocks must be at least 1.');
  if (timeEmbedDim < 4 || timeEmbedDim % 2 !== 0) throw new Error('unet: timeEmbedDim must be even and >= 4.');
  const chs = channelMult.map((m) => baseChannels * m);
  for (const c of chs) {
    if (c % groups !== 0) throw new Error(`unet: ${groups} groups do not divide ${c} channels.`);
  }
  let size = imageSize;
  for (let l = 0; l < chs.length - 1; l++) {
    if (size % 2 !== 0) {
      throw new Error(`unet: level ${l + 1} would downsample an odd size ${size}; use fewer levels.`);
    }
    size /= 2;
  }
  return chs;
}

/** Walks the U-Net exactly as `apply` does and lists its weights and per-image FLOPs. */
export function unetLayout(config: UNetConfig): UNetLayout {
  const chs = unetLevelChannels(config);
  const weights: UNetWeightSpec[] = [];
  const flops: UNetFlops = { linear: 0, norm: 0, elementwise: 0 };
  const tDim = timeMlpDim(config);
  let size = config.imageSize;

  const conv = (name: string, k: number, ci: number, co: number, outSize: number, init: UNetInit = 'glorot') => {
    weights.push({ name: `${name}.w`, shape: [k, k, ci, co], init }, { name: `${name}.b`, shape: [co], init: 'zeros' });
    flops.linear += outSize * outSize * co * (2 * k * k * ci + 1);
  };
  const dense = (name: string, din: number, dout: number) => {
    weights.push({ name: `${name}.w`, shape: [din, dout], init: 'glorot' }, { name: `${name}.b`, shape: [dout], init: 'zeros' });
    flops.linear += dout * (2 * din + 1);
  };
  const normSilu = (name: string, c: number) => {
    weights.push({ name: `${name}.gamma`, shape: [c], init: 'ones' }, { name: `${name}.beta`, shape: [c], init: 'zeros' });
    flops.norm += NORM_FLOPS * size * size * c;
    flops.elementwise += SILU_FLOPS * size * size * c;
  };
  // GroupNorm → SiLU → conv3x3, + temb; GroupNorm → SiLU → conv3x3 (zero-init); + skip (1x1 if channels change).
  const resBlock = (name: string, ci: number, co: number) => {
    normSilu(`${name}.norm1`, ci);
    conv(`${name}.conv1`, 3, ci, co, size);
    dense(`${name}.temb`, tDim, co);
    normSilu(`${name}.norm2`, co);
    conv(`${name}.conv2`, 3, co, co, size, 'zeros');
    if (ci !== co) conv(`${name}.skip`, 1, ci, co, size);
    flops.elementwise += 2 * size * size * co; // timestep add, residual add
  };

  dense('time.dense0', config.timeEmbedDim, tDim);
  dense('time.dense1', tDim, tDim);
  flops.elementwise += SILU_FLOPS * tDim * 2; // SiLU inside the MLP and before the per-block projections

  conv('in.conv', 3, config.imageChannels, chs[0], size);
  const skips = [chs[0]];
  let cur = chs[0];
  for (let l = 0; l < chs.length; l++) {
    for (let i = 0; i < config.numResBlocks; i++) {
      resBlock(`down.${l}.res.${i}`, cur, chs[l]);
      cur = chs[l];
      skips.push(cur);
    }
    if (l < chs.length - 1) {
      size /= 2;
      conv(`down.${l}.downsample.conv`, 3, cur, cur, size);
      skips.push(cur);
    }
  }
  resBlock('mid.res.0', cur, cur);
  resBlock('mid.res.1', cur, cur);
  for (let l = chs.length - 1; l >= 0; l--) {
    for (let i = 0; i <= config.numResBlocks; i++) {
      const skip = skips.pop() as number;
      resBlock(`up.${l}.res.${i}`, cur + skip, chs[l]);
      cur = chs[l];
    }
    if (l > 0) {
      size *= 2;
      conv(`up.${l}.upsample.conv`, 3, cur, cur, size);
    }
  }
  normSilu('out.norm', cur);
  conv('out.conv', 3, cur, config.imageChannels, size, 'zeros');
  return { weights, flops };
}

/** Parameter count (exact) and approximate FLOPs of one forward pass for one image. */
export function unetStats(config: UNetConfig): { paramCount: number; flopsPerImage: number } {
  const { weights, flops } = unetLayout(config);
  const paramCount = weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return { paramCount, flopsPerImage: flops.linear + flops.norm + flops.elementwise };
}
