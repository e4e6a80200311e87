/**
 * Loads the MNIST binary in Node (tests, CLI). If the file is missing it is built first by
 * calling `buildMnist` from scripts/build-mnist.mjs, the same code `npm install` runs.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseMnist, type MnistDataset } from './mnist';

// Paths are joined by hand, not with `new URL(literal, import.meta.url)`, which a bundler would
// treat as an asset reference (and copy the 8 MB file) if this module were ever bundled.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** public/data/mnist.bin under the project root, found relative to this source file. */
export const DEFAULT_MNIST_PATH = join(ROOT, 'public', 'data', 'mnist.bin');

const BUILD_SCRIPT_URL = pathToFileURL(join(ROOT, 'scripts', 'build-mnist.mjs')).href;

/** Options of the build script's `buildMnist`. */
export interface BuildMnistOptions {
  /** Rebuild even when the output is newer than its sources. */
  force?: boolean;
  /** Output path (default public/data/mnist.bin). */
  output?: string;
  /** Do not print the one-line summary. */
  quiet?: boolean;
}

/** What `buildMnist` did; `count` is null when it skipped an up-to-date file. */
export interface BuildMnistResult {
  path: string;
  built: boolean;
  count: number | null;
  bytes: number;
}

/** Runs scripts/build-mnist.mjs's `buildMnist` (a no-op when the file is up to date). */
export async function buildMnistNode(options: BuildMnistOptions = {}): Promise<BuildMnistResult> {
  // A computed specifier keeps TypeScript from needing declarations for the .mjs script.
  const script = (await import(/* @vite-ignore */ BUILD_SCRIPT_URL)) as {
    buildMnist(options: BuildMnistOptions): BuildMnistResult;
  };
  return script.buildMnist(options);
}

/**
 * Reads and parses the MNIST binary at `path` (default {@link DEFAULT_MNIST_PATH}). When the
 * default file is missing it is built first; a missing custom path is an error.
 */
export async function loadMnistNode(path: string = DEFAULT_MNIST_PATH): Promise<MnistDataset> {
  if (!existsSync(path)) {
    if (path !== DEFAULT_MNIST_PATH) {
      throw new Error(`MNIST data missing at ${path}: build it with node scripts/build-mnist.mjs`);
    }
    await buildMnistNode({ quiet: true });
  }
  const bytes = await readFile(path);
  // Copy into a standalone ArrayBuffer: Node's Buffer may be a slice of a larger pool.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  try {
    return parseMnist(buffer as ArrayBuffer);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `MNIST data at ${path} is malformed (${reason}): rebuild it with node scripts/build-mnist.mjs --force`,
      { cause: error },
    );
  }
}
