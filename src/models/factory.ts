/**
 * From a ModelSetup (what the page asks for) to the networks it means: the denoiser's U-Net
 * configuration (pixel preset, or latent preset over 7x7xC), the autoencoder's configuration, and
 * the figures the page shows before anything is built (parameters, FLOPs).
 */
import { unetStats } from './setup/unet-config';
import { autoencoderConfigOf, denoiserConfigOf } from './setup/model-setup';
import { autoencoderStats, validateAutoencoderConfig } from './setup/autoencoder-config';
import { createUNet } from './unet';
import { createAutoencoder } from './autoencoder';
import { validateScheduleConfig } from '../diffusion';
import { PREDICTION_TYPES } from '../diffusion/config';
import type { ModelSetup } from './setup/model-setup';
import { DiffusionModel } from './diffusion-model';

/** Throws an Error naming the first bad field of a setup (so a bad setup never replaces a good model). */
export function validateSetup(setup: ModelSetup): void {
  validateScheduleConfig(setup.schedule);
  if (setup.kind !== 'pixel' && setup.kind !== 'latent') throw new Error(`model kind must be 'pixel' or 'latent', got ${String(setup.kind)}.`);
  if (!(PREDICTION_TYPES as readonly string[]).includes(setup.prediction)) {
    throw new Error(`prediction must be one of ${PREDICTION_TYPES.join(', ')}, got ${String(setup.prediction)}.`);
  }
  if (!(setup.emaDecay >= 0 && setup.emaDecay < 1)) throw new Error(`EMA decay must be in [0, 1), got ${setup.emaDecay}.`);
  if (!(setup.minSnrGamma >= 0 && Number.isFinite(setup.minSnrGamma))) throw new Error(`min-SNR γ must be ≥ 0 (0 = off), got ${setup.minSnrGamma}.`);
  if (!(setup.dropout >= 0 && setup.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${setup.dropout}.`);
  unetStats(denoiserConfigOf(setup)); // validates the U-Net configuration
  const ae = autoencoderConfigOf(setup);
  if (ae) validateAutoencoderConfig(ae);
}

export interface SetupStats {
  paramCount: number;
  flopsPerStep: number;
  decodeFlops: number;
}

export function setupStats(setup: ModelSetup): SetupStats {
  const denoiser = unetStats(denoiserConfigOf(setup));
  const ae = autoencoderConfigOf(setup);
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
  const denoiser = createUNet(denoiserConfigOf(setup), seed);
  const aeConfig = autoencoderConfigOf(setup);
  const model = new DiffusionModel(setup.kind, denoiser, aeConfig ? createAutoencoder(aeConfig, seed + 1) : null);
  model.enableEma(setup.emaDecay);
  return model;
}
