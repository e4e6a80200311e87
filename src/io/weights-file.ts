/**
 * The weights file format: TensorFlow.js model artifacts, `model.json` (JSON) + `weights.bin` (raw little-endian
 * float32 values of every tensor, concatenated in manifest order), written with `tf.io.encodeWeights`
 * and read with `tf.io.decodeWeights`. Works the same in the browser and in Node (see
 * ./weights-file-node.ts for reading and writing a directory).
 *
 * model.json:
 *   {
 *     "format": "diffusion-playground",
 *     "generatedBy": "diffusion-playground model file v1",
 *     "modelTopology": null,                      // not a tf.layers / graph model
 *     "weightsManifest": [{ "paths": ["weights.bin"], "weights": [{ "name", "shape", "dtype": "float32" }, ...] }],
 *     "userDefinedMetadata": {
 *       "format": "diffusion-playground", "version": 1,
 *       "kind": "unet" | "autoencoder" | ...,     // which builder `config` is for
 *       "config": { ... },                        // the model's full configuration (e.g. a UNetConfig)
 *       "extra": { ... }                          // optional: step, schedule, anything JSON
 *     }
 *   }
 * A saved model says how to rebuild it: `create<kind>(meta.config, anySeed)`, then `assignWeights`.
 *
 * Extra tensors. A tensor name containing '/' is an auxiliary tensor, grouped by the part before the
 * first '/': 'optimizer/…' (Adam's moments and step), 'ema/…' (EMA shadow weights), etc. Model
 * weight names never contain '/'. Put extras into the same map given to `saveWeights`; on load,
 * `expected.shapes` constrains only the model names, `expected.extraGroups` (when given) lists the
 * allowed groups, `assignWeights` ignores extras, and `extraTensors(tensors, 'optimizer')` picks a group.
 *
 * Loading validates everything before it creates a single tensor, and names the problem: format and
 * version, kind, manifest structure, tensor names / shapes / dtypes (float32 only), the exact byte
 * length of weights.bin, and that every value is finite. On error no tensor is left allocated.
 */
import * as tf from '@tensorflow/tfjs';

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

function fail(message: string): never {
  throw new Error(`model file: ${message}`);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
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

/** Checks that `value` survives JSON exactly: no undefined, functions, NaN/Infinity, cycles, class instances. */
function checkJson(value: unknown, path: string, ancestors: Set<object> = new Set()): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(`${path} is ${value}, which JSON cannot hold.`);
    return;
  }
  if (typeof value !== 'object') fail(`${path} is ${describe(value)}, which JSON cannot hold.`);
  if (ancestors.has(value)) fail(`${path} is a cycle.`);
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    fail(`${path} is not a plain object or array.`);
  }
  ancestors.add(value);
  if (Array.isArray(value)) value.forEach((v, i) => checkJson(v, `${path}[${i}]`, ancestors));
  else for (const [k, v] of Object.entries(value)) checkJson(v, `${path}.${k}`, ancestors);
  ancestors.delete(value);
}

function checkMetaForSave(meta: WeightsMeta): void {
  if (!isPlainObject(meta)) fail('meta must be an object.');
  if (meta.format !== WEIGHTS_FORMAT) fail(`meta.format must be '${WEIGHTS_FORMAT}', got ${describe(meta.format)}.`);
  if (meta.version !== WEIGHTS_VERSION) fail(`meta.version must be ${WEIGHTS_VERSION}, got ${describe(meta.version)}.`);
  if (typeof meta.kind !== 'string' || meta.kind === '') fail(`meta.kind must be a non-empty string, got ${describe(meta.kind)}.`);
  if (meta.config === undefined) fail('meta.config is missing: a model file must say how to rebuild its model.');
  checkJson(meta.config, 'meta.config');
  if (meta.extra !== undefined) checkJson(meta.extra, 'meta.extra');
}

/** Index and value of the first non-finite float in `values`, or null. */
function firstNonFinite(values: Float32Array): number | null {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i; // NaN or ±Infinity
  }
  return null;
}

