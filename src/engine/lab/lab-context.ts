/**
 * What one lab setup holds: the checked setup, its schedule, the training set (and its mixture
 * where it is one), the MLP and its trainer. Made by 'lab/setup', remade (fresh weights) by
 * 'lab/train/reset', disposed with the engine.
 */
import type { LabComponent, LabSetup } from '../../protocol/lab-messages';
import { LAB_OBJECTIVES } from '../../protocol/lab-messages';
import { PREDICTION_TYPES } from '../../diffusion/config';
import { makeSchedule, type NoiseSchedule } from '../../diffusion/schedule';
import { makeToy2D } from '../../data/toy2d';
import { MlpDenoiser } from '../../models/mlp-denoiser';
import { LabTrainer } from './lab-trainer';

export interface LabContext {
  readonly setup: LabSetup;
  readonly schedule: NoiseSchedule;
  /** The training set, [n, 2]. */
  readonly points: Float32Array;
  /** The data set's Gaussian mixture (normalized), or null where it has no closed form. */
  readonly mixture: LabComponent[] | null;
  readonly model: MlpDenoiser;
  readonly trainer: LabTrainer;
}

/** Throws a clear message for a setup the lab cannot run. */
export function checkLabSetup(setup: LabSetup): void {
  if (!(LAB_OBJECTIVES as readonly string[]).includes(setup.objective)) throw new Error(`objective must be one of ${LAB_OBJECTIVES.join(', ')}, got ${String(setup.objective)}.`);
  if (!(PREDICTION_TYPES as readonly string[]).includes(setup.prediction)) throw new Error(`prediction must be one of ${PREDICTION_TYPES.join(', ')}, got ${String(setup.prediction)}.`);
  if (setup.minSnrGamma !== null && !(setup.minSnrGamma > 0 && Number.isFinite(setup.minSnrGamma))) throw new Error(`min-SNR γ must be a positive number or none, got ${setup.minSnrGamma}.`);
  if (!Number.isFinite(setup.seed)) throw new Error(`seed must be a finite number, got ${setup.seed}.`);
}

/** A context with fresh weights (from setup.seed) for a setup. */
export function createLabContext(setup: LabSetup): LabContext {
  checkLabSetup(setup);
  const schedule = makeSchedule(setup.schedule);
  const { points, mixture } = makeToy2D(setup.data);
  const model = new MlpDenoiser({ width: setup.width, depth: setup.depth }, setup.seed);
  const trainer = new LabTrainer({
    model,
    objective: setup.objective,
    schedule,
    prediction: setup.prediction,
    minSnrGamma: setup.objective === 'diffusion' ? setup.minSnrGamma : null,
    points,
    seed: setup.seed,
  });
  return { setup, schedule, points, mixture, model, trainer };
}

export function disposeLabContext(ctx: LabContext): void {
  ctx.trainer.dispose();
  ctx.model.dispose();
}
