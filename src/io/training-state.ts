/**
 * What a model file carries about its training, besides the weights: the loss history of the stage
 * trained last (export, import and checkpoints) and, in a training checkpoint, everything a run
 * needs to go on exactly where it stopped (its configuration, the trainers' step counts and random
 * generators). Each has a strict parser for what comes from a file: plain data, checked field by
 * field, never trusted as is.
 */
import type { RandomState } from '../data/random';
import type { TrainingConfig, TrainingStage } from '../engine/run-config';
import { LR_SCHEDULES, type LrSchedule } from '../diffusion/lr-schedule';
import type { TrainerState } from '../engine/trainer';

/** The loss curve the page shows: one point per step of `stage`, in step order. */
export interface LossTrace {
  stage: TrainingStage;
  steps: number[];
  losses: number[];
}

/** A training run's state in a checkpoint (the optimizers' moments travel as tensors). */
export interface TrainingResume {
  /** The stage of the run and the configuration it ran with. */
  stage: TrainingStage;
  config: TrainingConfig;
  /** Steps the model had before these trainers existed (pretrained or imported models). */
  offsets: { autoencoder: number; denoiser: number };
  /** The denoiser's trainer (step, random generators), or null when it has not trained here. */
  denoiser: TrainerState | null;
  /** The autoencoder trainer's step count, or null when it has not trained here. */
  autoencoderStep: number | null;
}

/** Longest loss history a file may hold (one point per step). */
export const MAX_HISTORY = 1_000_000;
/** Most steps a training run may ask for. */
export const MAX_TRAIN_STEPS = 1_000_000;

export class TrainingStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingStateError';
  }
}

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new TrainingStateError(message);
}

function object(x: unknown, where: string, required: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(`${where} must be an object.`);
  const o = x as Obj;
  const unknown = Object.keys(o).filter((k) => !required.includes(k) && !optional.includes(k));
  if (unknown.length > 0) fail(`${where} has unknown field ${JSON.stringify(unknown[0].slice(0, 30))}.`);
  for (const k of required) if (!(k in o)) fail(`${where} lacks the field ${k}.`);
  return o;
}

function int(x: unknown, where: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) fail(`${where} must be an integer in [${min}, ${max}], got ${String(x).slice(0, 30)}.`);
  return x;
}

function stage(x: unknown, where: string): TrainingStage {
  if (x !== 'autoencoder' && x !== 'denoiser') fail(`${where} must be 'autoencoder' or 'denoiser'.`);
  return x;
}

/** A loss trace from a file: equal-length arrays, steps increasing integers, losses finite and ≥ 0. */
export function parseLossTrace(x: unknown, where = 'history'): LossTrace {
  const o = object(x, where, ['stage', 'steps', 'losses']);
  const { steps, losses } = o;
  if (!Array.isArray(steps) || !Array.isArray(losses)) fail(`${where}.steps and ${where}.losses must be arrays.`);
  if (steps.length !== losses.length) fail(`${where} has ${steps.length} steps but ${losses.length} losses.`);
  if (steps.length > MAX_HISTORY) fail(`${where} has ${steps.length} points, more than ${MAX_HISTORY}.`);
  let prev = -1;
  steps.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s <= prev || s > MAX_TRAIN_STEPS) fail(`${where}.steps[${i}] must be an integer step after ${prev}, got ${String(s).slice(0, 30)}.`);
    prev = s;
  });
  losses.forEach((l, i) => {
    if (typeof l !== 'number' || !Number.isFinite(l) || l < 0) fail(`${where}.losses[${i}] must be a finite loss ≥ 0, got ${String(l).slice(0, 30)}.`);
  });
  return { stage: stage(o.stage, `${where}.stage`), steps: [...(steps as number[])], losses: [...(losses as number[])] };
}

