/**
 * Never lose work: the page's half of checkpoints and recovery.
 *
 * - Every 'train/checkpoint' from the worker is kept in memory and written to IndexedDB
 *   (./checkpoint-store.ts). On start the page looks for one from an earlier visit and offers to
 *   resume it (Training panel); resuming sends it back ('train/restore') and goes on training with
 *   its configuration and loss history.
 * - A non-finite loss ('train/diverged'): the worker has rolled back and paused; the user is told
 *   and advised to lower the learning rate.
 * - A crashed worker or a lost GPU device: the worker is restarted (on the next backend when the
 *   device is gone), the user is told, and training resumes from the last checkpoint.
 */
import type { BackendName } from '../backends/names';
import type { ModelSetup } from '../models/setup/model-setup';
import type { PageToWorker, WorkerToPage } from '../protocol/messages';
import type { TrainingConfig } from '../engine/run-config';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { listCheckpoints, loadCheckpoint, type CheckpointSummary, type StoredCheckpoint } from './checkpoint-store';
import { CheckpointWriter } from './checkpoint-writer';
import { liveRuns, newRunId, RunLock, tabRun } from './run-locks';
import type { AppStore } from './store';

/** Whether checkpoints are being kept: `off` says why not (storage full or denied), null when they are. */
export interface StorageStatus {
  off: string | null;
}

/** A worker that crashes this often in one visit is not restarted again. */
export const MAX_RESTARTS = 3;

export interface RecoveryHost {
  readonly store: AppStore;
  send(message: PageToWorker): void;
  reportError(message: string, source: string): void;
  /** Replaces the worker with a fresh one (on `backend`, or the page's choice when null). */
  restartWorker(backend: BackendName | null, lost?: BackendName): void;
  /** The engine now holds a restored checkpoint: the page takes its setup and training form. */
  takeRestored(setup: ModelSetup, training: TrainingConfig): void;
  /** Replaces the loss chart's history. */
  replaceHistory(stage: 'autoencoder' | 'denoiser', steps: Int32Array, losses: Float32Array): void;
  /** Resumes training as the Resume button does (the form, streaming and the quality curve's settings). */
  resumeTraining(): void;
}

type RecoveryMessage = Extract<WorkerToPage, { type: 'train/checkpoint' | 'train/history' | 'train/diverged' | 'train/restored' | 'device-lost' }>;

function summary(c: StoredCheckpoint): CheckpointSummary {
  return { runId: c.runId, startedAt: c.startedAt, step: c.step, totalSteps: c.totalSteps, stage: c.stage, kind: c.kind, savedAt: c.savedAt };
}

function copyFiles(c: StoredCheckpoint): StoredCheckpoint {
  return { ...c, files: c.files.map((f) => ({ name: f.name, data: f.data.slice(0) })) };
}

export class Recovery {
  /** The last checkpoint of this visit (or the offered one, once taken). */
  private latest: StoredCheckpoint | null = null;
  private offered: StoredCheckpoint | null = null;
  /** A checkpoint to send once the (new) engine is ready, and whether training goes on after it. */
  private pending: { checkpoint: StoredCheckpoint; resume: boolean } | null = null;
  /** Resume training once the engine says the checkpoint is restored. */
  private resumeAfterRestore = false;
  private restarts = 0;
  /** This tab's training run: its id (null until its first checkpoint) and its lock (./run-locks.ts). */
  private runId: string | null = null;
  private startedAt = 0;
  private readonly lock = new RunLock();
  /** Whether checkpoints are kept, for the Training panel. */
  readonly storage: StoreApi<StorageStatus> = createStore<StorageStatus>(() => ({ off: null }));
  private readonly writer = new CheckpointWriter({
    failed: (reason) => {
      if (this.storage.getState().off === null) {
        this.host.reportError(`Checkpoints are off: ${reason}. Training goes on, but a reload or a crash will lose it: export the model (Model files) to keep it.`, 'page');
      }
      this.storage.setState({ off: reason });
    },
    saved: () => {
      if (this.storage.getState().off !== null) this.storage.setState({ off: null });
    },
  });

