/**
 * The page's copies of training checkpoints, in IndexedDB (database 'diffusion-playground', store
 * 'checkpoints'), so that training survives a reload, a crashed tab or a crashed worker.
 *
 * Each training run has its own id and its own two records: `meta:<run>` (what the page shows to
 * offer it, and the SHA-256 of its files) and `data:<run>` (the checkpoint's files: a model file
 * with optimizer state, run state and loss history). So two tabs training at once never overwrite
 * each other's checkpoints. Both records are written in one transaction (idb-keyval's setMany), so
 * a reload during a write leaves the old checkpoint or the new one, never half of one; and a
 * checkpoint whose files do not match their digest is not offered (`loadCheckpoint` refuses it).
 * Without IndexedDB (private windows of some browsers), or with the disk full, nothing is kept and
 * the page says so (./recovery.ts).
 */
import { createStore, delMany, entries, getMany, setMany, type UseStore } from 'idb-keyval';
import type { ModelFile } from '../io/model-file';
import type { ModelKind } from '../models/setup/model-setup';
import type { TrainingStage } from '../engine/run-config';

export const CHECKPOINT_DB = 'diffusion-playground';
const STORE = 'checkpoints';
/** The one record of the page before runs had ids; still offered, under this run id. */
const LEGACY_KEY = 'last';

/** What the page shows about a stored checkpoint. */
export interface CheckpointSummary {
  /** The training run it belongs to (one per model trained in one tab). */
  runId: string;
  /** When the run started (ms since the epoch). */
  startedAt: number;
  step: number;
  totalSteps: number;
  stage: TrainingStage;
  kind: ModelKind;
  /** When it was saved (ms since the epoch). */
  savedAt: number;
}

export interface StoredCheckpoint extends CheckpointSummary {
  files: ModelFile[];
}

interface Meta extends CheckpointSummary {
  /** The files' digest (see filesDigest). */
  digest: string;
}

const metaKey = (runId: string) => `meta:${runId}`;
const dataKey = (runId: string) => `data:${runId}`;

function isSummary(x: unknown): x is CheckpointSummary {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.step === 'number' &&
    typeof r.totalSteps === 'number' &&
    (r.stage === 'autoencoder' || r.stage === 'denoiser') &&
    (r.kind === 'pixel' || r.kind === 'latent') &&
    typeof r.savedAt === 'number'
  );
}

function isFiles(x: unknown): x is ModelFile[] {
  return Array.isArray(x) && x.every((f: unknown) => typeof f === 'object' && f !== null && typeof (f as ModelFile).name === 'string' && (f as ModelFile).data instanceof ArrayBuffer);
}

let store: UseStore | null = null;

/** The checkpoints store (idb-keyval: one database, one object store). */
function checkpoints(): UseStore {
  if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
  store ??= createStore(CHECKPOINT_DB, STORE);
  return store;
}

/**
 * A digest of the files' names and bytes, as `sha256:<hex>` (Web Crypto, in secure contexts: https,
 * localhost) or `fnv:<hex>` (FNV-1a over 32-bit words, where Web Crypto is missing: a page served
 * over plain http on a school's network).
 */
export async function filesDigest(files: readonly ModelFile[], algorithm: 'sha256' | 'fnv' = hasSubtle() ? 'sha256' : 'fnv'): Promise<string> {
  if (algorithm === 'fnv') {
    let h = 0x811c9dc5;
    for (const f of files) {
      h = fnv(h, new TextEncoder().encode(`${f.name}:${f.data.byteLength}:`));
      h = fnv(h, new Uint8Array(f.data));
    }
    return `fnv:${(h >>> 0).toString(16)}`;
  }
  const parts: Uint8Array[] = [];
  for (const f of files) parts.push(new TextEncoder().encode(`${f.name}:${f.data.byteLength}:`), new Uint8Array(await crypto.subtle.digest('SHA-256', f.data)));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return `sha256:${[...new Uint8Array(await crypto.subtle.digest('SHA-256', all))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function hasSubtle(): boolean {
  return typeof crypto !== 'undefined' && typeof crypto.subtle?.digest === 'function';
}

/** FNV-1a (32-bit) over bytes, a word at a time where aligned. */
function fnv(h: number, bytes: Uint8Array): number {
  const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : new Uint32Array(0);
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  for (let i = words.length * 4; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h;
}

/** Whether `files` match a stored digest; true when its algorithm is not available here (nothing to check with). */
async function matchesDigest(files: readonly ModelFile[], digest: string): Promise<boolean> {
  const algorithm = digest.startsWith('fnv:') ? 'fnv' : 'sha256';
  if (algorithm === 'sha256' && !hasSubtle()) return true;
  return (await filesDigest(files, algorithm)) === digest;
}

/** Every stored checkpoint's summary, newest first (their files are not read). */
export async function listCheckpoints(): Promise<CheckpointSummary[]> {
  const all = await entries(checkpoints());
  const out: CheckpointSummary[] = [];
  for (const [key, value] of all) {
    if (typeof key !== 'string') continue;
    if (key.startsWith('meta:') && isSummary(value)) out.push(summaryOf(value));
    else if (key === LEGACY_KEY && isSummary(value)) out.push({ ...summaryOf(value), runId: LEGACY_KEY, startedAt: value.savedAt });
  }
  return out.sort((a, b) => b.savedAt - a.savedAt || b.step - a.step);
}

function summaryOf(c: CheckpointSummary): CheckpointSummary {
  return { runId: c.runId, startedAt: c.startedAt, step: c.step, totalSteps: c.totalSteps, stage: c.stage, kind: c.kind, savedAt: c.savedAt };
}

/** The run's checkpoint with its files, checked against its digest; throws when it is missing or incomplete. */
export async function loadCheckpoint(runId: string): Promise<StoredCheckpoint> {
  if (runId === LEGACY_KEY) {
    const [legacy] = await getMany([LEGACY_KEY], checkpoints());
    if (!isSummary(legacy) || !isFiles((legacy as StoredCheckpoint).files)) throw new Error('the saved checkpoint is missing or damaged');
    return { ...summaryOf(legacy), runId: LEGACY_KEY, startedAt: legacy.savedAt, files: (legacy as StoredCheckpoint).files };
  }
  const [meta, data] = await getMany([metaKey(runId), dataKey(runId)], checkpoints());
  if (!isSummary(meta) || typeof (meta as Meta).digest !== 'string') throw new Error('the saved checkpoint has no summary');
  const files = (data as { files?: unknown } | undefined)?.files;
  if (!isFiles(files)) throw new Error('the saved checkpoint has no files');
  if (!(await matchesDigest(files, (meta as Meta).digest))) throw new Error('the saved checkpoint is incomplete (its files do not match their digest)');
  return { ...summaryOf(meta), files };
}

/** Saves a run's checkpoint (summary and files in one transaction), replacing that run's previous one. */
export async function saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
  const digest = await filesDigest(checkpoint.files);
  const meta: Meta = { ...summaryOf(checkpoint), digest };
  await setMany(
    [
      [dataKey(checkpoint.runId), { files: checkpoint.files }],
      [metaKey(checkpoint.runId), meta],
    ],
    checkpoints(),
  );
}

/** Deletes runs' checkpoints. */
export async function deleteCheckpoints(runIds: readonly string[]): Promise<void> {
  if (runIds.length === 0) return;
  await delMany(
    runIds.flatMap((id) => (id === LEGACY_KEY ? [LEGACY_KEY] : [metaKey(id), dataKey(id)])),
    checkpoints(),
  );
}
