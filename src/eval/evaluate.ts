/**
 * Scoring generated digits with the evaluation classifier (../models/classifier.ts), the way
 * Inception features score natural images:
 *
 * - mean confidence: the mean over images of the classifier's max softmax probability (do the
 *   samples look like some digit?);
 * - label histogram of the predicted digits and its entropy H = −Σ p_k ln p_k in nats (do they
 *   cover all ten? ln 10 ≈ 2.303 is the most);
 * - Fréchet distance (./frechet.ts) and KID (./kid.ts) between the classifier's 128 penultimate
 *   features of the images and those of the reference set.
 *
 * The sets (fixed, the same on every run; see ../data/mnist.ts for the split):
 * - reference: the 9,000-digit training split (or its first `referenceCount` digits), the data the
 *   models were trained on;
 * - floor: the first N digits of the 1,000-digit held-out split (N = the number of samples, at most
 *   1,000), real digits the models never saw, scored exactly like the samples against the same
 *   reference (same N, same KID subsets). FD and KID grow as N shrinks, so a sample set's figures
 *   mean something only next to the floor's at the same N: "FD within 3× of the floor" is
 *   FD(samples) / FD(floor) ≤ 3.
 */
import * as tf from '@tensorflow/tfjs';
import { PIXEL_TO_UNIT, splitTrainHeldOut, type MnistDataset } from '../data/mnist';
import { CLASSIFIER_CLASSES, CLASSIFIER_FEATURES, type Classifier } from '../models/classifier';
import { featureStats, frechetDistance, type FeatureRows, type FeatureStats } from './frechet';
import { kidAgainst, kidReference, type KidOptions, type KidReference, type KidResult } from './kid';

export const IMAGE_PIXELS = 28 * 28;

/** What the classifier says about one set of images. */
export interface ClassifierScores {
  n: number;
  /** Mean over images of max_k softmax(logits)_k. */
  meanConfidence: number;
  /** How many images the classifier labels as each digit 0..9. */
  histogram: number[];
  /** Entropy of histogram / n, in nats. */
  labelEntropy: number;
  /** The penultimate features, [n, 128]. */
  features: FeatureRows;
}

/** Entropy −Σ p ln p (nats) of a histogram's normalized counts; empty bins count 0. */
export function histogramEntropy(histogram: number[]): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const c of histogram) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

/**
 * Runs the classifier over n uint8 images [n, 28, 28] (pixels p → p/127.5 − 1, as in training), in
 * batches; every tensor is freed per batch, so tf.memory().numTensors is unchanged afterwards.
 * `onBatch(done)` is called after each batch with the images scored so far (for progress); when it
 * returns a promise, that is awaited (a cancel point: a rejection stops the scoring).
 */
export async function scoreImages(
  classifier: Classifier,
  pixels: Uint8Array,
  n: number,
  batch = 250,
  onBatch?: (done: number) => void | Promise<void>,
): Promise<ClassifierScores> {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`scoreImages: n must be an integer ≥ 1, got ${n}.`);
  if (pixels.length < n * IMAGE_PIXELS) throw new Error(`scoreImages: ${n} images need ${n * IMAGE_PIXELS} pixels, got ${pixels.length}.`);
  const features = new Float32Array(n * CLASSIFIER_FEATURES);
  const histogram = new Array<number>(CLASSIFIER_CLASSES).fill(0);
  let confidence = 0;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const input = new Float32Array(b * IMAGE_PIXELS);
    for (let i = 0; i < input.length; i++) input[i] = PIXEL_TO_UNIT[pixels[start * IMAGE_PIXELS + i]];
    const [probs, feats] = tf.tidy(() => {
      const out = classifier.apply(tf.tensor4d(input, [b, 28, 28, 1]));
      return [tf.softmax(out.logits), out.features];
    });
    try {
      const [p, f] = await Promise.all([probs.data(), feats.data()]);
      features.set(f, start * CLASSIFIER_FEATURES);
      for (let i = 0; i < b; i++) {
        let best = 0;
        for (let k = 1; k < CLASSIFIER_CLASSES; k++) if (p[i * CLASSIFIER_CLASSES + k] > p[i * CLASSIFIER_CLASSES + best]) best = k;
        histogram[best]++;
        confidence += p[i * CLASSIFIER_CLASSES + best];
      }
    } finally {
      tf.dispose([probs, feats]);
    }
    await onBatch?.(start + b);
  }
  return { n, meanConfidence: confidence / n, histogram, labelEntropy: histogramEntropy(histogram), features: { n, d: CLASSIFIER_FEATURES, data: features } };
}

