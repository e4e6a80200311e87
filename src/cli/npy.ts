/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), enough
 * for the command-line tools: `npm run sample -- --out FILE.npy` writes uint8 images [N, 28, 28]
 * (`np.load` reads them back), `npm run eval -- --samples FILE.npy` reads them, or float32 images.
 *
 * Layout: the magic "\x93NUMPY", major and minor version bytes, the header's length (uint16 LE in
 * version 1.0, uint32 LE in 2.0 and 3.0), then the header, a Python dict literal such as
 * "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 28, 28), }" padded with spaces and ended
 * by '\n' so that the data starts at a multiple of 64 bytes, then the data in C order.
 * We write version 1.0 with dtype '|u1'; we read versions 1.0-3.0 with dtype '|u1' (uint8) or
 * '<f4' (little-endian float32), C order.
 */
import { readFile, writeFile } from 'node:fs/promises';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;

export type NpyArray = { dtype: 'uint8'; shape: number[]; data: Uint8Array } | { dtype: 'float32'; shape: number[]; data: Float32Array };

const shapeText = (shape: number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

/** A version 1.0 .npy file of uint8 data with the given shape (C order). */
export function encodeNpy(data: Uint8Array, shape: number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((s) => Number.isInteger(s) && s >= 0)) throw new Error(`npy: bad shape ${shapeText(shape)}.`);
  if (size !== data.length) throw new Error(`npy: shape ${shapeText(shape)} needs ${size} values, got ${data.length}.`);
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  const unpadded = MAGIC.length + 4 + header.length + 1;
  header += ' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN) + '\n';
  if (header.length > 0xffff) throw new Error('npy: header too long for format version 1.0.');
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

/** Reads the header's dict literal: descr, fortran_order and shape. */
function parseHeader(text: string, name: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const dict = text.trim();
  if (!dict.startsWith('{') || !dict.endsWith('}')) throw new Error(`${name}: the .npy header is not a dict: ${JSON.stringify(dict.slice(0, 80))}.`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(dict);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(dict);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(dict);
  if (!descr || !fortran || !shape) {
    const missing = [!descr && 'descr', !fortran && 'fortran_order', !shape && 'shape'].filter(Boolean).join(', ');
    throw new Error(`${name}: the .npy header lacks ${missing}: ${JSON.stringify(dict.slice(0, 120))}.`);
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!dims.every((s) => /^\d+L?$/.test(s))) throw new Error(`${name}: the .npy header has a bad shape (${shape[1]}).`);
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims.map((s) => parseInt(s, 10)) };
}

/** Parses a .npy file's bytes; throws an Error naming what is wrong (`name` is the file, for messages). */
export function decodeNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  if (!MAGIC.every((b, i) => i >= bytes.length || bytes[i] === b)) {
    throw new Error(`${name}: not a .npy file (bad magic: the file must start with "\\x93NUMPY").`);
  }
  if (bytes.length < 10) throw new Error(`${name}: truncated .npy file (${bytes.length} bytes, shorter than its preamble).`);
  const [major, minor] = [bytes[6], bytes[7]];
  if (!(major >= 1 && major <= 3) || minor !== 0) throw new Error(`${name}: unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are read).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new Error(`${name}: truncated .npy file (${bytes.length} bytes, no header length).`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  const dataStart = start + headerLength;
  if (bytes.length < dataStart) throw new Error(`${name}: truncated .npy file (${bytes.length} bytes, the header alone needs ${dataStart}).`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(text, name);
  const itemSize = descr === '<f4' ? 4 : descr === '|u1' || descr === 'u1' || descr === '<u1' ? 1 : 0;
  if (itemSize === 0) throw new Error(`${name}: unsupported dtype '${descr}' (expected '|u1' for uint8 or '<f4' for float32).`);
  if (fortranOrder && shape.filter((s) => s > 1).length > 1) throw new Error(`${name}: Fortran-order arrays are not supported (save with C order).`);
  const size = shape.reduce((a, b) => a * b, 1);
  const have = bytes.length - dataStart;
  if (have < size * itemSize) {
    throw new Error(`${name}: truncated .npy file: shape ${shapeText(shape)} of '${descr}' needs ${size * itemSize} data bytes, the file has ${have}.`);
  }
  if (have > size * itemSize) throw new Error(`${name}: ${have - size * itemSize} unexpected bytes after the data of shape ${shapeText(shape)}.`);
  if (itemSize === 1) return { dtype: 'uint8', shape, data: bytes.slice(dataStart, dataStart + size) };
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = view.getFloat32(dataStart + 4 * i, true);
  return { dtype: 'float32', shape, data };
}

export async function writeNpy(path: string, data: Uint8Array, shape: number[]): Promise<void> {
  await writeFile(path, encodeNpy(data, shape));
}

export async function readNpy(path: string): Promise<NpyArray> {
  const bytes = await readFile(path);
  return decodeNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Images as bytes, and the value range a float32 file was read as. */
export interface NpyImages {
  n: number;
  pixels: Uint8Array;
  range: '0..255' | '0..1' | '-1..1';
}

/**
 * An array of 28×28 grayscale images ([N, 28, 28], [N, 28, 28, 1], [N, 1, 28, 28] or [N, 784]) as
 * uint8 pixels. uint8 is taken as is. float32 is read as [0, 1] when every value lies there, else
 * as [−1, 1] (the models' range) when every value lies there, else as [0, 255]; anything else is an error.
 */
export function npyToImages(array: NpyArray, name = 'npy', size = 28): NpyImages {
  const { shape } = array;
  const pixels = size * size;
  const n = shape[0] ?? 0;
  const ok = shape.length >= 2 && shape.slice(1).reduce((a, b) => a * b, 1) === pixels && shape.slice(1).every((s) => s === size || s === 1 || s === pixels);
  if (!ok || n === 0) throw new Error(`${name}: expected images of shape [N, ${size}, ${size}] with N ≥ 1, got ${shapeText(shape)}.`);
  if (array.dtype === 'uint8') return { n, pixels: array.data, range: '0..255' };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of array.data) {
    if (!Number.isFinite(v)) throw new Error(`${name}: the float32 images hold a non-finite value (${v}).`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = lo >= 0 && hi <= 1 ? '0..1' : lo >= -1 && hi <= 1 ? '-1..1' : lo >= 0 && hi <= 255 ? '0..255' : null;
  if (range == null) throw new Error(`${name}: float32 values span [${lo}, ${hi}], which is not [0, 1], [−1, 1] or [0, 255].`);
  const [scale, offset] = range === '0..1' ? [255, 0] : range === '-1..1' ? [127.5, 1] : [1, 0];
  const out = new Uint8Array(array.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round((array.data[i] + offset) * scale)));
  return { n, pixels: out, range };
}
