/**
 * The page's copy of the last training checkpoint, in IndexedDB (database 'diffusion-playground',
 * store 'checkpoints', one record under the key 'last'), so that training survives a reload, a
 * crashed tab or a crashed worker. The record holds the checkpoint's two files (a model file with
 * optimizer state, run state and loss history; the worker validates them again on restore) and a
 * summary to offer it by. Without IndexedDB (private windows of some browsers) nothing is kept and
 * the page says so once.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { ModelFile } from '../io/model-file';
import type { ModelKind } from '../models/setup/model-setup';
import type { TrainingStage } from '../engine/run-config';

export const CHECKPOINT_DB = 'diffusion-playground';
const STORE = 'checkpoints';
const KEY = 'last';

/** What the page shows about a stored checkpoint. */
export interface CheckpointSummary {
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

function isStored(x: unknown): x is StoredCheckpoint {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (
    typeof r.step === 'number' &&
    typeof r.totalSteps === 'number' &&
    (r.stage === 'autoencoder' || r.stage === 'denoiser') &&
    (r.kind === 'pixel' || r.kind === 'latent') &&
    typeof r.savedAt === 'number' &&
    Array.isArray(r.files) &&
    r.files.every((f: unknown) => typeof f === 'object' && f !== null && typeof (f as ModelFile).name === 'string' && (f as ModelFile).data instanceof ArrayBuffer)
  );
}

let store: UseStore | null = null;

/** The checkpoints store (idb-keyval: one database, one object store, plain get / set / delete). */
function checkpoints(): UseStore {
  if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
  store ??= createStore(CHECKPOINT_DB, STORE);
  return store;
}

/** The stored checkpoint, or null when there is none (or it is not one this page wrote). */
export async function loadCheckpoint(): Promise<StoredCheckpoint | null> {
  const value: unknown = await get(KEY, checkpoints());
  return isStored(value) ? value : null;
}

export async function saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
  await set(KEY, checkpoint, checkpoints());
}

export async function clearCheckpoint(): Promise<void> {
  await del(KEY, checkpoints());
}

/**
 * Writes checkpoints one at a time, keeping only the newest waiting one: a slow disk never queues
 * up copies of the model.
 */
export class CheckpointWriter {
  private busy = false;
  private next: StoredCheckpoint | null | 'clear' = null;

  constructor(private readonly onError: (err: unknown) => void) {}

  save(checkpoint: StoredCheckpoint): void {
    this.next = checkpoint;
    void this.drain();
  }

  clear(): void {
    this.next = 'clear';
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.next !== null) {
        const job = this.next;
        this.next = null;
        try {
          if (job === 'clear') await clearCheckpoint();
          else await saveCheckpoint(job);
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
