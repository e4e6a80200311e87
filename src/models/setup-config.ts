/**
 * From a ModelSetup (what the page's Model panel chooses) to the networks' configurations: the
 * denoiser's U-Net (a pixel preset, or a latent preset over 7x7xC) and the autoencoder's. Pure data,
 * no tfjs: the engine builds from it and the page shows sizes and FLOPs from it, so both agree.
 */
import type { ModelSetup } from '../worker/protocol';
import { latentUNetConfig, UNET_CONFIGS, type UNetConfig } from './config';
import { AUTOENCODER_CONFIGS, type AutoencoderConfig } from './autoencoder-config';

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
  return { ...AUTOENCODER_CONFIGS[setup.latent.autoencoder], latentChannels: setup.latent.latentChannels, klWeight: setup.latent.klWeight };
}

/** Whether the preset the setup picks has self-attention by default (the Model panel's starting value). */
export function presetAttention(setup: Pick<ModelSetup, 'kind' | 'preset' | 'latent'>): boolean {
  const base = setup.kind === 'latent' ? latentUNetConfig(setup.latent.denoiser, setup.latent.latentChannels) : UNET_CONFIGS[setup.preset];
  return base.attention ?? false;
}