/** A training configuration from a file, within the ranges the Training panel allows. */
export function parseTrainingConfig(x: unknown, where = 'training'): TrainingConfig {
  const o = object(x, where, ['stage', 'learningRate', 'batchSize', 'steps', 'previewEvery', 'seed'], ['stream', 'checkpointEvery', 'lrSchedule', 'warmupSteps']);
  const lr = o.learningRate;
  if (typeof lr !== 'number' || !(lr > 0 && lr <= 1)) fail(`${where}.learningRate must be a number in (0, 1], got ${String(lr).slice(0, 30)}.`);
  if (o.stream !== undefined && typeof o.stream !== 'boolean') fail(`${where}.stream must be true or false.`);
  const config: TrainingConfig = {
    stage: stage(o.stage, `${where}.stage`),
    learningRate: lr,
    batchSize: int(o.batchSize, `${where}.batchSize`, 1, 256),
    steps: int(o.steps, `${where}.steps`, 1, MAX_TRAIN_STEPS),
    previewEvery: int(o.previewEvery, `${where}.previewEvery`, 0, MAX_TRAIN_STEPS),
    seed: int(o.seed, `${where}.seed`, -(2 ** 31), 2 ** 32),
  };
  if (o.stream !== undefined) config.stream = o.stream as boolean;
  if (o.checkpointEvery !== undefined) config.checkpointEvery = int(o.checkpointEvery, `${where}.checkpointEvery`, 0, MAX_TRAIN_STEPS);
  if (o.lrSchedule !== undefined) {
    if (!LR_SCHEDULES.includes(o.lrSchedule as LrSchedule)) fail(`${where}.lrSchedule must be one of ${LR_SCHEDULES.join(', ')}.`);
    config.lrSchedule = o.lrSchedule as LrSchedule;
  }
  if (o.warmupSteps !== undefined) config.warmupSteps = int(o.warmupSteps, `${where}.warmupSteps`, 0, MAX_TRAIN_STEPS);
  return config;
}

function randomState(x: unknown, where: string): RandomState {
  const o = object(x, where, ['a', 'spare']);
  const a = int(o.a, `${where}.a`, -(2 ** 31), 2 ** 32);
  const spare = o.spare;
  if (spare !== null && (typeof spare !== 'number' || !Number.isFinite(spare))) fail(`${where}.spare must be a finite number or null.`);
  return { a, spare: spare as number | null };
}

/** A checkpoint's run state; `counts` are the step counts the file's metadata declares. */
export function parseTrainingResume(x: unknown, counts: { autoencoder: number; denoiser: number }, where = 'resume'): TrainingResume {
  const o = object(x, where, ['stage', 'config', 'offsets', 'denoiser', 'autoencoderStep']);
  const off = object(o.offsets, `${where}.offsets`, ['autoencoder', 'denoiser']);
  const offsets = { autoencoder: int(off.autoencoder, `${where}.offsets.autoencoder`, 0, MAX_TRAIN_STEPS), denoiser: int(off.denoiser, `${where}.offsets.denoiser`, 0, MAX_TRAIN_STEPS) };
  let denoiser: TrainerState | null = null;
  if (o.denoiser !== null) {
    const d = object(o.denoiser, `${where}.denoiser`, ['step', 'timestepRng', 'labelRng']);
    denoiser = { step: int(d.step, `${where}.denoiser.step`, 0, MAX_TRAIN_STEPS), timestepRng: randomState(d.timestepRng, `${where}.denoiser.timestepRng`), labelRng: randomState(d.labelRng, `${where}.denoiser.labelRng`) };
  }
  const autoencoderStep = o.autoencoderStep === null ? null : int(o.autoencoderStep, `${where}.autoencoderStep`, 0, MAX_TRAIN_STEPS);
  if (offsets.denoiser + (denoiser?.step ?? 0) !== counts.denoiser) fail(`${where}: the denoiser's steps (${offsets.denoiser} + ${denoiser?.step ?? 0}) disagree with the file's count ${counts.denoiser}.`);
  if (offsets.autoencoder + (autoencoderStep ?? 0) !== counts.autoencoder) fail(`${where}: the autoencoder's steps disagree with the file's count ${counts.autoencoder}.`);
  return { stage: stage(o.stage, `${where}.stage`), config: parseTrainingConfig(o.config, `${where}.config`), offsets, denoiser, autoencoderStep };
}
