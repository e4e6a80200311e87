/**
 * Hostile model files are refused before they are read into memory (src/models/setup/file-limits.ts):
 * on the page by the picked file's size, in Node by the file's size on disk, in the engine by the
 * manifest (tensor count, the bytes its shapes need) before any tensor is decoded.
 */
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSizeProblem, MAX_TENSORS, MAX_WEIGHTS_BYTES } from '../../src/models/setup/file-limits';
import { loadWeights } from '../../src/io/weights-file';
import { loadFromDir } from '../../src/io/weights-file-node';
import { EngineClient } from '../../src/state/engine-client';
import { FakeWorker } from './fake-worker';

const GB2 = 2 * 1024 ** 3;

/** A model.json of the app's format whose manifest lists `weights`. */
function modelJson(weights: { name: string; shape: number[]; dtype: string }[]) {
  return {
    format: 'diffusion-playground',
    userDefinedMetadata: { format: 'diffusion-playground', version: 1, kind: 'unet', config: {} },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
}

describe('hostile model files', () => {
  it('a 2 GB weights file or a 9 MB model.json is refused by its size; real sizes pass', () => {
    expect(fileSizeProblem('weights.bin', GB2)).toMatch(/weights\.bin is 2048 MB, more than the 256 MB .* it was not read/);
    expect(fileSizeProblem('model.json', 9 * 1024 * 1024)).toMatch(/more than the 8 MB a model\.json/);
    expect(fileSizeProblem('weights.bin', 8_501_188)).toBeNull(); // the pretrained LDM
    expect(fileSizeProblem('model.json', 57_930)).toBeNull();
  });

  it('the page refuses a 2 GB pick without reading it', async () => {
    const worker = new FakeWorker();
    const client = new EngineClient({ search: '?pretrained=0', createWorker: () => worker as unknown as Worker });
    client.start();
    let read = 0;
    const file = (name: string, size: number) => ({ name, size, arrayBuffer: async () => (read++, new ArrayBuffer(0)) }) as unknown as File;
    await client.importModel([file('model.json', 1000), file('weights.bin', GB2)]);
    expect(read).toBe(0);
    expect(worker.sentOf('model/import')).toHaveLength(0);
    expect(client.store.getState().errors.map((e) => e.message).join('\n')).toMatch(/Import refused: weights\.bin is 2048 MB/);
    expect(client.store.getState().transfer).toBe('idle');
  });

  it('Node refuses a 2 GB weights.bin on disk before reading it (a sparse file: no disk used)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostile-'));
    try {
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson([])));
      await writeFile(join(dir, 'weights.bin'), '');
      await truncate(join(dir, 'weights.bin'), GB2);
      await expect(loadFromDir(dir)).rejects.toThrow(/weights\.bin is 2048 MB, more than the 256 MB/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a manifest of a million tensors, or shapes needing terabytes, is refused before any tensor is decoded', () => {
    const million = Array.from({ length: 1_000_000 }, (_, i) => ({ name: `w${i}`, shape: [1], dtype: 'float32' }));
    const started = performance.now();
    expect(() => loadWeights(modelJson(million), new ArrayBuffer(4))).toThrow(new RegExp(`1,000,000 tensors; a model of this app has at most ${MAX_TENSORS.toLocaleString('en')}`));
    expect(performance.now() - started).toBeLessThan(1000);
    const absurd = [{ name: 'w', shape: [1_000_000, 1_000_000], dtype: 'float32' }];
    expect(() => loadWeights(modelJson(absurd), new ArrayBuffer(4))).toThrow(new RegExp(`need more than ${MAX_WEIGHTS_BYTES / 1024 / 1024} MB \\(at 'w'`));
  });
});