  constructor(private readonly host: RecoveryHost) {}

  /**
   * Looks for a checkpoint from an earlier visit and offers it: the newest run no other open tab is
   * training, whose files are complete (a damaged one is skipped, with a note).
   */
  async lookForSaved(): Promise<void> {
    let runs: CheckpointSummary[];
    try {
      runs = await listCheckpoints();
    } catch {
      return; // no IndexedDB: nothing to offer (saving will say so)
    }
    // This tab's own run first (from before its reload: claimed at once, so no other tab takes it),
    // then the newest that no open tab is training.
    const mine = tabRun();
    const claimed = mine != null && runs.some((r) => r.runId === mine) && (await this.lock.hold(mine));
    const live = await liveRuns();
    const candidates = [...runs.filter((r) => claimed && r.runId === mine), ...runs.filter((r) => !live.has(r.runId))];
    for (const run of candidates) {
      let found: StoredCheckpoint;
      try {
        found = await loadCheckpoint(run.runId);
      } catch (err) {
        this.host.reportError(`A saved checkpoint (step ${run.step.toLocaleString()}) is not offered: ${err instanceof Error ? err.message : String(err)}.`, 'page');
        continue;
      }
      if (this.latest != null) return;
      if (run.runId !== mine && claimed) this.lock.forget(); // our own run was damaged: another is offered
      this.offered = found;
      this.host.store.setState((s) => ({ recovery: { ...s.recovery, offer: summary(found) } }));
      return;
    }
  }

  /** Resume the offered checkpoint: restore it in the engine, then train on (as the same run). */
  resumeOffered(): void {
    const c = this.offered;
    if (c == null) return;
    this.offered = null;
    this.latest = c;
    this.adopt(c.runId, c.startedAt);
    this.host.store.setState((s) => ({ recovery: { ...s.recovery, offer: null } }));
    this.restore(c, true);
  }

  /** Forget the offered checkpoint (and its stored copy). */
  discardOffered(): void {
    const c = this.offered;
    this.offered = null;
    this.host.store.setState((s) => ({ recovery: { ...s.recovery, offer: null } }));
    if (c && c.runId !== this.runId) {
      this.writer.delete(c.runId);
      if (this.lock.runId === c.runId) this.lock.forget();
    }
  }

  /**
   * The model was reset or replaced: the next training is a new run. The stored checkpoint of the
   * old run stays (a reload still offers it, and it is pruned with the oldest runs), so a model put
   * aside is never lost with its checkpoint.
   */
  forget(): void {
    this.latest = null;
    this.pending = null;
    this.runId = null;
    this.lock.forget();
    this.host.store.setState((s) => ({ recovery: { ...s.recovery, last: null } }));
  }

  /** This tab now trains run `runId` (and holds its lock). */
  private adopt(runId: string, startedAt: number): void {
    this.runId = runId;
    this.startedAt = startedAt;
    void this.lock.hold(runId);
  }

  /** The tab is going away (the browser also does this when it closes): its run is no longer owned. */
  close(): void {
    this.lock.drop();
  }

  /** Resolves once the checkpoints handed to the store so far are written (tests, a clean close). */
  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  private restore(c: StoredCheckpoint, resume: boolean): void {
    this.host.store.setState((s) => ({ recovery: { ...s.recovery, restoring: true } }));
    if (this.host.store.getState().engine.status === 'ready') this.sendRestore(c, resume);
    else this.pending = { checkpoint: c, resume };
  }

  private sendRestore(c: StoredCheckpoint, resume: boolean): void {
    this.resumeAfterRestore = resume;
    this.host.send({ type: 'train/restore', files: copyFiles(c).files });
  }

  /** The engine (first or restarted) is ready: a checkpoint waiting for it goes now. */
  onReady(): void {
    const p = this.pending;
    this.pending = null;
    if (p) this.sendRestore(p.checkpoint, p.resume);
  }

