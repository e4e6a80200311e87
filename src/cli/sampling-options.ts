/**
 * What `npm run sample` and `npm run eval` share: the sampling options, their checks (a UsageError
 * that names the wrong option, exit code 2), loading a pretrained model or the classifier from its
 * directory, and generating images with a progress bar.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSchedule, type NoiseSchedule } from '../diffusion';
import {
  DEFAULT_SAMPLER,
  SAMPLER_KINDS,
  TIMESTEP_SPACINGS,
  X0_CLIPPINGS,
  samplerStepsLabel,
  type PredictionType,
  type SamplerKind,
  type TimestepSpacing,
  type X0Clipping,
} from '../diffusion/config';
import { loadFromDir } from '../io/weights-file-node';
import { loadModel } from '../io/model-files';
import { loadClassifier } from '../io/classifier-files';
import { generateImages, type GenerateRequest } from '../sampling/generate';
import type { DiffusionModel } from '../models/diffusion-model';
import type { ModelKind } from '../models/setup/model-setup';
import type { Classifier } from '../models/classifier';
import { UsageError, parseArgs, type OptionValues } from './args';
import { ProgressBar } from './progress';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** public/models/<name> under the project root. */
export const defaultModelDir = (name: string): string => join(ROOT, 'public', 'models', name);

/** The sampling options, with their defaults (-1 = not given, for --class). */
export const SAMPLING_DEFAULTS = {
  model: 'pixel',
  sampler: 'ddim',
  steps: 50,
  n: 100,
  seed: 0,
  class: -1,
  guidance: 1,
  eta: 0,
  batch: 50,
  spacing: DEFAULT_SAMPLER.spacing,
  clipping: DEFAULT_SAMPLER.clipping,
  'model-dir': '',
};

export const SAMPLING_USAGE =
  '--model pixel|latent --sampler ddpm|ddim|dpmpp --steps N --n N --seed S [--class D] [--guidance W] [--eta E] [--batch B] [--spacing linspace|leading|trailing] [--clipping none|clip|dynamic] [--model-dir DIR]';

