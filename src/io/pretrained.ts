/**
 * The pretrained models the app starts with (written by `npm run pretrain` into public/models/,
 * served at `<base>models/<kind>/`): model.json + weights.bin, the same files Export writes, and
 * manifest.json, how they were trained. The files are read through a `PretrainedReader` (fetch in
 * the worker, a directory in Node) and validated exactly like an imported model (./model-files.ts).
 */
import { PRETRAINED_MANIFEST_FILE, PRETRAINED_MODELS_PATH, type PretrainedInfo } from './pretrained-info';
import type { ModelKind } from '../models/setup/model-setup';
import { MODEL_FILE, WEIGHTS_FILE } from './weights-file';
import type { SavedModelInfo } from './model-files';


/** Bytes read so far and in all (null when unknown). */
export type ReadProgress = (loaded: number, total: number | null) => void;

/**
 * Reads one file of the pretrained models, by its path under the models folder ('pixel/model.json').
 * Resolves null when the file does not exist; rejects with an Error that says why on other failures.
 */
export type PretrainedReader = (path: string, onProgress?: ReadProgress) => Promise<ArrayBuffer | null>;

/** The models folder's URL: Vite's BASE_URL (page and worker bundles) + models/, else "/models/". */
export function defaultModelsUrl(): string {
  // import.meta.env exists only under Vite; guard for plain ESM (Node).
  const base: string = import.meta.env?.BASE_URL ?? '/';
  return `${base.endsWith('/') ? base : `${base}/`}${PRETRAINED_MODELS_PATH}`;
}

/** Reads a response body in chunks, reporting progress (fetch gives no progress otherwise). */
async function readBody(response: Response, onProgress?: ReadProgress): Promise<ArrayBuffer> {
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  if (response.body == null || onProgress == null) return response.arrayBuffer();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out.buffer;
}

/**
 * Reads files over HTTP from the same origin (the worker's fetch). A 404, or an HTML page where a
 * file should be (a dev server's fallback page for a path it does not have), counts as missing.
 */