  /** A restore failed (the engine refused the files): the page stops waiting. */
  onRestoreFailed(): void {
    this.resumeAfterRestore = false;
    this.host.store.setState((s) => ({ recovery: { ...s.recovery, restoring: false } }));
  }

  /**
   * The worker crashed or lost its GPU: restart it (after a lost device, on the fastest other backend), tell
   * the user, and resume training from the last checkpoint if it was training.
   */
  onCrash(reason: string, deviceLost: boolean): void {
    const s = this.host.store.getState();
    if (this.restarts >= MAX_RESTARTS) {
      this.host.reportError(`${reason} It has stopped ${this.restarts + 1} times, so it is not restarted again: reload the page to try once more.`, 'worker');
      this.host.store.setState((st) => ({ engine: { ...st.engine, status: 'failed' }, train: st.train.state === 'running' ? { ...st.train, state: 'paused' } : st.train }));
      return;
    }
    this.restarts++;
    const wasTraining = s.train.state === 'running';
    // A lost GPU device: the fastest backend but that one (the probe decides, as at the start).
    const lost = deviceLost ? (s.engine.backend ?? undefined) : undefined;
    const backend = lost ? null : s.engine.requested;
    const c = this.latest;
    this.host.store.setState((st) => ({
      train: st.train.state === 'running' ? { ...st.train, state: 'paused' } : st.train,
      sample: st.sample.state === 'running' || st.sample.state === 'paused' ? { ...st.sample, state: 'idle' } : st.sample,
      transfer: 'idle',
    }));
    const where = lost ? ` without ${lost} (on the fastest backend left)` : backend ? ` on ${backend}` : '';
    const then = c ? `${wasTraining ? 'training resumes' : 'the model is back'} from the checkpoint at step ${c.step}` : 'no checkpoint had been saved yet, so the model starts afresh';
    this.host.reportError(`${reason} The engine was restarted${where} and ${then}.`, 'worker');
    if (c) this.pending = { checkpoint: c, resume: wasTraining };
    this.host.store.setState((st) => ({ recovery: { ...st.recovery, restoring: c != null } }));
    this.host.restartWorker(backend, lost);
  }

  onMessage(msg: RecoveryMessage): void {
    switch (msg.type) {
      case 'train/checkpoint': {
        const kind = this.host.store.getState().setup.kind;
        if (this.runId == null) this.adopt(newRunId(), Date.now());
        const c: StoredCheckpoint = { runId: this.runId!, startedAt: this.startedAt, step: msg.step, totalSteps: msg.totalSteps, stage: msg.stage, kind, savedAt: Date.now(), files: msg.files };
        this.latest = c;
        this.offered = null;
        this.host.store.setState((s) => ({ recovery: { ...s.recovery, offer: null, last: summary(c) } }));
        this.writer.save(c);
        break;
      }
      case 'train/history':
        this.host.replaceHistory(msg.stage, msg.steps, msg.losses);
        break;
      case 'train/diverged':
        this.host.reportError(
          `The loss became ${msg.loss} at step ${msg.step}: training paused and went back to the checkpoint at step ${msg.restoredStep}. ` +
            `Lower the learning rate (now ${msg.learningRate}; try ${lower(msg.learningRate)}), then press Resume.`,
          'train',
        );
        break;
      case 'train/restored': {
        this.host.takeRestored(msg.setup, { ...msg.training, stage: msg.stage });
        this.host.store.setState((s) => ({ recovery: { ...s.recovery, restoring: false } }));
        const resume = this.resumeAfterRestore;
        this.resumeAfterRestore = false;
        if (resume) this.host.resumeTraining();
        break;
      }
      case 'device-lost':
        this.onCrash(`The GPU device was lost (${msg.message || 'no reason given'}).`, true);
        break;
    }
  }
}

/** A learning rate ten times lower, rounded for reading. */
function lower(lr: number): string {
  return Number((lr / 10).toPrecision(2)).toString();
}
