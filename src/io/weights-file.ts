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
import { describe, fail, isModelTensorName, isPlainObject, WEIGHTS_FILE, WEIGHTS_FORMAT, WEIGHTS_VERSION, type LoadExpectations, type LoadedWeights, type WeightsArtifacts, type WeightsMeta } from './weights-format';
import { checkExpectedNames, list, parseMeta, parseSpecs, toArrayBuffer } from './weights-parse';

export * from './weights-format';

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