/**
 * Encodes float32 tensors (model weights, plus any 'group/…' extras) and `meta` as model.json +
 * weights.bin. Rejects non-float32 tensors, non-finite values and meta that JSON cannot hold exactly.
 * Does not dispose or change the tensors.
 */
export async function saveWeights(weights: Map<string, tf.Tensor>, meta: WeightsMeta): Promise<WeightsArtifacts> {
  checkMetaForSave(meta);
  const named: { name: string; tensor: tf.Tensor }[] = [];
  for (const [name, tensor] of weights) {
    if (typeof name !== 'string' || name === '') fail(`tensor names must be non-empty strings, got ${describe(name)}.`);
    if (name.startsWith('/') || name.endsWith('/')) fail(`tensor name '${name}' must not start or end with '/'.`);
    if (tensor.isDisposed) fail(`tensor '${name}' is disposed.`);
    if (tensor.dtype !== 'float32') fail(`tensor '${name}' has dtype ${tensor.dtype}; model files hold float32 only.`);
    named.push({ name, tensor });
  }
  const { data, specs } = await tf.io.encodeWeights(named);
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const bad = firstNonFinite(new Float32Array(data, offset, size));
    if (bad != null) {
      fail(`tensor '${spec.name}' has a non-finite value at flat index ${bad}; refusing to save a model file that cannot be loaded.`);
    }
    offset += 4 * size;
  }
  if (offset !== data.byteLength) fail(`internal: encoded ${data.byteLength} bytes for ${offset} bytes of tensors.`);
  const { format, version, kind, config, extra } = meta;
  const userDefinedMetadata: WeightsMeta = { format, version, kind, config: structuredClone(config) };
  if (extra !== undefined) userDefinedMetadata.extra = structuredClone(extra);
  return {
    modelJson: {
      format: WEIGHTS_FORMAT,
      generatedBy: `${WEIGHTS_FORMAT} model file v${WEIGHTS_VERSION}`,
      modelTopology: null,
      weightsManifest: [
        { paths: [WEIGHTS_FILE], weights: specs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: 'float32' as const })) },
      ],
      userDefinedMetadata,
    },
    weightsBin: data,
  };
}

function parseMeta(json: Record<string, unknown>, expected: LoadExpectations): WeightsMeta {
  if (json.format !== WEIGHTS_FORMAT) {
    fail(`model.json "format" must be '${WEIGHTS_FORMAT}', got ${describe(json.format)}; this is not a diffusion-playground model file.`);
  }
  const m = json.userDefinedMetadata;
  if (!isPlainObject(m)) fail(`model.json "userDefinedMetadata" must be an object, got ${describe(m)}.`);
  if (m.format !== WEIGHTS_FORMAT) fail(`userDefinedMetadata.format must be '${WEIGHTS_FORMAT}', got ${describe(m.format)}.`);
  if (m.version !== WEIGHTS_VERSION) {
    fail(`unsupported model file version ${describe(m.version)}; this build reads version ${WEIGHTS_VERSION}.`);
  }
  if (typeof m.kind !== 'string' || m.kind === '') fail(`userDefinedMetadata.kind must be a non-empty string, got ${describe(m.kind)}.`);
  if (expected.kind !== undefined && m.kind !== expected.kind) {
    fail(`this model file holds a '${m.kind}' model, expected '${expected.kind}'.`);
  }
  if (!('config' in m) || m.config === undefined) fail('userDefinedMetadata.config is missing: cannot tell how to rebuild the model.');
  const meta: WeightsMeta = { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: m.kind, config: m.config };
  if (m.extra !== undefined) meta.extra = m.extra;
  return meta;
}

const MAX_RANK = 8;

