/** Reading a model.json: its metadata and tensor manifest, checked field by field before any tensor exists. */
import { MAX_TENSORS, MAX_WEIGHTS_BYTES } from '../models/setup/file-limits';
import { describe, extraGroupOf, fail, isModelTensorName, isPlainObject, WEIGHTS_FILE, WEIGHTS_FORMAT, WEIGHTS_VERSION, type LoadExpectations, type WeightSpec, type WeightsMeta } from './weights-format';

export function parseMeta(json: Record<string, unknown>, expected: LoadExpectations): WeightsMeta {
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

export function parseSpecs(json: Record<string, unknown>): WeightSpec[] {
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
  if (entries.length > MAX_TENSORS) fail(`the manifest lists ${entries.length.toLocaleString('en')} tensors; a model of this app has at most ${MAX_TENSORS.toLocaleString('en')}.`);
  const seen = new Set<string>();
  let totalBytes = 0;
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
    totalBytes += size * 4;
    if (totalBytes > MAX_WEIGHTS_BYTES) fail(`the manifest's tensors need more than ${MAX_WEIGHTS_BYTES / 1024 / 1024} MB (at '${name}', shape ${JSON.stringify(shape)}); a model of this app is far smaller.`);
    return { name, shape: [...(shape as number[])], dtype: 'float32' };
  });
}

export function checkExpectedNames(specs: WeightSpec[], expected: LoadExpectations): void {
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
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) fail(`tensor '${name}' has shape [${got}] in the file but the model expects [${shape}].`);
  }
}

export function list(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

export function toArrayBuffer(bin: unknown): ArrayBuffer {
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
