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
