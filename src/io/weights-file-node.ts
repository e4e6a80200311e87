/**
 * Node only (CLI scripts, tests): a model file (./weights-file.ts) as a directory holding `model.json`
 * and `weights.bin`, the same two files a browser download or `tf.io` handler would use.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE, WEIGHTS_FILE, type WeightsArtifacts } from './weights-file';
import { fileSizeProblem } from '../models/setup/file-limits';

/**
 * Writes `dir/model.json` and `dir/weights.bin` (creating dir). Each file is written to a temporary
 * name and renamed, weights first, so an interrupted save never leaves a model.json whose weights.bin
 * is half written.
 */
export async function saveToDir(dir: string, artifacts: WeightsArtifacts): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: [string, string | Uint8Array][] = [
    [WEIGHTS_FILE, new Uint8Array(artifacts.weightsBin)],
    [MODEL_FILE, `${JSON.stringify(artifacts.modelJson, null, 1)}\n`],
  ];
  for (const [name, data] of files) {
    const final = join(dir, name);
    const tmp = `${final}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, data);
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new Error(`model file: cannot write ${final}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

/**
 * Reads `dir/model.json` (parsed) and `dir/weights.bin` (an ArrayBuffer of exactly its bytes); pass
 * them to `loadWeights`, which validates both.
 */
export async function loadFromDir(dir: string): Promise<{ modelJson: unknown; weightsBin: ArrayBuffer }> {
  const read = async (name: string): Promise<Buffer> => {
    const path = join(dir, name);
    const size = await stat(path).then((s) => s.size, () => 0);
    const tooLarge = fileSizeProblem(name, size);
    if (tooLarge) throw new Error(`model file: ${tooLarge}`);
    try {
      return await readFile(path);
    } catch (e) {
      throw new Error(`model file: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
  // One after the other, so that a missing directory always reports model.json first (not whichever read fails first).
  const jsonBytes = await read(MODEL_FILE);
  const bin = await read(WEIGHTS_FILE);
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(jsonBytes.toString('utf8'));
  } catch (e) {
    throw new Error(`model file: ${join(dir, MODEL_FILE)} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`, {
      cause: e,
    });
  }
  // A Buffer can be a window into a larger shared pool: copy out exactly its bytes.
  const weightsBin = new Uint8Array(bin.byteLength);
  weightsBin.set(bin);
  return { modelJson, weightsBin: weightsBin.buffer };
}
