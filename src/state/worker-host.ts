/**
 * The engine's Web Worker: created on start (it is sent 'init' with the backend asked for),
 * replaced by a fresh one after a crash (on the next backend after a lost GPU device), terminated
 * with the page. What the worker says, and how it fails, goes to the client's events; recovering
 * from a crash is ./recovery.ts's part.
 */
import { requestTransferables, type PageToWorker, type WorkerToPage } from '../protocol/messages';
import type { BackendName } from '../backends/names';
import { failurePatch } from './message-reducer';
import type { AppStore } from './store';

export interface WorkerHostEvents {
  message(msg: WorkerToPage): void;
  /** The worker of a running engine crashed: restart it and resume. */
  crashed(reason: string): void;
  reportError(message: string, source: string): void;
}

export function defaultWorker(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'engine' });
}

export class WorkerHost {
  private worker: Worker | null = null;
  private restartCount = 0;
  /** The backend asked for: the URL's; none (the fastest) after a lost GPU device. */
  private requested: BackendName | null;
  /** Backends whose GPU device was lost in this page: never chosen again. */
  private readonly avoid: BackendName[] = [];

  constructor(
    private readonly store: AppStore,
    private readonly make: () => Worker,
    backend: BackendName | null,
    private readonly events: WorkerHostEvents,
    /** The wasm threads the URL asked for (`?threads=N`), or null for the page's choice. */
    private readonly threads: number | null = null,
  ) {
    this.requested = backend;
  }

  /** True while a worker is there to post to. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** How many times the worker was replaced after a crash. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Creates the worker and sends 'init'. Failures end up in the store's errors, never thrown. */
  start(): void {
    if (this.worker) return;
    try {
      const worker = this.make();
      worker.addEventListener('message', (ev: MessageEvent<WorkerToPage>) => {
        if (this.worker === worker) this.events.message(ev.data);
      });
      worker.addEventListener('error', (ev: ErrorEvent) => {
        ev.preventDefault();
        if (this.worker !== worker) return;
        // A worker that was running crashed: restart it and resume; one that never started failed.
        if (this.store.getState().engine.status === 'ready') return this.events.crashed(`The engine worker crashed${ev.message ? ` (${ev.message})` : ''}.`);
        const detail = ev.message ? `: ${ev.message}` : ' (its script could not be loaded or threw while starting)';
        this.fail(`The engine worker failed${detail}`);
      });
      worker.addEventListener('messageerror', () => this.events.reportError('A message from the engine worker could not be read.', 'worker'));
      this.worker = worker;
      this.send({ type: 'init', backend: this.requested, ...(this.avoid.length > 0 ? { avoid: [...this.avoid] } : {}), ...(this.threads ? { threads: this.threads } : {}) });
    } catch (err) {
      this.fail(`Could not start the engine worker: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Replaces the worker with a fresh one (after a crash), asking for `backend` when given. After a
   * lost GPU device (`lost`: its backend) it asks for none, leaving that one out: the start-up probe
   * then picks the fastest of the rest, as it would have at the start.
   */
  restart(backend: BackendName | null, lost?: BackendName): void {
    this.stop();
    this.restartCount++;
    if (lost) {
      if (!this.avoid.includes(lost)) this.avoid.push(lost);
      this.requested = null;
    } else if (backend) this.requested = backend;
    this.store.setState((s) => ({ engine: { ...s.engine, status: 'starting', requested: this.requested } }));
    this.start();
  }

  /** Posts a message, its buffers transferred; without a worker, says it was not sent. */
  send(message: PageToWorker): void {
    if (!this.worker) {
      this.events.reportError(`The engine worker is not running; "${message.type}" was not sent.`, 'page');
      if (message.type === 'model/export' || message.type === 'model/import') this.store.setState({ transfer: 'idle' });
      return;
    }
    this.worker.postMessage(message, requestTransferables(message));
  }

  /** The engine could not start: it is marked failed, a pretrained load waiting for it fails, runs stop. */
  private fail(message: string): void {
    this.events.reportError(message, 'worker');
    this.store.setState((s) => failurePatch(s));
  }

  /** Terminates the worker as a crash would: it stays in place until the recovery replaces it. */
  crashForTest(): void {
    this.worker?.terminate();
  }

  stop(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
