/** The sampler a config names, one class per file; the interface they share is ./sampler.ts. */
import type { PredictionType, SamplerConfig } from './config';
import type { NoiseSchedule } from './schedule';
import type { Sampler } from './sampler';
import { validateSamplerConfig } from './timesteps';
import { DdpmSampler } from './ddpm';
import { DdimSampler } from './ddim';
import { DpmSolverPlusPlusSampler } from './dpm-solver';

/** Builds the sampler a config names (validating the config against the schedule's T). */
export function createSampler(schedule: NoiseSchedule, cfg: SamplerConfig, prediction: PredictionType): Sampler {
  validateSamplerConfig(cfg, schedule.T);
  switch (cfg.kind) {
    case 'ddpm':
      return new DdpmSampler(schedule, cfg, prediction);
    case 'ddim':
      return new DdimSampler(schedule, cfg, prediction);
    case 'dpmpp':
      return new DpmSolverPlusPlusSampler(schedule, cfg, prediction);
    default:
      throw new Error(`sampler kind must be one of ddpm, ddim, dpmpp, got ${String(cfg.kind)}.`);
  }
}