/** The reference features, summarised once for FD (μ, Σ) and drawn once for KID. */
export interface EvalReference {
  n: number;
  stats: FeatureStats;
  kid: KidReference;
}

export function makeReference(features: FeatureRows, kid: KidOptions = {}): EvalReference {
  return { n: features.n, stats: featureStats(features), kid: kidReference(features, kid) };
}

/** One row of the evaluation: a set's classifier scores and its distances to the reference. */
export interface SetReport {
  n: number;
  meanConfidence: number;
  histogram: number[];
  labelEntropy: number;
  fd: number;
  kid: KidResult;
}

export function compareToReference(scores: ClassifierScores, reference: EvalReference): SetReport {
  const { n, meanConfidence, histogram, labelEntropy, features } = scores;
  return { n, meanConfidence, histogram, labelEntropy, fd: frechetDistance(featureStats(features), reference.stats), kid: kidAgainst(features, reference.kid) };
}

/** The real digits of the evaluation, as uint8 images [n, 28, 28]. */
export interface RealDigits {
  /** Training split (first `count` of it, in index order). */
  reference: { n: number; pixels: Uint8Array };
  /** First `floorCount` of the held-out split (at most 1,000), in index order. */
  floor: { n: number; pixels: Uint8Array };
}

function gatherImages(dataset: MnistDataset, indices: ArrayLike<number>, count: number): Uint8Array {
  const out = new Uint8Array(count * IMAGE_PIXELS);
  for (let i = 0; i < count; i++) out.set(dataset.images.subarray(indices[i] * IMAGE_PIXELS, (indices[i] + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
  return out;
}

export function realDigits(dataset: MnistDataset, floorCount: number, referenceCount = Infinity): RealDigits {
  if (dataset.height * dataset.width !== IMAGE_PIXELS) throw new Error(`evaluation expects 28×28 digits, got ${dataset.height}×${dataset.width}.`);
  const { train, heldOut } = splitTrainHeldOut(dataset);
  const f = Math.min(floorCount, heldOut.length);
  const r = Math.min(referenceCount, train.length);
  if (!(f >= 2 && r >= 2)) throw new Error(`evaluation needs at least 2 floor and 2 reference digits, got ${f} and ${r}.`);
  return { reference: { n: r, pixels: gatherImages(dataset, train, r) }, floor: { n: f, pixels: gatherImages(dataset, heldOut, f) } };
}

export interface EvalOptions {
  /** Digits of the training split in the reference (default: all 9,000). */
  referenceCount?: number;
  kid?: KidOptions;
  /** Called before each phase, for progress messages. */
  onPhase?: (phase: 'reference' | 'floor' | 'samples', n: number) => void;
}

export interface EvalReport {
  reference: { split: 'train'; n: number };
  /** null with `samples` null (score the real digits only). */
  samples: SetReport | null;
  floor: SetReport;
  /** FD(samples) / FD(floor), or null without samples. */
  fdRatio: number | null;
}

/**
 * Scores n sample images (uint8 [n, 28, 28]; null for the floor alone, with `floorCount` digits)
 * and the held-out floor at the same N, both against the training-split reference.
 */
export async function evaluate(
  classifier: Classifier,
  dataset: MnistDataset,
  samples: { n: number; pixels: Uint8Array } | null,
  floorCount: number,
  options: EvalOptions = {},
): Promise<EvalReport> {
  const real = realDigits(dataset, samples ? Math.min(samples.n, floorCount) : floorCount, options.referenceCount);
  options.onPhase?.('reference', real.reference.n);
  const reference = makeReference((await scoreImages(classifier, real.reference.pixels, real.reference.n)).features, options.kid);
  options.onPhase?.('floor', real.floor.n);
  const floor = compareToReference(await scoreImages(classifier, real.floor.pixels, real.floor.n), reference);
  let report: SetReport | null = null;
  if (samples) {
    options.onPhase?.('samples', samples.n);
    report = compareToReference(await scoreImages(classifier, samples.pixels, samples.n), reference);
  }
  return { reference: { split: 'train', n: reference.n }, samples: report, floor, fdRatio: report ? report.fd / floor.fd : null };
}
