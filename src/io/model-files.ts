/**
 * A whole DiffusionModel as one model file (model.json + weights.bin, see ./weights-file.ts): the
 * denoiser's weights as the model tensors, its EMA as 'ema/…' and the autoencoder as
 * 'autoencoder/…' extras, and in the metadata the full ModelSetup, the latent normalization, the
 * step counts and the loss history, so that a saved file says exactly how to rebuild the model. A
 * training checkpoint adds the run's state (`resume`) and Adam's moments ('optimizer/…' for the
 * denoiser, 'aeoptimizer/…' for the autoencoder; see ./optimizer-state.ts).
 *
 * Loading checks all of it before the model is built: the setup against its schema (and equal to
 * the metadata's `config`), the step counts, the history and the run state.
 */
import { fileSizeProblem } from '../models/setup/file-limits';
import type { ModelFile } from './model-file';
import type * as tf from '@tensorflow/tfjs';
import type { ModelSetup } from '../models/setup/model-setup';
import {
  assignWeights,
  WEIGHTS_FORMAT,
  WEIGHTS_VERSION,
  extraTensors,
  loadWeights,
  saveWeights,
  withGroup,
  MODEL_FILE,
  WEIGHTS_FILE,
  type WeightsArtifacts,
} from './weights-file';
import { buildModel } from '../models/factory';
import type { DiffusionModel, LatentNormalization } from '../models/diffusion-model';
import { parseSetup } from './setup-schema';
import { MAX_TRAIN_STEPS, parseLossTrace, parseTrainingResume, type LossTrace, type TrainingResume } from './training-state';

export const MODEL_KIND = 'diffusion-model';

export interface SavedModelInfo {
  setup: ModelSetup;
  latent: LatentNormalization | null;
  autoencoderSteps: number;
  denoiserSteps: number;
  /** The loss curve of the stage trained last (absent in files written before it was kept). */
  history?: LossTrace | null;
  /** Training checkpoints only: the run's state, to go on exactly where it stopped. */
  resume?: TrainingResume | null;
}

/** The extra tensor groups of a training checkpoint: Adam's state of the denoiser and of the autoencoder. */
export const OPTIMIZER_GROUPS = ['optimizer', 'aeoptimizer'] as const;

/** Saves a model; `extras` adds tensors of the OPTIMIZER_GROUPS (names 'optimizer/…'). */
export async function saveModel(model: DiffusionModel, info: SavedModelInfo, extras?: Map<string, tf.Tensor>): Promise<WeightsArtifacts> {
  const tensors = new Map<string, tf.Tensor>(model.denoiser.weights);
  if (model.ema) for (const [k, v] of withGroup(model.ema.shadow, 'ema')) tensors.set(k, v);
  if (model.autoencoder) for (const [k, v] of withGroup(model.autoencoder.weights, 'autoencoder')) tensors.set(k, v);
  if (extras) for (const [k, v] of extras) tensors.set(k, v);
  const extra: SavedModelInfo = { setup: info.setup, latent: info.latent, autoencoderSteps: info.autoencoderSteps, denoiserSteps: info.denoiserSteps };
  if (info.history) extra.history = info.history;
  if (info.resume) extra.resume = info.resume;
  return saveWeights(tensors, { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: MODEL_KIND, config: info.setup, extra });
}

const INFO_KEYS = ['setup', 'latent', 'autoencoderSteps', 'denoiserSteps', 'history', 'resume'];

function stepCount(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > MAX_TRAIN_STEPS) {
    throw new Error(`model file: ${what} must be an integer in [0, ${MAX_TRAIN_STEPS}], got ${String(x).slice(0, 30)}.`);
  }
  return x;
}

