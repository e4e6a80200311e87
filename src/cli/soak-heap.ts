/**
 * The page's JS heap, split: the soak (./soak.ts) takes a heap snapshot (after a GC) and sums the
 * nodes' own sizes by kind, so that V8's compiled code is told apart from the data the page keeps.
 * The code grows for the page's whole life, by V8's tiering rather than by anything the page keeps:
 * each loop, functions that run a few times a loop reach the optimising tiers for the first time
 * (one optimised code object each, held by the module's own functions; the count of closures and
 * of scripts stays flat), and the test driver's injected scripts are optimised alike. With
 * `--js-flags=--max-opt=1` (no Maglev or Turbofan) the code stays flat. Growth is judged on the rest.
 */
import type { CDPSession } from '@playwright/test';

export interface HeapBreakdown {
  /** Every node's self size, bytes. */
  total: number;
  /** Compiled code and its metadata (the snapshot's `code` nodes), bytes. */
  code: number;
}

/** The snapshot's node kinds (its meta's node_types[0]) and the fields of each node. */
interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
}

/** Sums a heap snapshot's self sizes, all and of `code` nodes. */
export function breakdown(snap: Snapshot): HeapBreakdown {
  const fields = snap.snapshot.meta.node_fields;
  const kinds = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const sizeAt = fields.indexOf('self_size');
  const code = kinds.indexOf('code');
  let total = 0;
  let codeBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const size = snap.nodes[i + sizeAt];
    total += size;
    if (snap.nodes[i + typeAt] === code) codeBytes += size;
  }
  return { total, code: codeBytes };
}

/** A heap snapshot of the page (HeapProfiler takes it after a GC), broken down. */
export async function heapBreakdown(cdp: CDPSession): Promise<HeapBreakdown> {
  const chunks: string[] = [];
  const onChunk = (e: { chunk: string }) => chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  return breakdown(JSON.parse(chunks.join('')) as Snapshot);
}
