/**
 * The shareable settings as URL query parameters: one short name per setting, with its type and
 * the range a link may ask for. Pure data and pure functions (no DOM): `share.ts` encodes and
 * decodes with this table, the page applies the result.
 */
import { ADAPTIVE_CHOICES, DDPM_VARIANCES, DEFAULT_ATOL, DEFAULT_EARLY_STOP_THRESHOLD, DEFAULT_RTOL, EARLY_STOP_CHOICES, PREDICTION_TYPES, SAMPLER_KINDS, SCHEDULE_KINDS, TIMESTEP_SPACINGS, X0_CLIPPINGS, type ScheduleConfig } from '../diffusion/config';
import { LATENT_UNET_PRESETS, UNET_PRESETS } from '../models/setup/unet-config';
import { LR_SCHEDULES } from '../diffusion/lr-schedule';
import { AUTOENCODER_PRESETS } from '../models/setup/autoencoder-config';
import type { LatentSetup, ModelSetup } from '../models/setup/model-setup';
import type { SamplingConfig } from '../sampling/config';
import type { TrainingForm } from './store';

/** Everything a link can set: the model setup (schedule included) and the training and sampling forms. */
export interface Settings {
  setup: ModelSetup;
  training: TrainingForm;
  sampling: SamplingConfig;
}

export type Value = number | string | boolean | null;

export type ParamType =
  /** A number clamped to [min, max] (rounded to a whole number for 'int', to a multiple of `step` when given). */
  | { kind: 'int' | 'num'; min: number; max: number; step?: number }
  /** A number that must be one of the choices (what the page's select offers). */
  | { kind: 'choice'; choices: readonly number[] }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' }
  /** The sampling digit: 0..9, or 'any' (null). */
  | { kind: 'digit' };

export type ParamGroup = 'setup' | 'training' | 'sampling';

export interface ParamSpec {
  key: string;
  /** Part of the noise schedule (a setup setting the Schedule panel shows). */
  schedule?: true;
  /** The setting's name as the page labels it, for notes. */
  what: string;
  group: ParamGroup;
  type: ParamType;
  get: (s: Settings) => Value;
  set: (s: Settings, v: Value) => Settings;
}

const int = (min: number, max: number): ParamType => ({ kind: 'int', min, max });
const num = (min: number, max: number, step?: number): ParamType => ({ kind: 'num', min, max, step });
const oneOf = (values: readonly string[]): ParamType => ({ kind: 'enum', values });
const bool: ParamType = { kind: 'bool' };

function sched<K extends keyof ScheduleConfig>(key: string, what: string, field: K, type: ParamType): ParamSpec {
  return {
    key,
    what,
    group: 'setup',
    schedule: true,
    type,
    get: (s) => s.setup.schedule[field] as Value,
    set: (s, v) => ({ ...s, setup: { ...s.setup, schedule: { ...s.setup.schedule, [field]: v } } }),
  };
}

function model<K extends Exclude<keyof ModelSetup, 'schedule' | 'latent'>>(key: string, what: string, field: K, type: ParamType): ParamSpec {
  return { key, what, group: 'setup', type, get: (s) => s.setup[field] as Value, set: (s, v) => ({ ...s, setup: { ...s.setup, [field]: v } }) };
}

function latent<K extends keyof LatentSetup>(key: string, what: string, field: K, type: ParamType): ParamSpec {
  return {
    key,
    what,
    group: 'setup',
    type,
    get: (s) => s.setup.latent[field] as Value,
    set: (s, v) => ({ ...s, setup: { ...s.setup, latent: { ...s.setup.latent, [field]: v } } }),
  };
}

function train<K extends Exclude<keyof TrainingForm, 'stage' | 'stream'>>(key: string, what: string, field: K, type: ParamType): ParamSpec {
  return { key, what, group: 'training', type, get: (s) => s.training[field] as Value, set: (s, v) => ({ ...s, training: { ...s.training, [field]: v } }) };
}

function samp<K extends keyof SamplingConfig>(key: string, what: string, field: K, type: ParamType): ParamSpec {
  return { key, what, group: 'sampling', type, get: (s) => s.sampling[field] as Value, set: (s, v) => ({ ...s, sampling: { ...s.sampling, [field]: v } }) };
}

