import { BACKEND_NAMES, type BackendName } from '../backends/names';

export interface BackendRequest {
  backend: BackendName | null;
  /** A note for the user when the URL named a backend we do not know. */
  note: string | null;
}

/** Reads `?backend=NAME` from a query string. */
export function parseBackendParam(search: string): BackendRequest {
  const raw = new URLSearchParams(search).get('backend');
  if (raw === null || raw.trim() === '') return { backend: null, note: null };
  const name = raw.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return { backend: name as BackendName, note: null };
  return {
    backend: null,
    note: `Unknown backend "${raw}" in the URL (known: ${BACKEND_NAMES.join(', ')}); using the default choice.`,
  };
}

/** The wasm thread counts `?threads=N` may ask for (tfjs's pool holds 8 workers; 4 is the page's most). */
export const WASM_THREAD_CHOICES = [1, 2, 3, 4] as const;

/**
 * Reads `?threads=N` (1-4): how many threads the wasm backend starts with, instead of the page's
 * own choice (benchmarks compare them). Anything else: null, the page's choice.
 */
export function parseThreadsParam(search: string): number | null {
  const raw = new URLSearchParams(search).get('threads')?.trim();
  const n = Number(raw);
  return raw && (WASM_THREAD_CHOICES as readonly number[]).includes(n) ? n : null;
}

/**
 * Reads `?stream=0` (train without streaming progress and previews; benchmarks compare it with the
 * default to measure what streaming costs). Anything else streams.
 */
export function parseStreamParam(search: string): boolean {
  return new URLSearchParams(search).get('stream') !== '0';
}

/**
 * Reads `?pretrained=0` (or `off`, `no`, `false`): start from fresh weights (the tiny pixel U-Net)
 * instead of loading the pretrained model. Anything else starts from the pretrained model.
 */
export function parsePretrainedParam(search: string): 'pretrained' | 'scratch' {
  const raw = new URLSearchParams(search).get('pretrained');
  return raw !== null && ['0', 'off', 'no', 'false'].includes(raw.trim().toLowerCase()) ? 'scratch' : 'pretrained';
}