/** The metadata's `extra`, checked field by field (the setup against its schema and equal to `config`). */
function readInfo(extra: unknown, config: unknown): SavedModelInfo {
  if (extra == null || typeof extra !== 'object' || Array.isArray(extra)) throw new Error('model file: its metadata has no model setup.');
  const raw = extra as Record<string, unknown>;
  const unknown = Object.keys(raw).find((k) => !INFO_KEYS.includes(k));
  if (unknown !== undefined) throw new Error(`model file: its metadata has an unknown field ${JSON.stringify(unknown.slice(0, 30))}.`);
  if (raw.setup == null) throw new Error('model file: its metadata has no model setup.');
  const setup = parseSetup(raw.setup, 'model file: setup');
  if (JSON.stringify(config) !== JSON.stringify(raw.setup)) throw new Error('model file: its config and its setup disagree.');
  const latent = (raw.latent ?? null) as LatentNormalization | null;
  if (latent != null) {
    const keys = typeof latent === 'object' ? Object.keys(latent).sort().join() : '';
    if (keys !== 'scale,shift' || !(Number.isFinite(latent.scale) && latent.scale > 0 && Number.isFinite(latent.shift))) {
      throw new Error('model file: the latent normalization is not a pair of finite numbers with scale > 0.');
    }
  }
  const info: SavedModelInfo = {
    setup,
    latent: latent == null ? null : { shift: latent.shift, scale: latent.scale },
    autoencoderSteps: stepCount(raw.autoencoderSteps ?? 0, 'autoencoderSteps'),
    denoiserSteps: stepCount(raw.denoiserSteps ?? 0, 'denoiserSteps'),
  };
  if (setup.kind === 'pixel' && info.autoencoderSteps > 0) throw new Error('model file: a pixel model has no autoencoder steps.');
  try {
    if (raw.history != null) {
      const history = parseLossTrace(raw.history, 'history');
      const count = history.stage === 'autoencoder' ? info.autoencoderSteps : info.denoiserSteps;
      const last = history.steps.at(-1) ?? 0;
      if (last > count) throw new Error(`history goes to step ${last}, beyond the model's ${count} ${history.stage} steps.`);
      info.history = history;
    }
    if (raw.resume != null) info.resume = parseTrainingResume(raw.resume, { autoencoder: info.autoencoderSteps, denoiser: info.denoiserSteps }, 'resume');
  } catch (err) {
    throw new Error(`model file: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return info;
}

/**
 * Rebuilds a model from its files, checking every tensor against the setup it declares. Throws an
 * Error that says what is wrong; on error nothing is left allocated. `keepExtras` returns the
 * optimizer groups' tensors (names 'optimizer/…'; the caller disposes them); otherwise they are freed.
 */
export function loadModel(
  modelJson: unknown,
  weightsBin: ArrayBuffer,
  options: { keepExtras?: boolean } = {},
): { model: DiffusionModel; info: SavedModelInfo; extras: Map<string, tf.Tensor> } {
  const peek = loadWeights(modelJson, weightsBin, { kind: MODEL_KIND, extraGroups: ['ema', 'autoencoder', ...OPTIMIZER_GROUPS] });
  let model: DiffusionModel | null = null;
  const extras = new Map<string, tf.Tensor>();
  try {
    const info = readInfo(peek.meta.extra, peek.meta.config);
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
    } else if ([...peek.tensors.keys()].some((n) => n.startsWith('autoencoder/'))) {
      throw new Error('model file: a pixel model has no autoencoder weights, but the file holds some.');
    }
    if (!model.ema && ema.size > 0) throw new Error('model file: the setup has EMA off, but the file holds EMA weights.');
    if (options.keepExtras) {
      for (const [name, t] of peek.tensors) if (OPTIMIZER_GROUPS.some((g) => name.startsWith(`${g}/`))) extras.set(name, t);
    }
    return { model, info, extras };
  } catch (err) {
    model?.dispose();
    extras.clear();
    throw err;
  } finally {
    for (const [name, t] of peek.tensors) if (!extras.has(name)) t.dispose();
  }
}

/** A saved model as the two files the page downloads or stores (copies: the artifacts stay usable). */
export function toModelFiles(artifacts: WeightsArtifacts): ModelFile[] {
  const json = new TextEncoder().encode(JSON.stringify(artifacts.modelJson));
  return [
    { name: MODEL_FILE, data: json.buffer.slice(json.byteOffset, json.byteOffset + json.byteLength) as ArrayBuffer },
    { name: WEIGHTS_FILE, data: artifacts.weightsBin.slice(0) },
  ];
}

/** The model.json and weights.bin among picked or stored files (any names ending .json / .bin), parsed. */
export function readModelFiles(files: ModelFile[]): { modelJson: unknown; weightsBin: ArrayBuffer } {
  const json = files.find((f) => f.name.endsWith('.json'));
  const bin = files.find((f) => f.name.endsWith('.bin'));
  if (json == null || bin == null) throw new Error('A model needs two files: model.json and weights.bin.');
  const tooLarge = fileSizeProblem(json.name, json.data.byteLength) ?? fileSizeProblem(bin.name, bin.data.byteLength);
  if (tooLarge) throw new Error(tooLarge);
  try {
    return { modelJson: JSON.parse(new TextDecoder().decode(json.data)), weightsBin: bin.data };
  } catch (err) {
    throw new Error(`${json.name} is not valid JSON.`, { cause: err });
  }
}
