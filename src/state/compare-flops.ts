/**
 * The pretrained models' forward FLOPs as the Compare panel counts them: the denoiser's per step
 * (one pass, or two with classifier-free guidance other than 0 and 1), and the LDM's decoder once
 * per image. Pure arithmetic on the architectures (no tfjs).
 */
import { autoencoderConfigOf, DEFAULT_MODEL_SETUP, denoiserConfigOf, type ModelKind, type ModelSetup } from '../models/setup/model-setup';
import { unetStats } from '../models/setup/unet-config';
import { autoencoderStats } from '../models/setup/autoencoder-config';

/**
 * The pretrained models' architectures (public/models/<kind>/manifest.json), for their FLOPs before
 * any run has measured them: the small pixel U-Net, and latent-lite over ae-small's 7x7x4.
 */
const PRETRAINED_SETUPS: Record<ModelKind, ModelSetup> = {
  pixel: { ...DEFAULT_MODEL_SETUP, kind: 'pixel', preset: 'small', attention: true },
  latent: { ...DEFAULT_MODEL_SETUP, kind: 'latent', latent: { autoencoder: 'ae-small', latentChannels: 4, denoiser: 'latent-lite', klWeight: 1e-5 }, attention: true },
};

export interface FlopParts {
  /** One denoiser pass over one image. */
  perPass: number;
  /** Passes per step: 2 with guidance (conditional and unconditional), else 1. */
  passes: number;
  /** The decoder, once per image (0 for the pixel model). */
  decode: number;
}

export function pretrainedFlopParts(kind: ModelKind, guidance: number): FlopParts {
  const setup = PRETRAINED_SETUPS[kind];
  const ae = autoencoderConfigOf(setup);
  return {
    perPass: unetStats(denoiserConfigOf(setup)).flopsPerImage,
    passes: setup.classConditional && guidance !== 0 && guidance !== 1 ? 2 : 1,
    decode: ae ? autoencoderStats(ae).decoderFlops : 0,
  };
}

/** Forward FLOPs per image of a pretrained model: denoiser passes × steps, plus the LDM's decode. */
export function pretrainedFlopsPerImage(kind: ModelKind, steps: number, guidance: number): number {
  const f = pretrainedFlopParts(kind, guidance);
  return f.perPass * f.passes * steps + f.decode;
}
