/**
 * From a ModelSetup (what the page's Model panel chooses) to the networks' configurations: the
 * denoiser's U-Net (a pixel preset, or a latent preset over 7x7xC) and the autoencoder's. Pure data,
 * no tfjs: the engine builds from it and the page shows sizes and FLOPs from it, so both agree.
 */
import { DEFAULT_SCHEDULE, type PredictionType, type ScheduleConfig } from '../../diffusion/config';
import { latentUNetConfig, UNET_CONFIGS, type LatentUNetPreset, type UNetConfig, type UNetPreset } from './unet-config';
import { AUTOENCODER_CONFIGS, type AutoencoderConfig, type AutoencoderPreset } from './autoencoder-config';

export type ModelKind = 'pixel' | 'latent';

export interface LatentSetup {
  autoencoder: AutoencoderPreset;
  /** Latent channels C of the 7x7xC latent, 2..8. */
  latentChannels: number;
  denoiser: LatentUNetPreset;
  /** Weight of the autoencoder's KL term: 0 is a plain autoencoder, a small weight (1e-5) a VAE. */
  klWeight: number;
  /** Self-attention in the autoencoder's 7x7 middle (encoder and decoder); absent = off. */
  autoencoderAttention?: boolean;
}

/** Everything that defines a model: changing any of it during training needs a reset. */
export interface ModelSetup {
  schedule: ScheduleConfig;
  /** Pixel-space DDPM, or latent diffusion (autoencoder + latent denoiser). */
  kind: ModelKind;
  /** The pixel U-Net's preset (kind 'pixel'). */
  preset: UNetPreset;
  /** The latent model's parts (kind 'latent'). */
  latent: LatentSetup;
  prediction: PredictionType;
  /** Self-attention at the denoiser's lowest resolution (7x7 for pixels, 4x4 for latents). */
  attention: boolean;
  /** Dropout in the residual blocks while training, in [0, 1). */
  dropout: number;
  /** Condition on the digit label (dropped 10 % of the time in training) for classifier-free guidance. */
  classConditional: boolean;
  /** EMA decay of the denoiser's weights, in [0, 1); 0 turns EMA off. */
  emaDecay: number;
  /** Min-SNR-γ loss weighting (Hang et al. 2023); 0 turns it off. */
  minSnrGamma: number;
}

/** The model a fresh page starts with: the tiny pixel U-Net, class-conditional, no EMA. */
export const DEFAULT_MODEL_SETUP: ModelSetup = {
  schedule: DEFAULT_SCHEDULE,
  kind: 'pixel',
  preset: 'tiny',
  latent: { autoencoder: 'ae-tiny', latentChannels: 4, denoiser: 'latent-tiny', klWeight: 1e-5 },
  attention: false,
  dropout: 0,
  prediction: 'epsilon',
  classConditional: true,
  emaDecay: 0,
  minSnrGamma: 0,
};

/** The digits: a class-conditional model has 10 classes (plus the null label). */
export const DIGIT_CLASSES = 10;

/** The denoiser's configuration: preset, class conditioning, attention and dropout as the setup says. */
export function denoiserConfigOf(setup: ModelSetup): UNetConfig {
  const base = setup.kind === 'latent' ? latentUNetConfig(setup.latent.denoiser, setup.latent.latentChannels) : UNET_CONFIGS[setup.preset];
  return { ...base, numClasses: setup.classConditional ? DIGIT_CLASSES : 0, attention: setup.attention, dropout: setup.dropout };
}

/** The autoencoder's configuration (latent models), or null for a pixel model. */
export function autoencoderConfigOf(setup: ModelSetup): AutoencoderConfig | null {
  if (setup.kind !== 'latent') return null;
  const base = AUTOENCODER_CONFIGS[setup.latent.autoencoder];
  const { latentChannels, klWeight, autoencoderAttention } = setup.latent;
  return { ...base, latentChannels, klWeight, ...(autoencoderAttention ? { attention: true } : {}) };
}

/** Whether the preset the setup picks has self-attention by default (the Model panel's starting value). */
export function presetAttention(setup: Pick<ModelSetup, 'kind' | 'preset' | 'latent'>): boolean {
  const base = setup.kind === 'latent' ? latentUNetConfig(setup.latent.denoiser, setup.latent.latentChannels) : UNET_CONFIGS[setup.preset];
  return base.attention ?? false;
}
