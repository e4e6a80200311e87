/**
 * Size and cost of a model setup, from the pure config modules (no tfjs): the same figures the
 * engine reports in its 'model' message (denoiser + autoencoder parameters, FLOPs per denoising
 * step, decoder FLOPs per image), available before anything is built.
 */
import { unetStats } from '../models/setup/unet-config';
import { autoencoderStats } from '../models/setup/autoencoder-config';
import { autoencoderConfigOf, denoiserConfigOf } from '../models/setup/model-setup';
import type { ModelSetup } from '../models/setup/model-setup';

export interface SetupFigures {
  denoiserParams: number;
  autoencoderParams: number;
  paramCount: number;
  /** One forward pass of the denoiser for one image (a sampling step; in the latent space for LDM). */
  flopsPerStep: number;
  /** LDM: encoding and decoding one image (0 for pixel models). */
  encodeFlops: number;
  decodeFlops: number;
  /** Numbers the denoiser works on per image: 28·28 pixels or 7·7·C latents. */
  denoiserSize: number;
}

const cache = new Map<string, SetupFigures | null>();

/** Figures of a setup, or null when its parts do not fit together (the config modules throw). */
export function setupFigures(setup: ModelSetup): SetupFigures | null {
  const key = JSON.stringify([setup.kind, setup.preset, setup.latent, setup.classConditional, setup.attention]);
  if (cache.has(key)) return cache.get(key) ?? null;
  let figures: SetupFigures | null;
  try {
    const unet = denoiserConfigOf(setup);
    const d = unetStats(unet);
    const aeConfig = autoencoderConfigOf(setup);
    const ae = aeConfig ? autoencoderStats(aeConfig) : null;
    figures = {
      denoiserParams: d.paramCount,
      autoencoderParams: ae?.paramCount ?? 0,
      paramCount: d.paramCount + (ae?.paramCount ?? 0),
      flopsPerStep: d.flopsPerImage,
      encodeFlops: ae?.encoderFlops ?? 0,
      decodeFlops: ae?.decoderFlops ?? 0,
      denoiserSize: unet.imageSize * unet.imageSize * unet.imageChannels,
    };
  } catch {
    figures = null;
  }
  cache.set(key, figures);
  return figures;
}