export function fetchReader(baseUrl: string = defaultModelsUrl()): PretrainedReader {
  return async (path, onProgress) => {
    const url = `${baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new Error(`${url} could not be fetched (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
    if (response.status === 404 || response.status === 410) return null;
    if (!response.ok) throw new Error(`${url} could not be fetched (HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''})`);
    if ((response.headers.get('content-type') ?? '').includes('text/html')) return null;
    try {
      return await readBody(response, onProgress);
    } catch (err) {
      throw new Error(`${url} could not be read (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  };
}

/** A pretrained model's files, read but not yet validated (loadModel does that). */
export interface PretrainedFiles {
  modelJson: unknown;
  weightsBin: ArrayBuffer;
  manifest: Record<string, unknown> | null;
  bytes: number;
}

/** Why a pretrained model could not be loaded: its files are not there, or they are damaged. */
export class PretrainedError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing' | 'damaged' | 'unreadable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PretrainedError';
  }
}

const HOW_TO_MAKE = 'run `npm run pretrain` to make it';

function parseJson(bytes: ArrayBuffer, what: string, kind: ModelKind): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new PretrainedError(`The pretrained ${kind} model is damaged: its ${what} is not valid JSON.`, 'damaged', { cause: err });
  }
}

/**
 * Reads models/<kind>/manifest.json (optional), model.json and weights.bin. Throws a
 * PretrainedError that says which file is missing or unreadable.
 */
export async function readPretrainedFiles(read: PretrainedReader, kind: ModelKind, onProgress?: ReadProgress): Promise<PretrainedFiles> {
  const get = async (file: string, progress?: ReadProgress): Promise<ArrayBuffer | null> => {
    try {
      return await read(`${kind}/${file}`, progress);
    } catch (err) {
      throw new PretrainedError(`The pretrained ${kind} model could not be loaded: ${err instanceof Error ? err.message : String(err)}.`, 'unreadable', { cause: err });
    }
  };
  const manifestBytes = await get(PRETRAINED_MANIFEST_FILE);
  const jsonBytes = await get(MODEL_FILE);
  if (jsonBytes == null) {
    throw new PretrainedError(`There is no pretrained ${kind} model yet (${PRETRAINED_MODELS_PATH}${kind}/${MODEL_FILE} is missing): ${HOW_TO_MAKE}.`, 'missing');
  }
  const modelJson = parseJson(jsonBytes, MODEL_FILE, kind);
  const weightsBin = await get(WEIGHTS_FILE, onProgress ? (loaded, total) => onProgress(jsonBytes.byteLength + loaded, total == null ? null : jsonBytes.byteLength + total) : undefined);
  if (weightsBin == null) {
    throw new PretrainedError(`The pretrained ${kind} model is incomplete (${PRETRAINED_MODELS_PATH}${kind}/${WEIGHTS_FILE} is missing): ${HOW_TO_MAKE}.`, 'missing');
  }
  let manifest: Record<string, unknown> | null = null;
  if (manifestBytes != null) {
    const parsed = parseJson(manifestBytes, PRETRAINED_MANIFEST_FILE, kind);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PretrainedError(`The pretrained ${kind} model is damaged: its ${PRETRAINED_MANIFEST_FILE} is not a JSON object.`, 'damaged');
    }
    manifest = parsed as Record<string, unknown>;
    if (manifest.kind != null && manifest.kind !== kind) {
      throw new PretrainedError(`The pretrained ${kind} model is damaged: its ${PRETRAINED_MANIFEST_FILE} describes a ${String(manifest.kind)} model.`, 'damaged');
    }
  }
  return { modelJson, weightsBin, manifest, bytes: jsonBytes.byteLength + weightsBin.byteLength };
}

const finiteOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const stringOrNull = (x: unknown): string | null => (typeof x === 'string' && x.trim() !== '' ? x : null);

/**
 * The evaluation to show: `npm run eval -- --record` keeps a list of runs in the manifest (sampler,
 * guidance, N, the samples' and the floor's figures); the headline is DDIM-50 at the largest N (of
 * several such runs, e.g. a guidance sweep, the one with the lowest FD / floor: its guidance is the
 * one the page proposes), else the largest-N run. An object of plain numbers (older manifests) is
 * shown as it is.
 */
export function headlineEval(raw: unknown): { figures: Record<string, number> | null; sampler: string | null } {
  if (Array.isArray(raw)) {
    const runs = raw.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>).samples === 'object');
    if (runs.length === 0) return { figures: null, sampler: null };
    const n = (e: Record<string, unknown>) => finiteOrNull(e.n) ?? 0;
    const byN = [...runs].sort((a, b) => n(b) - n(a));
    const ddim50 = byN.filter((e) => e.sampler === 'DDIM-50');
    const fdRatio = (e: Record<string, unknown>) => finiteOrNull(e.fdOverFloor) ?? Infinity;
    const largest = ddim50.length > 0 ? n(ddim50[0]) : -1;
    const atLargest = ddim50.filter((e) => n(e) === largest).sort((a, b) => fdRatio(a) - fdRatio(b));
    const best = atLargest[0] ?? byN[0];
    const samples = best.samples as Record<string, unknown>;
    const figures: Record<string, number> = {};
    const put = (key: string, value: unknown) => {
      const v = finiteOrNull(value);
      if (v !== null) figures[key] = v;
    };
    put('guidance', best.guidance);
    put('N', best.n);
    put('confidence', samples.meanConfidence);
    put('entropy', samples.labelEntropy);
    put('FD/floor', best.fdOverFloor);
    put('ms/image', best.msPerImage);
    return { figures: Object.keys(figures).length > 0 ? figures : null, sampler: stringOrNull(best.sampler) };
  }
  if (typeof raw === 'object' && raw !== null) {
    const entries = Object.entries(raw as Record<string, unknown>).filter((e): e is [string, number] => finiteOrNull(e[1]) !== null);
    return { figures: entries.length > 0 ? Object.fromEntries(entries) : null, sampler: null };
  }
  return { figures: null, sampler: null };
}

/** The figures the page shows: step counts from the model file, the rest from the manifest when it has them. */
export function pretrainedInfoOf(kind: ModelKind, saved: SavedModelInfo, manifest: Record<string, unknown> | null, bytes: number): PretrainedInfo {
  const m = manifest ?? {};
  const { figures: evalFigures, sampler: evalSampler } = headlineEval(m.eval);
  return {
    kind,
    name: stringOrNull(m.name) ?? kind,
    autoencoderSteps: saved.autoencoderSteps,
    denoiserSteps: saved.denoiserSteps,
    trainingSeconds: finiteOrNull(m.trainingSeconds),
    finalLoss: finiteOrNull(m.finalLoss),
    plan: stringOrNull(m.plan),
    createdAt: stringOrNull(m.createdAt),
    eval: evalFigures,
    evalSampler,
    bytes,
  };
}
