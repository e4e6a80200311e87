/**
 * The schema of a ModelSetup read from a file (an import, a training checkpoint, a pretrained model): every
 * field present with the right type and an allowed value, no unknown field, then the numeric ranges
 * of `validateSetup`. What a file carries is data only: this returns a fresh plain object built from
 * the checked fields, so nothing else of the file's JSON ever reaches the engine.
 */
import { PREDICTION_TYPES, SCHEDULE_KINDS } from '../diffusion/config';
import { LATENT_UNET_PRESETS, UNET_PRESETS } from '../models/setup/unet-config';
import { AUTOENCODER_PRESETS } from '../models/setup/autoencoder-config';
import type { ModelSetup } from '../models/setup/model-setup';
import { validateSetup } from '../models/factory';

export class SetupSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupSchemaError';
  }
}

type Obj = Record<string, unknown>;

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function shown(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 30 ? `${x.slice(0, 30)}…` : x);
  if (Array.isArray(x)) return 'an array';
  if (x === null) return 'null';
  if (typeof x === 'object') return 'an object';
  return String(x);
}

function object(x: unknown, where: string, keys: readonly string[], optional: readonly string[] = []): Obj {
  if (!isObject(x)) throw new SetupSchemaError(`${where} must be an object, got ${x === undefined ? 'nothing' : shown(x)}.`);
  const unknown = Object.keys(x).filter((k) => !keys.includes(k) && !optional.includes(k));
  if (unknown.length > 0) throw new SetupSchemaError(`${where} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 3).map((k) => shown(k)).join(', ')}.`);
  const missing = keys.filter((k) => !(k in x));
  if (missing.length > 0) throw new SetupSchemaError(`${where} lacks the field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`);
  return x;
}

function oneOf<T extends string>(x: unknown, where: string, allowed: readonly T[]): T {
  if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) {
    throw new SetupSchemaError(`${where} must be one of ${allowed.join(', ')}, got ${shown(x)}.`);
  }
  return x as T;
}

function finite(x: unknown, where: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new SetupSchemaError(`${where} must be a finite number, got ${shown(x)}.`);
  return x;
}

function bool(x: unknown, where: string): boolean {
  if (typeof x !== 'boolean') throw new SetupSchemaError(`${where} must be true or false, got ${shown(x)}.`);
  return x;
}

const SETUP_KEYS = ['schedule', 'kind', 'preset', 'latent', 'prediction', 'attention', 'dropout', 'classConditional', 'emaDecay', 'minSnrGamma'] as const;
const SCHEDULE_KEYS = ['kind', 'T', 'betaStart', 'betaEnd', 'rescaleZeroTerminalSnr'] as const;
const LATENT_KEYS = ['autoencoder', 'latentChannels', 'denoiser', 'klWeight'] as const;

/**
 * Checks that `x` is a complete, valid ModelSetup and returns a clean copy. Throws a
 * SetupSchemaError naming the first bad field (`where` prefixes it, e.g. 'setup').
 */
export function parseSetup(x: unknown, where = 'setup'): ModelSetup {
  const s = object(x, where, SETUP_KEYS);
  const sc = object(s.schedule, `${where}.schedule`, SCHEDULE_KEYS);
  const la = object(s.latent, `${where}.latent`, LATENT_KEYS, ['autoencoderAttention']);
  const setup: ModelSetup = {
    schedule: {
      kind: oneOf(sc.kind, `${where}.schedule.kind`, SCHEDULE_KINDS),
      T: finite(sc.T, `${where}.schedule.T`),
      betaStart: finite(sc.betaStart, `${where}.schedule.betaStart`),
      betaEnd: finite(sc.betaEnd, `${where}.schedule.betaEnd`),
      rescaleZeroTerminalSnr: bool(sc.rescaleZeroTerminalSnr, `${where}.schedule.rescaleZeroTerminalSnr`),
    },
    kind: oneOf(s.kind, `${where}.kind`, ['pixel', 'latent'] as const),
    preset: oneOf(s.preset, `${where}.preset`, UNET_PRESETS),
    latent: {
      autoencoder: oneOf(la.autoencoder, `${where}.latent.autoencoder`, AUTOENCODER_PRESETS),
      latentChannels: finite(la.latentChannels, `${where}.latent.latentChannels`),
      denoiser: oneOf(la.denoiser, `${where}.latent.denoiser`, LATENT_UNET_PRESETS),
      klWeight: finite(la.klWeight, `${where}.latent.klWeight`),
      // Optional: files saved before the autoencoder could have attention lack it.
      ...(la.autoencoderAttention !== undefined ? { autoencoderAttention: bool(la.autoencoderAttention, `${where}.latent.autoencoderAttention`) } : {}),
    },
    prediction: oneOf(s.prediction, `${where}.prediction`, PREDICTION_TYPES),
    attention: bool(s.attention, `${where}.attention`),
    dropout: finite(s.dropout, `${where}.dropout`),
    classConditional: bool(s.classConditional, `${where}.classConditional`),
    emaDecay: finite(s.emaDecay, `${where}.emaDecay`),
    minSnrGamma: finite(s.minSnrGamma, `${where}.minSnrGamma`),
  };
  // The latent part is checked even for a pixel model (validateSetup skips it there): a file holds no junk.
  const { latentChannels, klWeight } = setup.latent;
  if (!Number.isInteger(latentChannels) || latentChannels < 2 || latentChannels > 8) throw new SetupSchemaError(`${where}.latent.latentChannels must be an integer in 2..8, got ${latentChannels}.`);
  if (klWeight < 0 || klWeight > 1) throw new SetupSchemaError(`${where}.latent.klWeight must be in [0, 1], got ${klWeight}.`);
  try {
    validateSetup(setup);
  } catch (err) {
    throw new SetupSchemaError(`${where} is out of range: ${err instanceof Error ? err.message : String(err)}`);
  }
  return setup;
}