/** An optional sampling field: read as `fallback` when absent, and left absent when set to it (so defaults stay out of the settings). */
function sampOpt<K extends keyof SamplingConfig>(key: string, what: string, field: K, type: ParamType, fallback: Value): ParamSpec {
  return {
    ...samp(key, what, field, type),
    get: (s) => (s.sampling[field] ?? fallback) as Value,
    set: (s, v) => {
      const sampling = { ...s.sampling, [field]: v };
      if (v === fallback) delete sampling[field];
      return { ...s, sampling };
    },
  };
}

const SEED_MAX = 2 ** 31 - 1;

/** Every shareable setting, in the order the URL lists them. */
export const PARAMS: readonly ParamSpec[] = [
  sched('sched', 'Schedule kind', 'kind', oneOf(SCHEDULE_KINDS)),
  sched('T', 'Diffusion steps T', 'T', int(10, 1000)),
  sched('b0', 'β start', 'betaStart', num(1e-6, 0.999)),
  sched('b1', 'β end', 'betaEnd', num(1e-6, 0.999)),
  sched('zsnr', 'Rescale to zero terminal SNR', 'rescaleZeroTerminalSnr', bool),
  model('model', 'Model kind', 'kind', oneOf(['pixel', 'latent'])),
  model('unet', 'U-Net preset', 'preset', oneOf(UNET_PRESETS)),
  model('pred', 'Prediction type', 'prediction', oneOf(PREDICTION_TYPES)),
  latent('ae', 'Autoencoder preset', 'autoencoder', oneOf(AUTOENCODER_PRESETS)),
  latent('lc', 'Latent channels', 'latentChannels', int(2, 8)),
  latent('lden', 'Latent denoiser preset', 'denoiser', oneOf(LATENT_UNET_PRESETS)),
  latent('kl', 'Autoencoder KL weight', 'klWeight', { kind: 'choice', choices: [0, 1e-5, 1e-4] }),
  {
    key: 'aeattn',
    what: 'Attention in the autoencoder',
    group: 'setup',
    type: bool,
    // Absent means off (setups saved before the option), so off removes the field.
    get: (s) => s.setup.latent.autoencoderAttention ?? false,
    set: (s, v) => {
      const { autoencoderAttention: _old, ...rest } = s.setup.latent;
      return { ...s, setup: { ...s.setup, latent: v === true ? { ...rest, autoencoderAttention: true } : rest } };
    },
  },
  model('ema', 'EMA decay', 'emaDecay', num(0, 0.9999)),
  model('drop', 'Dropout', 'dropout', num(0, 0.9)),
  model('minsnr', 'Min-SNR-γ weighting', 'minSnrGamma', num(0, 20)),
  model('attn', 'Self-attention', 'attention', bool),
  model('cond', 'Class-conditional', 'classConditional', bool),
  train('lr', 'Learning rate', 'learningRate', num(1e-6, 1)),
  // A form from before the schedule existed (a checkpoint's) has neither field: constant, no warm-up.
  { ...train('lrsched', 'Learning-rate schedule', 'lrSchedule', oneOf(LR_SCHEDULES)), get: (s) => s.training.lrSchedule ?? 'constant' },
  { ...train('warmup', 'Warm-up steps', 'warmupSteps', int(0, 1_000_000)), get: (s) => s.training.warmupSteps ?? 0 },
  train('batch', 'Batch size', 'batchSize', int(1, 256)),
  train('tsteps', 'Training steps', 'steps', int(1, 1_000_000)),
  train('preview', 'Preview every N steps', 'previewEvery', int(0, 1_000_000)),
  train('tseed', 'Training seed', 'seed', int(0, SEED_MAX)),
  samp('sampler', 'Sampler', 'kind', oneOf(SAMPLER_KINDS)),
  samp('steps', 'Sampling steps', 'steps', int(1, 1000)),
  samp('eta', 'DDIM η', 'eta', num(0, 1)),
  samp('spacing', 'Timestep spacing', 'spacing', oneOf(TIMESTEP_SPACINGS)),
  samp('var', 'DDPM variance', 'ddpmVariance', oneOf(DDPM_VARIANCES)),
  samp('clip', 'x₀ clipping', 'clipping', oneOf(X0_CLIPPINGS)),
  samp('w', 'Guidance scale w', 'guidance', num(0, 10, 0.1)),
  samp('n', 'Number of images', 'numImages', int(1, 64)),
  samp('seed', 'Seed', 'seed', int(0, SEED_MAX)),
  samp('digit', 'Digit', 'digit', { kind: 'digit' }),
  samp('useema', 'Use EMA weights', 'useEma', bool),
  sampOpt('adaptive', 'Adaptive DPM-Solver (off, 12, 23)', 'adaptive', oneOf(ADAPTIVE_CHOICES), 'off'),
  sampOpt('rtol', 'Relative tolerance', 'rtol', num(1e-5, 1), DEFAULT_RTOL),
  sampOpt('atol', 'Absolute tolerance', 'atol', num(1e-5, 1), DEFAULT_ATOL),
  sampOpt('estop', 'Early stop', 'earlyStop', oneOf(EARLY_STOP_CHOICES), 'off'),
  sampOpt('estopth', 'Early-stop threshold', 'earlyStopThreshold', num(1e-5, 10), DEFAULT_EARLY_STOP_THRESHOLD),
];