function parseSpecs(json: Record<string, unknown>): WeightSpec[] {
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) fail(`model.json "weightsManifest" must be an array, got ${manifest === undefined ? 'nothing (missing)' : describe(manifest)}.`);
  if (manifest.length !== 1) fail(`weightsManifest must have exactly one group (one ${WEIGHTS_FILE}), got ${manifest.length}.`);
  const group = manifest[0];
  if (!isPlainObject(group)) fail(`weightsManifest[0] must be an object, got ${describe(group)}.`);
  const paths = group.paths;
  if (!Array.isArray(paths) || paths.length !== 1 || paths[0] !== WEIGHTS_FILE) {
    fail(`weightsManifest[0].paths must be ["${WEIGHTS_FILE}"], got ${JSON.stringify(paths) ?? 'nothing'}.`);
  }
  const entries = group.weights;
  if (!Array.isArray(entries)) fail(`weightsManifest[0].weights must be an array, got ${entries === undefined ? 'nothing (missing)' : describe(entries)}.`);
  const seen = new Set<string>();
  return entries.map((e: unknown, i: number): WeightSpec => {
    const where = `weightsManifest[0].weights[${i}]`;
    if (!isPlainObject(e)) fail(`${where} must be an object, got ${describe(e)}.`);
    const { name, shape, dtype } = e;
    if (typeof name !== 'string' || name === '') fail(`${where}.name must be a non-empty string, got ${describe(name)}.`);
    if (seen.has(name)) fail(`tensor '${name}' appears twice in the manifest.`);
    seen.add(name);
    if ('quantization' in e) fail(`tensor '${name}' is quantized; model files hold plain float32 only.`);
    if (dtype !== 'float32') fail(`tensor '${name}' has dtype ${describe(dtype)}; model files hold float32 only.`);
    if (!Array.isArray(shape) || shape.length > MAX_RANK) {
      fail(`tensor '${name}' has shape ${JSON.stringify(shape) ?? 'nothing'}; expected an array of at most ${MAX_RANK} dimensions.`);
    }
    let size = 1;
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail(`tensor '${name}' has shape ${JSON.stringify(shape)}; dimensions must be non-negative integers.`);
      }
      size *= d;
      if (!Number.isSafeInteger(size * 4)) fail(`tensor '${name}' with shape ${JSON.stringify(shape)} is impossibly large.`);
    }
    return { name, shape: [...(shape as number[])], dtype: 'float32' };
  });
}

function checkExpectedNames(specs: WeightSpec[], expected: LoadExpectations): void {
  if (expected.extraGroups !== undefined) {
    for (const s of specs) {
      const g = extraGroupOf(s.name);
      if (g != null && !expected.extraGroups.includes(g)) {
        fail(`unexpected extra tensor '${s.name}': group '${g}' is not one of [${expected.extraGroups.join(', ')}].`);
      }
    }
  }
  const shapes = expected.shapes;
  if (shapes === undefined) return;
  const inFile = new Map(specs.filter((s) => isModelTensorName(s.name)).map((s) => [s.name, s.shape]));
  const missing = [...shapes.keys()].filter((n) => !inFile.has(n));
  if (missing.length > 0) fail(`missing tensor${missing.length > 1 ? 's' : ''} ${list(missing)} (the model has ${shapes.size} weights, the file ${inFile.size}).`);
  const unexpected = [...inFile.keys()].filter((n) => !shapes.has(n));
  if (unexpected.length > 0) fail(`unexpected tensor${unexpected.length > 1 ? 's' : ''} ${list(unexpected)} that the model does not have.`);
  for (const [name, shape] of shapes) {
    const got = inFile.get(name) as number[];
    if (!tf.util.arraysEqual(got, [...shape])) fail(`tensor '${name}' has shape [${got}] in the file but the model expects [${shape}].`);
  }
}

function list(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

function toArrayBuffer(bin: unknown): ArrayBuffer {
  if (bin instanceof ArrayBuffer || Object.prototype.toString.call(bin) === '[object ArrayBuffer]') return bin as ArrayBuffer;
  if (ArrayBuffer.isView(bin)) {
    // e.g. a Node Buffer, which may be a window into a larger pooled ArrayBuffer: copy exactly its bytes.
    const copy = new Uint8Array(bin.byteLength);
    copy.set(new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength));
    return copy.buffer;
  }
  fail(`weights.bin must be an ArrayBuffer (or a byte view), got ${describe(bin)}.`);
}

