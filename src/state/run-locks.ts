/**
 * Which tab owns which training run, with the Web Locks API: a tab holds the lock `playground-run:<id>`
 * of the run it trains for as long as it lives (the browser releases it when the tab closes or
 * reloads), so another tab of the same origin can tell a run that is alive elsewhere from one left
 * behind, and never offers to resume (or prunes) a run another tab is training. Without Web Locks
 * every stored run counts as left behind. The tab's run id is also kept in sessionStorage, so that a
 * reloading tab claims its own run at once and is offered it, not a run another tab left a moment ago.
 */
const PREFIX = 'playground-run:';

interface Locks {
  request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

/** The run this tab trains, kept across its reloads (sessionStorage is per tab, and survives a reload). */
const TAB_KEY = 'playground-run';

export function tabRun(): string | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(TAB_KEY);
  } catch {
    return null;
  }
}

function setTabRun(runId: string | null): void {
  try {
    if (typeof sessionStorage === 'undefined') return;
    if (runId) sessionStorage.setItem(TAB_KEY, runId);
    else sessionStorage.removeItem(TAB_KEY);
  } catch {
    // storage denied: the lock alone says who owns a run
  }
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

  /**
   * Holds `runId`'s lock (releasing any other this tab held) and remembers it as this tab's run.
   * Resolves false when another tab holds it (a duplicated tab that copied this tab's session).
   */
  hold(runId: string): Promise<boolean> {
    if (this.held === runId) return Promise.resolve(true);
    this.drop();
    this.held = runId;
    setTabRun(runId);
    const api = locks();
    if (!api) return Promise.resolve(true);
    return new Promise<boolean>((granted) => {
      void api
        .request(PREFIX + runId, { ifAvailable: true }, (lock) => {
          granted(lock !== null);
          if (lock === null) {
            if (this.held === runId) this.held = null;
            return Promise.resolve();
          }
          return new Promise<void>((resolve) => (this.release = resolve));
        })
        .catch(() => granted(false));
    });
  }

  drop(): void {
    this.release?.();
    this.release = null;
    this.held = null;
  }

  /** This tab no longer trains a run (its model was reset or replaced). */
  forget(): void {
    this.drop();
    setTabRun(null);
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
