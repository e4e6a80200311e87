/**
 * The weights file format's vocabulary: its constants and types, the names of extra tensor groups,
 * and the error every check of it throws (prefixed "model file: ").
 */
import type * as tf from '@tensorflow/tfjs';

export const WEIGHTS_FORMAT = 'diffusion-playground';
export const WEIGHTS_VERSION = 1;
export const WEIGHTS_FILE = 'weights.bin';
export const MODEL_FILE = 'model.json';

export interface WeightsMeta {
  format: typeof WEIGHTS_FORMAT;
  version: typeof WEIGHTS_VERSION;
  /** Which model builder `config` belongs to: 'unet', 'autoencoder', ... */
  kind: string;
  /** The model's full configuration (JSON: finite numbers, strings, booleans, null, arrays, objects). */
  config: unknown;
  /** Anything else worth keeping (JSON), e.g. { step, schedule }. */
  extra?: unknown;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface WeightsModelJson {
  format: typeof WEIGHTS_FORMAT;
  generatedBy: string;
  modelTopology: null;
  weightsManifest: [{ paths: [typeof WEIGHTS_FILE]; weights: WeightSpec[] }];
  userDefinedMetadata: WeightsMeta;
}

export interface WeightsArtifacts {
  modelJson: WeightsModelJson;
  weightsBin: ArrayBuffer;
}

export interface LoadExpectations {
  /** Reject a model file of another kind. */
  kind?: string;
  /** Exactly these model tensors (names without '/') with these shapes; see {@link shapesOf}. */
  shapes?: Map<string, readonly number[]>;
  /** When given, extra tensors ('group/…') may only come from these groups (e.g. ['optimizer']). */
  extraGroups?: string[];
}

export interface LoadedWeights {
  meta: WeightsMeta;
  /** Every tensor in manifest order; the caller owns (and disposes) them. */
  tensors: Map<string, tf.Tensor>;
}


export function fail(message: string): never {
  throw new Error(`model file: ${message}`);
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function describe(x: unknown): string {
  if (x === undefined) return 'undefined (missing)';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  if (typeof x === 'object') return 'an object';
  return `${typeof x} ${String(x)}`;
}

/** True for a model weight name, false for an extra ('group/…') tensor. */
export function isModelTensorName(name: string): boolean {
  return !name.includes('/');
}

/** The group of an extra tensor name ('optimizer' for 'optimizer/adam/m/x'), or null for a model name. */
export function extraGroupOf(name: string): string | null {
  const i = name.indexOf('/');
  return i < 0 ? null : name.slice(0, i);
}

/** The tensors of one extra group, by their names without the 'group/' prefix (same tensor objects). */
export function extraTensors<T extends tf.Tensor>(tensors: Map<string, T>, group: string): Map<string, T> {
  const out = new Map<string, T>();
  const prefix = `${group}/`;
  for (const [name, t] of tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), t);
  return out;
}

/** Prefixes every name with 'group/' (e.g. to save EMA shadows or optimizer state alongside a model). */
export function withGroup<T extends tf.Tensor>(tensors: Map<string, T>, group: string): Map<string, T> {
  if (group === '' || group.includes('/')) fail(`an extra group name must be non-empty and free of '/', got ${JSON.stringify(group)}.`);
  const out = new Map<string, T>();
  for (const [name, t] of tensors) out.set(`${group}/${name}`, t);
  return out;
}

/** name → shape of a model's weights, for `loadWeights(..., { shapes })`. */
export function shapesOf(weights: Map<string, { shape: number[] }>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [name, w] of weights) out.set(name, [...w.shape]);
  return out;
}
