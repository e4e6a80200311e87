/**
 * The largest model files the page and the engine accept. Checked before a file is read into memory
 * (its size, on the page) and before any tensor is decoded (the manifest, in the engine), so that a
 * hostile or mistaken file (a 2 GB weights file, a model.json listing a million tensors or absurd
 * shapes) is refused with a message instead of freezing or crashing the tab. The largest model this
 * app builds (the base U-Net with its optimizer state) is far below them.
 */
export const MAX_MODEL_JSON_BYTES = 8 * 1024 * 1024;
export const MAX_WEIGHTS_BYTES = 256 * 1024 * 1024;
export const MAX_TENSORS = 20_000;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MB`;

/** Why a model file of this name and size is refused before reading it, or null when it may be read. */
export function fileSizeProblem(name: string, bytes: number): string | null {
  const isJson = name.toLowerCase().endsWith('.json');
  const max = isJson ? MAX_MODEL_JSON_BYTES : MAX_WEIGHTS_BYTES;
  if (bytes <= max) return null;
  return `${name} is ${mib(bytes)}, more than the ${mib(max)} a ${isJson ? 'model.json' : 'weights file'} of this app can be: it was not read.`;
}
