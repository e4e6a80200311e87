/**
 * Writes a tab's checkpoints one at a time, keeping only the newest waiting one (a slow disk never
 * queues up copies of the model), and keeps the store small: after each write only the newest
 * MAX_KEPT_RUNS runs stay, never deleting one that a live tab owns. Says when saving fails (disk
 * full, storage denied) and when it works again, so the page can say whether checkpoints are on.
 */
import { deleteCheckpoints, listCheckpoints, saveCheckpoint, type StoredCheckpoint } from './checkpoint-store';
import { liveRuns } from './run-locks';

/** Runs whose checkpoints are kept (this tab's and others'), newest first. */
export const MAX_KEPT_RUNS = 3;

export interface WriterEvents {
  /** A write failed: why, in words (the error's name and message). */
  failed(reason: string): void;
  /** A write succeeded. */
  saved(checkpoint: StoredCheckpoint): void;
}

type Job = { kind: 'save'; checkpoint: StoredCheckpoint } | { kind: 'delete'; runId: string };

export class CheckpointWriter {
  private busy = false;
  private next: Job | null = null;
  private idle: Promise<void> = Promise.resolve();
  private settle: (() => void) | null = null;

  constructor(private readonly events: WriterEvents) {}

  save(checkpoint: StoredCheckpoint): void {
    this.enqueue({ kind: 'save', checkpoint });
  }

  /** Forgets a run's checkpoint (the model was reset, or the offer discarded). */
  delete(runId: string): void {
    this.enqueue({ kind: 'delete', runId });
  }

  /** Resolves when nothing is waiting to be written. */
  flushed(): Promise<void> {
    return this.idle;
  }

  private enqueue(job: Job): void {
    this.next = job;
    if (!this.busy) this.idle = new Promise((resolve) => (this.settle = resolve));
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
          if (job.kind === 'delete') await deleteCheckpoints([job.runId]);
          else {
            await saveCheckpoint(job.checkpoint);
            this.events.saved(job.checkpoint);
            await prune(job.checkpoint.runId);
          }
        } catch (err) {
          this.events.failed(describeStorageError(err));
        }
      }
    } finally {
      this.busy = false;
      this.settle?.();
    }
  }
}

/** Deletes all but the newest MAX_KEPT_RUNS runs, never `own` nor a run a live tab holds. */
async function prune(own: string): Promise<void> {
  const [runs, live] = await Promise.all([listCheckpoints(), liveRuns()]);
  const stale = runs.slice(MAX_KEPT_RUNS).filter((r) => r.runId !== own && !live.has(r.runId));
  await deleteCheckpoints(stale.map((r) => r.runId));
}

/** A storage failure in words: a full disk and denied storage say so plainly. */
export function describeStorageError(err: unknown): string {
  const name = err instanceof Error || (typeof DOMException !== 'undefined' && err instanceof DOMException) ? (err as Error).name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'QuotaExceededError') return 'the browser’s storage for this site is full';
  if (/IndexedDB is not available/.test(message)) return 'this browser gives the page no storage (a private window?)';
  if (name === 'SecurityError' || name === 'InvalidStateError') return `the browser denies the page storage (${message})`;
  return message || name || 'unknown error';
}
