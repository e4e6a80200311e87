/**
 * The evaluation classifier: a small CNN for 28x28 MNIST digits whose max-softmax confidence,
 * label histogram and penultimate features score generated samples (confidence, label entropy,
 * Fréchet distance and KID, as Inception features do for FID on natural images).
 *
 *   conv 3x3 (1 → 32) + ReLU @28 → conv 3x3 stride 2 (32 → 64) + ReLU @14
 *   → conv 3x3 stride 2 (64 → 64) + ReLU @7 → flatten → dense 3136 → 128 + ReLU (the features)
 *   → dense 128 → 10 (logits)
 *
 * Weights are named variables (like the U-Net's), so the classifier saves and loads through the
 * same checkpoint format. Input images are in [-1, 1], layout [b, 28, 28, 1].
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, dense, initWeightValues } from './layers';
import type { UNetInit } from './setup/unet-config';

export const CLASSIFIER_FEATURES = 128;
export const CLASSIFIER_CLASSES = 10;

interface ClassifierWeightSpec {
  name: string;
  shape: number[];
  init: UNetInit;
}

export const CLASSIFIER_LAYOUT: readonly ClassifierWeightSpec[] = [
  { name: 'conv1.w', shape: [3, 3, 1, 32], init: 'glorot' },
  { name: 'conv1.b', shape: [32], init: 'zeros' },
  { name: 'conv2.w', shape: [3, 3, 32, 64], init: 'glorot' },
  { name: 'conv2.b', shape: [64], init: 'zeros' },
  { name: 'conv3.w', shape: [3, 3, 64, 64], init: 'glorot' },
  { name: 'conv3.b', shape: [64], init: 'zeros' },
  { name: 'fc.w', shape: [7 * 7 * 64, CLASSIFIER_FEATURES], init: 'glorot' },
  { name: 'fc.b', shape: [CLASSIFIER_FEATURES], init: 'zeros' },
  { name: 'out.w', shape: [CLASSIFIER_FEATURES, CLASSIFIER_CLASSES], init: 'glorot' },
  { name: 'out.b', shape: [CLASSIFIER_CLASSES], init: 'zeros' },
];

export interface ClassifierOutput {
  /** [b, 10] logits. */
  logits: tf.Tensor2D;
  /** [b, 128] penultimate (post-ReLU) features, for Fréchet distance and KID. */
  features: tf.Tensor2D;
}

export interface Classifier {
  readonly weights: Map<string, tf.Variable>;
  apply(x: tf.Tensor4D): ClassifierOutput;
  dispose(): void;
}

export function classifierParamCount(): number {
  return CLASSIFIER_LAYOUT.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

export function createClassifier(seed: number): Classifier {
  const weights = new Map<string, tf.Variable>();
  for (const spec of CLASSIFIER_LAYOUT) {
    const init = tf.tensor(initWeightValues(spec, seed), spec.shape, 'float32');
    weights.set(spec.name, tf.variable(init, true, undefined, 'float32'));
    init.dispose();
  }
  const w = (name: string) => weights.get(name) as tf.Variable;
  return {
    weights,
    apply(x) {
      const [b, h, wd, c] = x.shape;
      if (h !== 28 || wd !== 28 || c !== 1) throw new Error(`classifier: input must be [b, 28, 28, 1], got [${x.shape.join(', ')}].`);
      return tf.tidy(() => {
        let y = tf.relu(conv2d(x, w('conv1.w'), w('conv1.b')));
        y = tf.relu(conv2d(y, w('conv2.w'), w('conv2.b'), 2));
        y = tf.relu(conv2d(y, w('conv3.w'), w('conv3.b'), 2));
        const features = tf.relu(dense(tf.reshape(y, [b, 7 * 7 * 64]), w('fc.w'), w('fc.b')));
        const logits = dense(features, w('out.w'), w('out.b'));
        return { logits, features };
      });
    },
    dispose() {
      for (const v of weights.values()) v.dispose();
      weights.clear();
    },
  };
}

/** One Adam step of softmax cross-entropy; returns the mean loss (caller disposes). */
export function classifierTrainStep(model: Classifier, optimizer: tf.Optimizer, x: tf.Tensor4D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    // oneHot as int32 then cast: the wasm backend's float32 oneHot returns int32 bit patterns.
    const target = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSIFIER_CLASSES), 'float32');
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = model.apply(x);
      return tf.losses.softmaxCrossEntropy(target, logits) as tf.Scalar;
    }, [...model.weights.values()]);
    optimizer.applyGradients(grads);
    return value;
  });
}
