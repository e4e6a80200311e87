import type { ModelKind } from '../models/setup/model-setup';

/**
 * Where the pretrained models live, relative to the site's base URL: `models/<kind>/` holds
 * model.json + weights.bin (a model file, as Export writes it) and manifest.json (how it was
 * trained), written by `npm run pretrain` into public/models/.
 */
export const PRETRAINED_MODELS_PATH = 'models/';
export const PRETRAINED_MANIFEST_FILE = 'manifest.json';

/**
 * What the page shows about a pretrained model, from its manifest.json (every field optional there:
 * null when missing) and its model.json (the step counts, which always come from the model file).
 */
export interface PretrainedInfo {
  kind: ModelKind;
  /** The manifest's name, or the kind. */
  name: string;
  /** Pretraining steps of the autoencoder (latent models) and of the denoiser, from model.json. */
  autoencoderSteps: number;
  denoiserSteps: number;
  /** Wall time of the whole pretraining, seconds. */
  trainingSeconds: number | null;
  /** The denoiser's final (smoothed) training loss. */
  finalLoss: number | null;
  /** The pretraining plan's name ('full', 'quick'), when the manifest says. */
  plan: string | null;
  /** When the files were made (ISO date), when the manifest says. */
  createdAt: string | null;
  /** The manifest's evaluation figures, as numbers by name (e.g. meanConfidence), when it has any. */
  eval: Record<string, number> | null;
  /** The sampler those figures were measured with ('DDIM-50'), when the manifest says. */
  evalSampler: string | null;
  /** Bytes of model.json + weights.bin. */
  bytes: number;
}
