/**
 * Where a model comes from besides training: an imported model file, a training checkpoint (resume
 * after a reload or a crash) and the site's pretrained models. Each is validated in full before a
 * model is built; on any problem nothing is left allocated and the engine's model is untouched.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelFile } from '../io/model-file';
import type { PretrainedInfo } from '../io/pretrained-info';
import { loadModel, readModelFiles, type SavedModelInfo } from '../io/model-files';
import { PretrainedError, pretrainedInfoOf, readPretrainedFiles, type PretrainedReader } from '../io/pretrained';
import type { TrainingResume } from '../io/training-state';
import type { DiffusionModel } from '../models/diffusion-model';
import type { ModelKind } from '../models/setup/model-setup';
import { checkTrainingTensors } from './training-checkpoint';
import { Throttle } from './throttle';

/** Download progress of a pretrained model is reported at most this often per second. */
const PRETRAINED_PROGRESS_PER_SECOND = 10;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** An imported model (Model files → Import): model.json + weights.bin, checked before it is built. */
export function readModel(files: ModelFile[]): { model: DiffusionModel; info: SavedModelInfo } {
  const { modelJson, weightsBin } = readModelFiles(files);
  return loadModel(modelJson, weightsBin);
}

export interface TrainingCheckpoint {
  model: DiffusionModel;
  info: SavedModelInfo;
  /** Adam's moments and the other extras; the caller disposes them once the trainers have them. */
  extras: Map<string, tf.Tensor>;
  resume: TrainingResume;
}

/** A training checkpoint: a model file that also carries the run's state and the optimizers' moments. */
export async function readTrainingCheckpoint(files: ModelFile[]): Promise<TrainingCheckpoint> {
  const { modelJson, weightsBin } = readModelFiles(files);
  const { model, info, extras } = loadModel(modelJson, weightsBin, { keepExtras: true });
  try {
    const resume = info.resume;
    if (resume == null) throw new Error('This file is a model, not a training checkpoint: import it under Model files instead.');
    await checkTrainingTensors(model, extras).catch((err: unknown) => {
      throw new Error(`model file: ${messageOf(err)}`, { cause: err });
    });
    return { model, info, extras, resume };
  } catch (err) {
    model.dispose();
    for (const t of extras.values()) t.dispose();
    throw err;
  }
}

/**
 * The pretrained model of `kind` (models/<kind>/ on the site), through the same checks as an import.
 * Missing or damaged files throw a PretrainedError that says which; progress is throttled.
 */
export async function readPretrainedModel(
  read: PretrainedReader | undefined,
  kind: ModelKind,
  onProgress: (loaded: number, total: number | null, bytesPerSec: number | null) => void,
): Promise<{ model: DiffusionModel; info: SavedModelInfo; pretrained: PretrainedInfo }> {
  if (read == null) throw new PretrainedError('This engine cannot fetch pretrained models.', 'unreadable');
  const throttle = new Throttle(PRETRAINED_PROGRESS_PER_SECOND);
  onProgress(0, null, null);
  const started = performance.now();
  const files = await readPretrainedFiles(read, kind, (loaded, total) => {
    const seconds = (performance.now() - started) / 1000;
    if (throttle.ready(total !== null && loaded >= total)) onProgress(loaded, total, seconds > 0.2 ? loaded / seconds : null);
  });
  let loaded: ReturnType<typeof loadModel>;
  try {
    loaded = loadModel(files.modelJson, files.weightsBin);
  } catch (err) {
    throw new PretrainedError(`The pretrained ${kind} model is damaged: ${messageOf(err)}`, 'damaged', { cause: err });
  }
  const { model, info } = loaded;
  if (info.setup.kind !== kind) {
    model.dispose();
    throw new PretrainedError(`The pretrained ${kind} model is damaged: its model.json holds a ${info.setup.kind} model.`, 'damaged');
  }
  return { model, info, pretrained: pretrainedInfoOf(kind, info, files.manifest, files.bytes) };
}
