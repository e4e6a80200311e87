/**
 * A whole DiffusionModel as one checkpoint (model.json + weights.bin, see ./checkpoint.ts): the
 * denoiser's weights as the model tensors, its EMA as 'ema/…' and the autoencoder as
 * 'autoencoder/…' extras, and in the metadata the full ModelSetup, the latent normalization and the
 * step counts, so that a saved file says exactly how to rebuild the model.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelSetup } from '../worker/protocol';
import {
  assignWeights,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  disposeTensors,
  extraTensors,
  loadWeights,
  saveWeights,
  withGroup,
  type CheckpointArtifacts,
} from './checkpoint';
import { buildModel, validateSetup } from './model-factory';
import type { DiffusionModel, LatentNormalization } from './diffusion-model';

export const MODEL_KIND = 'diffusion-model';

export interface SavedModelInfo {
  setup: ModelSetup;
  latent: LatentNormalization | null;
  autoencoderSteps: number;
  denoiserSteps: number;
}

export async function saveModel(model: DiffusionModel, info: SavedModelInfo): Promise<CheckpointArtifacts> {
  const tensors = new Map<string, tf.Tensor>(model.denoiser.weights);
  if (model.ema) for (const [k, v] of withGroup(model.ema.shadow, 'ema')) tensors.set(k, v);
  if (model.autoencoder) for (const [k, v] of withGroup(model.autoencoder.weights, 'autoencoder')) tensors.set(k, v);
  return saveWeights(tensors, { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, kind: MODEL_KIND, config: info.setup, extra: info });
}

function readInfo(extra: unknown): SavedModelInfo {
  const info = extra as Partial<SavedModelInfo> | null;
  if (info == null || typeof info !== 'object' || info.setup == null) throw new Error('model file: its metadata has no model setup.');
  const latent = info.latent ?? null;
  if (latent != null && !(Number.isFinite(latent.scale) && latent.scale > 0 && Number.isFinite(latent.shift))) {
    throw new Error('model file: the latent normalization is not a pair of finite numbers with scale > 0.');
  }
  const steps = (n: unknown) => (typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0);
  return { setup: info.setup, latent, autoencoderSteps: steps(info.autoencoderSteps), denoiserSteps: steps(info.denoiserSteps) };
}

/**
 * Rebuilds a model from its files, checking every tensor against the setup it declares. Throws an
 * Error that says what is wrong; on error nothing is left allocated.
 */
export function loadModel(modelJson: unknown, weightsBin: ArrayBuffer): { model: DiffusionModel; info: SavedModelInfo } {
  const peek = loadWeights(modelJson, weightsBin, { kind: MODEL_KIND, extraGroups: ['ema', 'autoencoder'] });
  let model: DiffusionModel | null = null;
  try {
    const info = readInfo(peek.meta.extra);
    try {
      validateSetup(info.setup);
    } catch (err) {
      throw new Error(`model file: its setup is invalid: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    model = buildModel(info.setup, 0);
    // assignWeights checks the exact set of names and every shape before it assigns anything.
    const weights = new Map([...peek.tensors].filter(([name]) => !name.includes('/')));
    assignWeights(model.denoiser.weights, weights);
    const ema = extraTensors(peek.tensors, 'ema');
    if (model.ema) assignWeights(model.ema.shadow, ema.size > 0 ? ema : weights);
    if (model.autoencoder) {
      const ae = extraTensors(peek.tensors, 'autoencoder');
      if (ae.size === 0) throw new Error('model file: a latent model needs its autoencoder weights (autoencoder/…).');
      assignWeights(model.autoencoder.weights, ae);
      if (info.latent == null && info.denoiserSteps > 0) throw new Error('model file: a trained latent model needs its latent normalization.');
      model.latent = info.latent;
    }
    return { model, info };
  } catch (err) {
    model?.dispose();
    throw err;
  } finally {
    disposeTensors(peek.tensors);
  }
}