/** parseArgs, with the tool's own usage line under the problem it names. */
export function parseOptions<T extends OptionValues>(argv: string[], defaults: T, usage: string): T {
  try {
    return parseArgs(argv, defaults);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message.split('\n')[0]}\nusage: ${usage}`);
    throw err;
  }
}

/** Where a tool writes: results on `out`, progress and errors on `err` (injectable for tests). */
export interface ToolIO {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

export interface SamplingSpec {
  model: ModelKind;
  modelDir: string;
  request: GenerateRequest;
}

const MODELS: readonly ModelKind[] = ['pixel', 'latent'];

/** Checks the sampling options (before anything is loaded); throws a UsageError naming the wrong one. */
export function samplingSpec(args: typeof SAMPLING_DEFAULTS, usage: string): SamplingSpec {
  const bad = (problem: string) => new UsageError(`${problem}\nusage: ${usage}`);
  const int = (name: keyof typeof SAMPLING_DEFAULTS, lo: number, hi: number) => {
    const v = args[name] as number;
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw bad(`--${name} must be an integer in ${lo}..${hi}, got ${v}`);
    return v;
  };
  if (!(MODELS as readonly string[]).includes(args.model)) throw bad(`unknown --model '${args.model}' (expected pixel or latent)`);
  if (!(SAMPLER_KINDS as readonly string[]).includes(args.sampler)) throw bad(`unknown --sampler '${args.sampler}' (expected ${SAMPLER_KINDS.join(', ')})`);
  const steps = int('steps', 1, 1000);
  const n = int('n', 1, 100_000);
  const seed = int('seed', 0, 2 ** 32 - 1);
  const digit = args.class === -1 ? null : int('class', 0, 9);
  const batch = int('batch', 1, 10_000);
  if (digit === null && n > batch && batch % 10 !== 0) throw bad(`--batch must be a multiple of 10 when digits cycle 0..9 (no --class), got ${batch}`);
  if (!(args.guidance >= 0 && Number.isFinite(args.guidance))) throw bad(`--guidance must be a number ≥ 0, got ${args.guidance}`);
  if (!(args.eta >= 0 && args.eta <= 1)) throw bad(`--eta must be in [0, 1], got ${args.eta}`);
  if (!(TIMESTEP_SPACINGS as readonly string[]).includes(args.spacing)) throw bad(`unknown --spacing '${args.spacing}' (expected ${TIMESTEP_SPACINGS.join(', ')})`);
  if (!(X0_CLIPPINGS as readonly string[]).includes(args.clipping)) throw bad(`unknown --clipping '${args.clipping}' (expected ${X0_CLIPPINGS.join(', ')})`);
  const model = args.model as ModelKind;
  return {
    model,
    modelDir: args['model-dir'] || defaultModelDir(model),
    request: {
      ...DEFAULT_SAMPLER,
      kind: args.sampler as SamplerKind,
      steps,
      eta: args.eta,
      guidance: args.guidance,
      spacing: args.spacing as TimestepSpacing,
      clipping: args.clipping as X0Clipping,
      numImages: n,
      seed,
      digit,
      batch,
    },
  };
}

/** Reads dir/model.json + weights.bin; a missing directory or model.json is a UsageError naming the option. */
export async function readDir(dir: string, option: string, what: string): Promise<{ modelJson: unknown; weightsBin: ArrayBuffer }> {
  if (!existsSync(join(dir, 'model.json'))) {
    throw new UsageError(`${option}: no ${what} at ${dir} (model.json missing): run npm run pretrain first, or pass ${option} DIR`);
  }
  return loadFromDir(dir);
}

export interface LoadedModel {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  classConditional: boolean;
}

/** Loads the model of a spec and checks the spec against it (kind, steps ≤ T, --class needs labels). */
export async function loadSpecModel(spec: SamplingSpec, usage: string): Promise<LoadedModel> {
  const { modelJson, weightsBin } = await readDir(spec.modelDir, '--model-dir', `${spec.model} model`);
  const { model, info } = loadModel(modelJson, weightsBin);
  try {
    const bad = (problem: string) => new UsageError(`${problem}\nusage: ${usage}`);
    if (info.setup.kind !== spec.model) throw bad(`--model ${spec.model}, but ${spec.modelDir} holds a ${info.setup.kind} model`);
    const T = info.setup.schedule.T;
    if (spec.request.steps > T) throw bad(`--steps must be at most the model's T = ${T}, got ${spec.request.steps}`);
    if (spec.request.digit !== null && !info.setup.classConditional) throw bad(`--class needs a class-conditional model; ${spec.modelDir} is unconditional`);
    return { model, schedule: makeSchedule(info.setup.schedule), prediction: info.setup.prediction, classConditional: info.setup.classConditional };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export async function loadClassifierDir(dir: string): Promise<{ classifier: Classifier; steps: number; heldOutAccuracy: number }> {
  const { modelJson, weightsBin } = await readDir(dir, '--classifier-dir', 'classifier');
  const { model, info } = loadClassifier(modelJson, weightsBin);
  return { classifier: model, ...info };
}

export interface Generated {
  n: number;
  pixels: Uint8Array;
  seconds: number;
  msPerImage: number;
}

/** Generates the spec's images with a progress bar on `err`; the time per image excludes loading. */
export async function generate(loaded: LoadedModel, spec: SamplingSpec, err: NodeJS.WriteStream): Promise<Generated> {
  const { request } = spec;
  const bar = new ProgressBar(`sample ${spec.model} ${samplerStepsLabel(request.kind, request.steps)}`, Math.ceil(request.numImages / request.batch) * request.steps, err);
  const t0 = performance.now();
  const pixels = await generateImages(loaded.model, loaded.schedule, loaded.prediction, request, (done) => bar.update(done));
  const seconds = (performance.now() - t0) / 1000;
  return { n: request.numImages, pixels, seconds, msPerImage: (1000 * seconds) / request.numImages };
}

/** Runs a tool's main: 0 on success, 2 with the usage message for a UsageError, 1 with the message for anything else. */
export async function runTool(name: string, err: NodeJS.WriteStream, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (e) {
    err.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** Whether this module file is the script Node was started with (not imported by a test). */
export function isMainModule(metaUrl: string): boolean {
  return process.argv[1] != null && resolve(process.argv[1]) === fileURLToPath(metaUrl);
}
