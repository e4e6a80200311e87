/**
 * From a ModelSetup (what the page asks for) to the networks it means: the denoiser's U-Net
 * configuration (pixel preset, or latent preset over 7x7xC), the autoencoder's configuration, and
 * the figures the page shows before anything is built (parameters, FLOPs).
 */
import { latentUNetConfig, UNET_CONFIGS, unetStats, type UNetConfig } from '../models/config';
import { AUTOENCODER_CONFIGS, autoencoderStats, validateAutoencoderConfig, type AutoencoderConfig } from '../models/autoencoder-config';
import { createUNet } from '../models/unet';
import { createAutoencoder } from '../models/autoencoder';
import { validateScheduleConfig } from '../diffusion';
import { PREDICTION_TYPES } from '../diffusion/config';
import type { ModelSetup } from '../worker/protocol';
import { DiffusionModel } from './diffusion-model';

/** The denoiser's configuration: class-conditional (10 digits) or not, as the setup says. */
export function denoiserConfig(setup: ModelSetup): UNetConfig {
  const base = setup.kind === 'latent' ? latentUNetConfig(setup.latent.denoiser, setup.latent.latentChannels) : UNET_CONFIGS[setup.preset];
  return { ...base, numClasses: setup.classConditional ? 10 : 0 };
}

export function autoencoderConfig(setup: ModelSetup): AutoencoderConfig | null {
  if (setup.kind !== 'latent') return null;
  const config = { ...AUTOENCODER_CONFIGS[setup.latent.autoencoder], latentChannels: setup.latent.latentChannels };
  validateAutoencoderConfig(config);
  return config;
}

/** Throws an Error naming the first bad field of a setup (so a bad setup never replaces a good model). */
export function validateSetup(setup: ModelSetup): void {
  validateScheduleConfig(setup.schedule);
  if (setup.kind !== 'pixel' && setup.kind !== 'latent') throw new Error(`model kind must be 'pixel' or 'latent', got ${String(setup.kind)}.`);
  if (!(PREDICTION_TYPES as readonly string[]).includes(setup.prediction)) {
    throw new Error(`prediction must be one of ${PREDICTION_TYPES.join(', ')}, got ${String(setup.prediction)}.`);
  }
  if (!(setup.emaDecay >= 0 && setup.emaDecay < 1)) throw new Error(`EMA decay must be in [0, 1), got ${setup.emaDecay}.`);
  if (!(setup.minSnrGamma >= 0 && Number.isFinite(setup.minSnrGamma))) throw new Error(`min-SNR γ must be ≥ 0 (0 = off), got ${setup.minSnrGamma}.`);
  denoiserConfig(setup);
  autoencoderConfig(setup);
}

export interface SetupStats {
  paramCount: number;
  flopsPerStep: number;
  decodeFlops: number;
}

export function setupStats(setup: ModelSetup): SetupStats {
  const denoiser = unetStats(denoiserConfig(setup));
  const ae = autoencoderConfig(setup);
  const aeStats = ae ? autoencoderStats(ae) : null;
  return {
    paramCount: denoiser.paramCount + (aeStats?.paramCount ?? 0),
    flopsPerStep: denoiser.flopsPerImage,
    decodeFlops: aeStats?.decoderFlops ?? 0,
  };
}

/** Builds the networks of a setup with seeded initial weights. */
export function buildModel(setup: ModelSetup, seed: number): DiffusionModel {
  validateSetup(setup);
  const denoiser = createUNet(denoiserConfig(setup), seed);
  const aeConfig = autoencoderConfig(setup);
  const model = new DiffusionModel(setup.kind, denoiser, aeConfig ? createAutoencoder(aeConfig, seed + 1) : null);
  model.enableEma(setup.emaDecay);
  return model;
}
