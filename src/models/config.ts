/**
 * Pixel U-Net configuration and presets. Pure data: the UI reads it to show parameter counts
 * and FLOPs without importing TensorFlow.js.
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
  tiny: { preset: 'tiny', imageSize: 28, imageChannels: 1, baseChannels: 4, channelMult: [1, 2], numResBlocks: 1, groups: 2, timeEmbedDim: 8 },
  small: { preset: 'small', imageSize: 28, imageChannels: 1, baseChannels: 16, channelMult: [1, 2, 2], numResBlocks: 1, groups: 4, timeEmbedDim: 32 },
  base: { preset: 'base', imageSize: 28, imageChannels: 1, baseChannels: 32, channelMult: [1, 2, 2], numResBlocks: 2, groups: 8, timeEmbedDim: 64 },
};
