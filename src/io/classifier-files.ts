/**
 * The evaluation classifier (../models/classifier.ts) as a model file (model.json + weights.bin, ./weights-file.ts),
 * with its training record (steps, held-out accuracy) in the metadata.
 */
import {
  assignWeights,
  WEIGHTS_FORMAT,
  WEIGHTS_VERSION,
  disposeTensors,
  loadWeights,
  saveWeights,
  shapesOf,
  type WeightsArtifacts,
} from './weights-file';
import { createClassifier, type Classifier } from '../models/classifier';

export const CLASSIFIER_KIND = 'mnist-classifier';

export interface ClassifierInfo {
  steps: number;
  /** Accuracy on the held-out split (1,000 digits); -1 when not measured yet. */
  heldOutAccuracy: number;
}

export function saveClassifier(model: Classifier, info: ClassifierInfo): Promise<WeightsArtifacts> {
  return saveWeights(model.weights, { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: CLASSIFIER_KIND, config: { architecture: 'cnn-3conv-128' }, extra: info });
}

/** Rebuilds the classifier from its files; throws an Error that says what is wrong, leaving nothing allocated. */
export function loadClassifier(modelJson: unknown, weightsBin: ArrayBuffer): { model: Classifier; info: ClassifierInfo } {
  const model = createClassifier(0);
  try {
    const loaded = loadWeights(modelJson, weightsBin, { kind: CLASSIFIER_KIND, shapes: shapesOf(model.weights), extraGroups: [] });
    try {
      assignWeights(model.weights, loaded.tensors);
    } finally {
      disposeTensors(loaded.tensors);
    }
    const extra = (loaded.meta.extra ?? {}) as Partial<ClassifierInfo>;
    return { model, info: { steps: Number(extra.steps ?? 0), heldOutAccuracy: Number(extra.heldOutAccuracy ?? -1) } };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
