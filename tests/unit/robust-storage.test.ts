/**
 * Checkpoints over hours and tabs (src/state/checkpoint-store.ts, checkpoint-writer.ts, run-locks.ts,
 * recovery.ts), on IndexedDB (fake-indexeddb) with a Web Locks stand-in: two tabs never overwrite
 * each other's runs, a damaged checkpoint is never offered, a full disk turns checkpoints off (and
 * on again) with a message, and old runs are pruned except the ones a live tab owns.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore, setMany } from 'idb-keyval';
import { CHECKPOINT_DB, deleteCheckpoints, filesDigest, listCheckpoints, loadCheckpoint } from '../../src/state/checkpoint-store';
import { MAX_KEPT_RUNS } from '../../src/state/checkpoint-writer';
import { Recovery, type RecoveryHost } from '../../src/state/recovery';
import { createAppStore, initialState } from '../../src/state/store';
import type { WorkerToPage } from '../../src/protocol/messages';

/** navigator.locks for Node: exclusive locks by name, held until the callback's promise settles. */
function installLocks(): void {
  const held = new Set<string>();
  const locks = {
    async request(name: string, options: { ifAvailable?: boolean }, cb: (lock: unknown) => Promise<void>) {
      if (held.has(name) && options.ifAvailable) return cb(null);
      held.add(name);
      try {
        await cb({ name });
      } finally {
        held.delete(name);
      }
    },
    async query() {
      return { held: [...held].map((name) => ({ name })) };
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
}

/** A tab's sessionStorage (it survives the tab's reloads; other tabs have their own). */
function useSession(session: Map<string, string>): void {
  const storage = { getItem: (k: string) => session.get(k) ?? null, setItem: (k: string, v: string) => void session.set(k, v), removeItem: (k: string) => void session.delete(k) };
  Object.defineProperty(globalThis, 'sessionStorage', { value: storage, configurable: true });
}

/** One tab's Recovery, with what it reports. */
function tab() {
  const store = createAppStore(initialState());
  const errors: string[] = [];
  const sent: string[] = [];
  const host: RecoveryHost = {
    store,
    send: (m) => sent.push(m.type),
    reportError: (m) => errors.push(m),
    restartWorker: () => undefined,
    takeRestored: () => undefined,
    replaceHistory: () => undefined,
    resumeTraining: () => void sent.push('resume (as the Resume button)'),
  };
  return { recovery: new Recovery(host), store, errors, sent };
}

function checkpoint(step: number, fill: number): Extract<WorkerToPage, { type: 'train/checkpoint' }> {
  const bin = new Float32Array(256).fill(fill);
  return { type: 'train/checkpoint', step, stage: 'denoiser', totalSteps: 100, reason: 'interval', files: [{ name: 'model.json', data: new TextEncoder().encode(`{"step":${step}}`).buffer as ArrayBuffer }, { name: 'weights.bin', data: bin.buffer }] };
}

beforeEach(() => {
  installLocks();
  useSession(new Map());
});
afterEach(async () => deleteCheckpoints((await listCheckpoints()).map((r) => r.runId)));

describe('checkpoints across tabs and reloads', () => {
  it('after a crash, training resumes from the last checkpoint as the Resume button resumes it (with the quality curve)', async () => {
    const t = tab();
    t.store.setState((s) => ({ train: { ...s.train, state: 'running' } }));
    t.recovery.onMessage(checkpoint(20, 1));
    t.recovery.onCrash('The engine worker crashed.', false);
    t.recovery.onReady();
    const restored = { type: 'train/restored', setup: t.store.getState().setup, training: t.store.getState().training, step: 20, stage: 'denoiser' } as const;
    t.recovery.onMessage(restored);
    expect(t.sent).toEqual(['train/restore', 'resume (as the Resume button)']);
    await t.recovery.flushed();
  });

  it('two tabs training at once keep their own runs; a reload offers its own run, not the one another tab is training', async () => {
    const a = tab();
    const b = tab();
    for (let step = 10; step <= 30; step += 10) {
      a.recovery.onMessage(checkpoint(step, 1));
      b.recovery.onMessage(checkpoint(step + 1, 2));
    }
    await Promise.all([a.recovery.flushed(), b.recovery.flushed()]);
    const runs = await listCheckpoints();
    expect(runs.map((r) => r.step).sort()).toEqual([30, 31]);
    const [runA, runB] = [runs.find((r) => r.step === 30)!, runs.find((r) => r.step === 31)!];
    expect(runA.runId).not.toBe(runB.runId);
    expect(new Float32Array((await loadCheckpoint(runA.runId)).files[1].data)[0]).toBe(1);
    expect(new Float32Array((await loadCheckpoint(runB.runId)).files[1].data)[0]).toBe(2);

    // Tab A reloads (its lock goes with it); tab B is still training: A's run is offered, B's is not.
    a.recovery.close();
    const reloaded = tab();
    await reloaded.recovery.lookForSaved();
    expect(reloaded.store.getState().recovery.offer).toMatchObject({ runId: runA.runId, step: 30 });

    // Resuming continues the same run: its next checkpoint replaces that run's, nobody else's.
    reloaded.recovery.resumeOffered();
    reloaded.recovery.onMessage(checkpoint(40, 3));
    await reloaded.recovery.flushed();
    expect((await listCheckpoints()).map((r) => [r.runId, r.step])).toEqual(expect.arrayContaining([[runA.runId, 40], [runB.runId, 31]]));
    expect(await listCheckpoints()).toHaveLength(2);
  });

  it('a reloading tab is offered its own run even when another tab reloads at the same moment (its lock briefly free)', async () => {
    const sessionA = new Map<string, string>();
    const sessionB = new Map<string, string>();
    useSession(sessionA);
    const a = tab();
    a.recovery.onMessage(checkpoint(10, 1));
    await a.recovery.flushed();
    useSession(sessionB);
    const b = tab();
    b.recovery.onMessage(checkpoint(20, 2)); // newer than A's
    await b.recovery.flushed();
    // Both tabs reload at once: neither lock is held when tab A looks for its checkpoint.
    a.recovery.close();
    b.recovery.close();
    useSession(sessionA);
    const reloadedA = tab();
    await reloadedA.recovery.lookForSaved();
    expect(reloadedA.store.getState().recovery.offer).toMatchObject({ step: 10 });
    useSession(sessionB);
    const reloadedB = tab();
    await reloadedB.recovery.lookForSaved();
    expect(reloadedB.store.getState().recovery.offer).toMatchObject({ step: 20 });
  });

  it('a checkpoint whose files do not match their digest is not offered; the next complete one is', async () => {
    // Two saves within one millisecond would tie on savedAt: the clock is set so the second is newer.
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_000);
    const a = tab();
    a.recovery.onMessage(checkpoint(10, 1));
    await a.recovery.flushed();
    a.recovery.close();
    now.mockReturnValue(2_000);
    const b = tab();
    b.recovery.onMessage(checkpoint(20, 2));
    await b.recovery.flushed();
    b.recovery.close();
    now.mockRestore();
    const newest = (await listCheckpoints())[0];
    expect(newest.step).toBe(20);
    // Damage the newest run's weights as an interrupted or corrupted write would.
    const store = createStore(CHECKPOINT_DB, 'checkpoints');
    const damaged = checkpoint(20, 2).files;
    new Float32Array(damaged[1].data)[7] = 99;
    await setMany([[`data:${newest.runId}`, { files: damaged }]], store);
    await expect(loadCheckpoint(newest.runId)).rejects.toThrow(/incomplete/);

    const reloaded = tab();
    await reloaded.recovery.lookForSaved();
    expect(reloaded.store.getState().recovery.offer).toMatchObject({ step: 10 });
    expect(reloaded.errors.join('\n')).toMatch(/step 20\) is not offered: .*incomplete/);
  });

  it('a full disk turns checkpoints off with one message while training goes on, and on again when a write succeeds', async () => {
    const a = tab();
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      a.recovery.onMessage(checkpoint(10, 1));
      await a.recovery.flushed();
      a.recovery.onMessage(checkpoint(20, 1));
      await a.recovery.flushed();
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(a.recovery.storage.getState().off).toMatch(/storage for this site is full/);
    expect(a.errors.filter((e) => /Checkpoints are off/.test(e))).toHaveLength(1);
    expect(a.store.getState().recovery.last?.step).toBe(20); // the page still holds the latest in memory
    a.recovery.onMessage(checkpoint(30, 1));
    await a.recovery.flushed();
    expect(a.recovery.storage.getState().off).toBeNull();
    expect((await listCheckpoints())[0].step).toBe(30);
  });

  it(`keeps the newest ${MAX_KEPT_RUNS} runs, never deleting one a live tab owns`, async () => {
    const live = tab();
    live.recovery.onMessage(checkpoint(1, 0));
    await live.recovery.flushed();
    const liveRun = (await listCheckpoints())[0].runId;
    for (let i = 0; i < MAX_KEPT_RUNS + 2; i++) {
      const t = tab();
      t.recovery.onMessage(checkpoint(10 + i, i));
      await t.recovery.flushed();
      t.recovery.close();
      await new Promise((r) => setTimeout(r, 3)); // distinct save times: "newest" is by time
    }
    const runs = await listCheckpoints();
    expect(runs.map((r) => r.step)).toEqual([10 + MAX_KEPT_RUNS + 1, 10 + MAX_KEPT_RUNS, 10 + MAX_KEPT_RUNS - 1, 1]);
    expect(runs.at(-1)!.runId).toBe(liveRun);
  });

  it('digests tell changed bytes apart, with Web Crypto and without it', async () => {
    const files = checkpoint(5, 1).files;
    const other = checkpoint(5, 1).files;
    new Uint8Array(other[1].data)[3] ^= 1;
    for (const algorithm of ['sha256', 'fnv'] as const) {
      expect(await filesDigest(files, algorithm)).toBe(await filesDigest(checkpoint(5, 1).files, algorithm));
      expect(await filesDigest(files, algorithm)).not.toBe(await filesDigest(other, algorithm));
    }
  });
});
