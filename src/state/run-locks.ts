/**
 * Which tab owns which training run, with the Web Locks API: a tab holds the lock `playground-run:<id>`
 * of the run it trains for as long as it lives (the browser releases it when the tab closes or
 * reloads), so another tab of the same origin can tell a run that is alive elsewhere from one left
 * behind, and never offers to resume (or prunes) a run another tab is training. Without Web Locks
 * every stored run counts as left behind.
 */
const PREFIX = 'playground-run:';

interface Locks {
  request(name: string, callback: () => Promise<void>): Promise<void>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

function locks(): Locks | null {
  const nav = typeof navigator === 'undefined' ? null : (navigator as Navigator & { locks?: Locks });
  return nav?.locks ?? null;
}

export class RunLock {
  private release: (() => void) | null = null;
  private held: string | null = null;

  /** The run this tab holds, if any. */
  get runId(): string | null {
    return this.held;
  }

  /** Holds `runId`'s lock (releasing any other this tab held). */
  hold(runId: string): void {
    if (this.held === runId) return;
    this.drop();
    this.held = runId;
    const api = locks();
    if (!api) return;
    void api
      .request(PREFIX + runId, () => new Promise<void>((resolve) => (this.release = resolve)))
      .catch(() => undefined);
  }

  drop(): void {
    this.release?.();
    this.release = null;
    this.held = null;
  }
}

/** Runs whose lock some tab holds now (this one included). */
export async function liveRuns(): Promise<Set<string>> {
  const api = locks();
  if (!api) return new Set();
  try {
    const { held = [] } = await api.query();
    return new Set(held.flatMap((l) => (l.name?.startsWith(PREFIX) ? [l.name.slice(PREFIX.length)] : [])));
  } catch {
    return new Set();
  }
}

/** A fresh run id: time-ordered and unique across tabs. */
export function newRunId(): string {
  const random = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID().slice(0, 8) : Math.random().toString(36).slice(2, 10);
  return `${Date.now().toString(36)}-${random}`;
}
