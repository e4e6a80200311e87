/**
 * Node only (CLI scripts, tests): the pretrained models read from a folder laid out like
 * public/models/ (<kind>/model.json, weights.bin, manifest.json) instead of over HTTP.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PretrainedReader } from './pretrained';

export function dirReader(dir: string): PretrainedReader {
  return async (path, onProgress) => {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    onProgress?.(bytes.byteLength, bytes.byteLength);
    // A Buffer can be a window into a larger shared pool: copy out exactly its bytes.
    const out = new Uint8Array(bytes.byteLength);
    out.set(bytes);
    return out.buffer;
  };
}
