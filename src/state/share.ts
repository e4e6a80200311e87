/**
 * Shareable state, as in TensorFlow Playground: every setting lives in the URL's query, so a link
 * reproduces a configuration. `encodeShare` writes the settings that differ from the page's
 * starting values (short links); `decodeShare` reads a query back, clamping what is out of range
 * and dropping what it cannot use, with a note for the user about each.
 */
import { DEFAULT_SCHEDULE } from '../diffusion/config';
import { presetAttention } from '../models/setup/model-setup';
import { PARAMS, PARAM_BY_KEY, PASSTHROUGH_KEYS, formatValue, isSectionKey, parseValue, type Settings, type Value } from './share-params';
import { DEFAULT_SAMPLING } from './store';
import { BACKEND_NAMES } from '../backends/names';

export type { Settings, Value } from './share-params';

export interface DecodedLink {
  /** The settings the link sets, by parameter name (only those it has and that could be used). */
  values: Map<string, Value>;
  /** What was clamped, rounded or ignored, in words. */
  notes: string[];
}

/** At most this many notes are listed; the rest are counted in one more. */
export const MAX_LINK_NOTES = 10;

/**
 * The page's other parameters and the values each reads (`backend` is checked by ./url.ts, which
 * says so itself); anything else is read as the default, which a note says.
 */
const PASSTHROUGH_WORDS: Partial<Record<(typeof PASSTHROUGH_KEYS)[number], { values: string[]; fallback: string }>> = {
  pretrained: { values: ['0', 'off', 'no', 'false', '1', 'on', 'yes', 'true'], fallback: 'the page starts on the pretrained model' },
  threads: { values: ['1', '2', '3', '4'], fallback: 'the page chooses the wasm threads' },
  stream: { values: ['0', '1'], fallback: 'training streams its progress' },
  testhooks: { values: ['0', '1'], fallback: 'no test hooks' },
};

/** Keys of the network's shape: a change to any of them starts from that preset's attention default. */
const NETWORK_KEYS = ['model', 'unet', 'lden', 'lc'];

/** Reads the shareable settings of a query string (`?a=1&b=2` or `a=1&b=2`). */
export function decodeShare(search: string): DecodedLink {
  const params = new URLSearchParams(search);
  const values = new Map<string, Value>();
  const notes: string[] = [];
  const seen = new Set<string>();
  for (const [key, raw] of params) {
    if (seen.has(key)) continue; // the first of a repeated name counts, as URLSearchParams.get reads it
    seen.add(key);
    if (isSectionKey(key)) continue; // a section's own setting (./section-url.ts)
    if ((PASSTHROUGH_KEYS as readonly string[]).includes(key)) {
      const words = PASSTHROUGH_WORDS[key as (typeof PASSTHROUGH_KEYS)[number]];
      if (words && !words.values.includes(raw.trim().toLowerCase())) notes.push(`"${key}=${raw}" in the link must be ${words.values.join(', ')}; ignored (${words.fallback}).`);
      continue;
    }
    const spec = PARAM_BY_KEY.get(key);
    if (!spec) {
      notes.push(`"${key}" in the link is not a setting; ignored.`);
      continue;
    }
    const parsed = parseValue(spec, raw);
    if (parsed.note) notes.push(parsed.note);
    if (parsed.value !== undefined) values.set(key, parsed.value);
  }
  // Settings that must agree with each other.
  const start = (values.get('b0') as number | undefined) ?? DEFAULT_SCHEDULE.betaStart;
  const end = (values.get('b1') as number | undefined) ?? DEFAULT_SCHEDULE.betaEnd;
  if ((values.has('b0') || values.has('b1')) && start >= end) {
    values.delete('b0');
    values.delete('b1');
    notes.push(`The link's β start (${start}) must be smaller than its β end (${end}); its β range was ignored.`);
  }
  const T = (values.get('T') as number | undefined) ?? DEFAULT_SCHEDULE.T;
  const steps = values.get('steps') as number | undefined;
  if (steps !== undefined && steps > T) {
    values.set('steps', T);
    notes.push(`The link's sampling steps (${steps}) cannot exceed T = ${T}; using ${T}.`);
  } else if (steps === undefined && values.has('T') && DEFAULT_SAMPLING.steps > T) {
    values.set('steps', T);
    notes.push(`Sampling steps cannot exceed the link's T = ${T}; using ${T}.`);
  }
  // A link made of garbage lists a few notes, not a page of them.
  if (notes.length > MAX_LINK_NOTES) notes.splice(MAX_LINK_NOTES - 1, notes.length, `…and ${notes.length - MAX_LINK_NOTES + 1} more problems in the link; they were ignored.`);
  return { values, notes };
}

/**
 * The settings with the link's values applied. A change of network (kind, preset, latent channels)
 * without an explicit attention setting takes the preset's default, as the Model panel does.
 */
export function applyValues(settings: Settings, values: ReadonlyMap<string, Value>): Settings {
  let next = settings;
  for (const spec of PARAMS) {
    if (values.has(spec.key)) next = spec.set(next, values.get(spec.key) as Value);
  }
  if (!values.has('attn') && NETWORK_KEYS.some((k) => values.has(k))) {
    next = { ...next, setup: { ...next.setup, attention: presetAttention(next.setup) } };
  }
  return next;
}

/** True when the link sets any part of the model beyond its kind (schedule, preset, ...): it describes its own model. */
export function linkSetsModel(values: ReadonlyMap<string, Value>): boolean {
  return PARAMS.some((p) => p.group === 'setup' && p.key !== 'model' && values.has(p.key));
}

export interface EncodeOptions {
  /** 'all' writes every model setting that differs; 'kind' only the model kind (the pretrained model stands for the rest). */
  setup: 'all' | 'kind';
}

/** The query parameters (name, text) of the settings that differ from `baseline`, in the table's order. */
export function encodeShare(settings: Settings, baseline: Settings, options: EncodeOptions = { setup: 'all' }): [string, string][] {
  const out: [string, string][] = [];
  for (const spec of PARAMS) {
    if (spec.group === 'setup' && options.setup === 'kind' && spec.key !== 'model') continue;
    const v = spec.get(settings);
    if (typeof v === 'number' && !Number.isFinite(v)) continue; // an unreadable box: the link keeps the starting value
    const base = spec.key === 'attn' ? presetAttention(settings.setup) : spec.get(baseline);
    if (v !== base) out.push([spec.key, formatValue(spec.type, v)]);
  }
  return out;
}

/**
 * The page's whole query: the kept parameters of `search` (backend, threads, stream, testhooks), `pretrained=0` when
 * asked, then the settings. Returns '' when there is nothing to say, else '?...'.
 */
export function buildQuery(search: string, settings: [string, string][], scratch: boolean): string {
  const current = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const key of ['backend', 'threads', 'stream', 'testhooks'] as const) {
    const v = current.get(key);
    // A value the page ignored (with a note) is not written back.
    const readable = key === 'backend' ? (BACKEND_NAMES as readonly string[]).includes(v?.trim().toLowerCase() ?? '') : PASSTHROUGH_WORDS[key]!.values.includes(v?.trim().toLowerCase() ?? '');
    if (v !== null && readable) out.set(key, v);
  }
  if (scratch) out.set('pretrained', '0');
  for (const [k, v] of settings) out.set(k, v);
  for (const [k, v] of current) if (isSectionKey(k) && !out.has(k)) out.set(k, v);
  const text = out.toString();
  return text ? `?${text}` : '';
}