export const PARAM_BY_KEY: ReadonlyMap<string, ParamSpec> = new Map(PARAMS.map((p) => [p.key, p]));

/**
 * Query parameters of the page's sections that keep their own settings (the 2D lab: `lab.*`, Edit:
 * `edit.*`): each section reads and writes its keys itself (./section-url.ts); the rest of the page
 * leaves them as they are.
 */
export const SECTION_PREFIXES = ['lab.', 'edit.'] as const;

export function isSectionKey(key: string): boolean {
  return SECTION_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** Query parameters the page reads elsewhere (the engine client), kept as they are. */
export const PASSTHROUGH_KEYS = ['backend', 'threads', 'stream', 'pretrained', 'testhooks'] as const;

/** Writes a value as the URL has it. */
export function formatValue(type: ParamType, v: Value): string {
  if (type.kind === 'bool') return v ? '1' : '0';
  if (type.kind === 'digit') return v === null ? 'any' : String(v);
  return String(v);
}

const TRUE_WORDS = ['1', 'true', 'on', 'yes'];
const FALSE_WORDS = ['0', 'false', 'off', 'no'];

/** Reads one parameter: its value (clamped or rounded, with a note saying so), or null and a note when it cannot be used. */
export function parseValue(spec: ParamSpec, raw: string): { value: Value; note: string | null } | { value: undefined; note: string } {
  const text = raw.trim();
  const shown = `"${spec.key}=${raw}"`;
  const { type } = spec;
  switch (type.kind) {
    case 'bool': {
      const t = text.toLowerCase();
      if (TRUE_WORDS.includes(t)) return { value: true, note: null };
      if (FALSE_WORDS.includes(t)) return { value: false, note: null };
      return { value: undefined, note: `${shown} in the link: ${spec.what} must be 1 or 0; ignored.` };
    }
    case 'enum':
      if (type.values.includes(text)) return { value: text, note: null };
      return { value: undefined, note: `${shown} in the link: ${spec.what} must be one of ${type.values.join(', ')}; ignored.` };
    case 'digit': {
      if (text.toLowerCase() === 'any') return { value: null, note: null };
      const d = Number(text);
      if (text !== '' && Number.isInteger(d) && d >= 0 && d <= 9) return { value: d, note: null };
      return { value: undefined, note: `${shown} in the link: ${spec.what} must be 0 to 9 or any; ignored.` };
    }
    case 'choice': {
      const v = Number(text);
      if (text !== '' && type.choices.includes(v)) return { value: v, note: null };
      return { value: undefined, note: `${shown} in the link: ${spec.what} must be one of ${type.choices.join(', ')}; ignored.` };
    }
    default: {
      const v = Number(text);
      if (text === '' || !Number.isFinite(v)) return { value: undefined, note: `${shown} in the link: ${spec.what} must be a number; ignored.` };
      let fixed = Math.min(type.max, Math.max(type.min, v));
      if (type.kind === 'int') fixed = Math.round(fixed);
      // toPrecision: 13 × 0.1 is 1.3000000000000003 in floating point; the link's 1.3 must stay 1.3.
      else if (type.step) fixed = Number((Math.round(fixed / type.step) * type.step).toPrecision(12));
      if (fixed === v) return { value: v, note: null };
      const why = v < type.min || v > type.max ? `must be between ${type.min} and ${type.max}` : type.kind === 'int' ? 'must be a whole number' : `goes in steps of ${type.step}`;
      return { value: fixed, note: `${shown} in the link: ${spec.what} ${why}; using ${fixed}.` };
    }
  }
}
