/**
 * The memory guard: before a run starts, its estimated memory (src/models/setup/memory.ts) is
 * checked against what the backend can hold, and a run that cannot fit is refused with a message
 * naming the memory and the largest batch that fits.
 */
import type { ModelSetup } from '../models/setup/model-setup';
import { memoryProblem, samplingMemory, trainingMemory, type MemoryBudget } from '../models/setup/memory';
import type { SamplingConfig } from '../sampling/config';
import type { TrainingConfig } from './run-config';

/** Why a training run of `config` cannot fit, or null when it can. */
export function trainingMemoryProblem(setup: ModelSetup, config: TrainingConfig, budget: MemoryBudget): string | null {
  const stage = config.stage === 'autoencoder' ? 'autoencoder (stage 1)' : 'latent denoiser (stage 2)';
  const run = setup.kind === 'latent' ? `training the ${stage}` : 'training';
  return memoryProblem(trainingMemory(setup, config.stage, config.batchSize), budget, { label: 'Batch size', count: config.batchSize, run });
}

/** Why a sampling run of `config` cannot fit, or null when it can (guidance runs the denoiser twice). */
export function samplingMemoryProblem(setup: ModelSetup, config: SamplingConfig, budget: MemoryBudget): string | null {
  const twoPasses = config.guidance !== 0 && config.guidance !== 1 && setup.classConditional;
  return memoryProblem(samplingMemory(setup, config.numImages, twoPasses), budget, {
    label: 'Number of images',
    count: config.numImages,
    run: twoPasses ? 'sampling with guidance (two passes per image)' : 'sampling',
  });
}