/**
 * Validates model.json (an object, or its text) and weights.bin and decodes every tensor. Throws an
 * Error naming the problem, leaving no tensor allocated, unless all is well. The caller owns the tensors.
 */
export function loadWeights(modelJson: unknown, weightsBin: ArrayBuffer | ArrayBufferView, expected: LoadExpectations = {}): LoadedWeights {
  let json: unknown = modelJson;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      fail(`model.json is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
    }
  }
  if (!isPlainObject(json)) fail(`model.json must hold a JSON object, got ${describe(json)}.`);
  const meta = parseMeta(json, expected);
  const specs = parseSpecs(json);
  checkExpectedNames(specs, expected);

  const bin = toArrayBuffer(weightsBin);
  const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const total = 4 * sizes.reduce((a, b) => a + b, 0);
  if (bin.byteLength < total) {
    fail(`weights.bin is truncated: it has ${bin.byteLength} bytes but the manifest describes ${total} (${specs.length} float32 tensors).`);
  }
  if (bin.byteLength > total) {
    fail(`weights.bin is oversize: it has ${bin.byteLength} bytes but the manifest describes only ${total} (${bin.byteLength - total} bytes too many).`);
  }
  let offset = 0;
  specs.forEach((s, i) => {
    const bad = firstNonFinite(new Float32Array(bin, offset, sizes[i]));
    if (bad != null) {
      const v = new Float32Array(bin, offset + 4 * bad, 1)[0];
      fail(`tensor '${s.name}' holds a non-finite value (${v}) at flat index ${bad}.`);
    }
    offset += 4 * sizes[i];
  });

  // Decode under positional names, so no tensor name can clash with Object.prototype keys; tidy
  // disposes whatever was created should decoding still throw.
  const decoded = tf.tidy(() =>
    tf.io.decodeWeights(bin, specs.map((s, i) => ({ name: `t${i}`, shape: s.shape, dtype: 'float32' as const }))),
  );
  const tensors = new Map<string, tf.Tensor>();
  specs.forEach((s, i) => tensors.set(s.name, decoded[`t${i}`]));
  return { meta, tensors };
}

/** Disposes every tensor of a map (e.g. what `loadWeights` returned once assigned). */
export function disposeTensors(tensors: Map<string, tf.Tensor>): void {
  for (const t of tensors.values()) t.dispose();
}

/**
 * Assigns `tensors` (model names only: 'group/…' extras are ignored) into `target`, all or nothing:
 * first checks that both hold exactly the same names with identical shapes and dtypes, then assigns.
 * Does not dispose `tensors` (assign copies on the next write, so disposing them afterwards is safe).
 */
export function assignWeights(target: Map<string, tf.Variable>, tensors: Map<string, tf.Tensor>): void {
  const model = new Map([...tensors].filter(([name]) => isModelTensorName(name)));
  const missing = [...target.keys()].filter((n) => !model.has(n));
  if (missing.length > 0) fail(`cannot assign: missing tensor${missing.length > 1 ? 's' : ''} ${list(missing)}.`);
  const unexpected = [...model.keys()].filter((n) => !target.has(n));
  if (unexpected.length > 0) fail(`cannot assign: unexpected tensor${unexpected.length > 1 ? 's' : ''} ${list(unexpected)} that the model does not have.`);
  for (const [name, v] of target) {
    const t = model.get(name) as tf.Tensor;
    if (t.isDisposed) fail(`cannot assign: tensor '${name}' is disposed.`);
    if (!tf.util.arraysEqual(t.shape, v.shape)) fail(`cannot assign: tensor '${name}' has shape [${t.shape}], the model's weight [${v.shape}].`);
    if (t.dtype !== v.dtype) fail(`cannot assign: tensor '${name}' has dtype ${t.dtype}, the model's weight ${v.dtype}.`);
  }
  for (const [name, v] of target) v.assign(model.get(name) as tf.Tensor);
}
