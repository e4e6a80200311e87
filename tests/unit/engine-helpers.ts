/** The engine in Node as the worker hosts it, with the messages it posts collected for assertions. */
import { Engine, type EngineDeps } from '../../src/engine/engine';
import { initNodeBackend } from '../../src/backends/node';
import { loadMnistNode } from '../../src/data/load-node';
import type { WorkerToPage } from '../../src/protocol/messages';

export type Msg<T extends WorkerToPage['type']> = Extract<WorkerToPage, { type: T }>;

/** `deps` adds to (or replaces) the engine's dependencies, e.g. `readPretrained`. */
export function makeNodeEngine(deps: Partial<EngineDeps> = {}) {
  const messages: WorkerToPage[] = [];
  const engine = new Engine({
    post: (m) => messages.push(m),
    initBackend: async () => ({ backend: await initNodeBackend('wasm'), fallbackNote: null, adapter: null }),
    loadData: () => loadMnistNode(),
    memoryIntervalMs: 0,
    ...deps,
  });
  /** The messages of one type posted so far. */
  const of = <T extends WorkerToPage['type']>(type: T) => messages.filter((m): m is Msg<T> => m.type === type);
  /** Resolves with the first posted message that matches (polling every 5 ms), or throws after the timeout. */
  async function until(pred: (m: WorkerToPage) => boolean, timeoutMs = 60_000): Promise<WorkerToPage> {
    const start = Date.now();
    for (;;) {
      const found = messages.find(pred);
      if (found) return found;
      if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a message');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return { engine, messages, of, until };
}
