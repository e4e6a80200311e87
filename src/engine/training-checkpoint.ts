/**
 * Training checkpoints: a whole model file (./model-files.ts) plus what the run needs to go on —
 * Adam's moments of both trainers, their step counts and random generators, the run's configuration
 * and the loss history. The worker keeps the last one in memory (the NaN guard rolls back to it)
 * and posts a copy to the page, which keeps it in IndexedDB (a reload or a crashed worker resumes
 * from it).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelSetup } from '../models/setup/model-setup';
import type { TrainingConfig, TrainingStage } from './run-config';
import { assignWeights, extraTensors, isModelTensorName, loadWeights, type WeightsArtifacts } from '../io/weights-file';
import { MODEL_KIND, OPTIMIZER_GROUPS, saveModel, type SavedModelInfo } from '../io/model-files';
import { checkAdamState, readAdamState, writeAdamState } from '../io/optimizer-state';
import type { DiffusionModel } from '../models/diffusion-model';
import type { Trainer } from './trainer';
import type { AutoencoderTrainer } from './autoencoder-trainer';
import type { LossTrace, TrainingResume } from '../io/training-state';

/** What a session hands over to save or restore a checkpoint. */
export interface TrainingParts {
  model: DiffusionModel;
  setup: ModelSetup;
  denoiser: Trainer | null;
  autoencoder: AutoencoderTrainer | null;
  offsets: { autoencoder: number; denoiser: number };
  stage: TrainingStage;
  config: TrainingConfig;
  history: LossTrace;
}

/** Saves model, optimizers and run state as one model file (model.json + weights.bin). */
export async function saveTrainingCheckpoint(parts: TrainingParts): Promise<WeightsArtifacts> {
  const { model, denoiser, autoencoder, offsets } = parts;
  const extras = new Map<string, tf.Tensor>();
  const owned: tf.Tensor[] = [];
  try {
    for (const [group, trainer] of [['optimizer', denoiser], ['aeoptimizer', autoencoder]] as const) {
      if (trainer == null) continue;
      const state = await readAdamState(trainer.optimizer);
      owned.push(...state.owned);
      for (const [name, t] of state.tensors) extras.set(`${group}/${name}`, t);
    }
    const resume: TrainingResume = {
      stage: parts.stage,
      config: { ...parts.config },
      offsets: { ...offsets },
      denoiser: denoiser ? denoiser.getState() : null,
      autoencoderStep: autoencoder ? autoencoder.step : null,
    };
    const info: SavedModelInfo = {
      setup: parts.setup,
      latent: model.latent,
      autoencoderSteps: offsets.autoencoder + (autoencoder?.step ?? 0),
      denoiserSteps: offsets.denoiser + (denoiser?.step ?? 0),
      history: { stage: parts.history.stage, steps: [...parts.history.steps], losses: [...parts.history.losses] },
      resume,
    };
    return await saveModel(model, info, extras);
  } finally {
    tf.dispose(owned);
  }
}

/**
 * Puts a checkpoint's optimizer moments and trainer states into the trainers (created by the
 * caller from `resume.config`). Weights are the caller's business (loadModel or assignInto).
 */
export async function restoreTrainers(parts: Pick<TrainingParts, 'model' | 'denoiser' | 'autoencoder'>, resume: TrainingResume, tensors: Map<string, tf.Tensor>): Promise<void> {
  const { model, denoiser, autoencoder } = parts;
  if (denoiser) {
    const adam = extraTensors(tensors, 'optimizer');
    if (adam.size > 0) await writeAdamState(denoiser.optimizer, [...model.denoiser.weights.values()], adam);
    if (resume.denoiser) denoiser.setState(resume.denoiser);
  }
  if (autoencoder && model.autoencoder) {
    const adam = extraTensors(tensors, 'aeoptimizer');
    if (adam.size > 0) await writeAdamState(autoencoder.optimizer, [...model.autoencoder.weights.values()], adam);
    autoencoder.step = resume.autoencoderStep ?? 0;
  }
}

/**
 * Rolls the live model back to `artifacts` (a checkpoint this session wrote): weights, EMA,
 * autoencoder, latent normalization. Returns the file's metadata; the caller restores the trainers
 * with the returned tensors and then disposes them.
 */
export function assignCheckpointWeights(model: DiffusionModel, artifacts: WeightsArtifacts): { info: SavedModelInfo; tensors: Map<string, tf.Tensor> } {
  const loaded = loadWeights(artifacts.modelJson, artifacts.weightsBin, { kind: MODEL_KIND, extraGroups: ['ema', 'autoencoder', ...OPTIMIZER_GROUPS] });
  try {
    const info = loaded.meta.extra as SavedModelInfo;
    assignWeights(model.denoiser.weights, new Map([...loaded.tensors].filter(([n]) => isModelTensorName(n))));
    if (model.ema) assignWeights(model.ema.shadow, extraTensors(loaded.tensors, 'ema'));
    if (model.autoencoder) assignWeights(model.autoencoder.weights, extraTensors(loaded.tensors, 'autoencoder'));
    model.latent = info.latent;
    return { info, tensors: loaded.tensors };
  } catch (err) {
    for (const t of loaded.tensors.values()) t.dispose();
    throw err;
  }
}

/** Checks a checkpoint's optimizer groups against `model` before anything is replaced (throws on a mismatch). */
export async function checkTrainingTensors(model: DiffusionModel, tensors: Map<string, tf.Tensor>): Promise<void> {
  const adam = extraTensors(tensors, 'optimizer');
  if (adam.size > 0) await checkAdamState([...model.denoiser.weights.values()], adam);
  const ae = extraTensors(tensors, 'aeoptimizer');
  if (ae.size > 0) {
    if (model.autoencoder == null) throw new Error('optimizer state: a pixel model has no autoencoder optimizer.');
    await checkAdamState([...model.autoencoder.weights.values()], ae);
  }
}
