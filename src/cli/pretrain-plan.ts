/**
 * What `npm run pretrain` trains: the models, their setups, step counts, batch sizes and learning
 * rates. The full plan is sized for this project's 2-core machine (about 2 hours in all on the wasm
 * backend with the jobs run side by side); the quick plan runs the same code in seconds (tests, CI).
 */
import { DEFAULT_MODEL_SETUP, type ModelSetup } from '../models/setup/model-setup';
import { presetAttention } from '../models/setup/model-setup';

export const JOB_NAMES = ['classifier', 'pixel', 'latent'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface StagePlan {
  steps: number;
  batchSize: number;
  /** Peak learning rate; a cosine decay takes it to 10 % of this by the last step. */
  learningRate: number;
}

export interface PretrainPlan {
  name: 'full' | 'quick';
  seed: number;
  /** Save a resumable checkpoint every this many steps (and at the end of each stage). */
  checkpointEvery: number;
  /** Train on only the first N digits of the training split (the quick plan; undefined = all 9,000). */
  trainSubset?: number;
  classifier: StagePlan;
  pixel: { setup: ModelSetup; denoiser: StagePlan };
  latent: { setup: ModelSetup; autoencoder: StagePlan; denoiser: StagePlan };
}

const withAttention = (setup: ModelSetup): ModelSetup => ({ ...setup, attention: presetAttention(setup) });

const PIXEL_SETUP = withAttention({ ...DEFAULT_MODEL_SETUP, kind: 'pixel', preset: 'small', classConditional: true, emaDecay: 0.999 });
const LATENT_SETUP = withAttention({
  ...DEFAULT_MODEL_SETUP,
  kind: 'latent',
  // latent-lite: chosen by measurement for the 7x7x4 latent (issue 19; README, "LDM against pixel DDPM").
  latent: { autoencoder: 'ae-small', latentChannels: 4, denoiser: 'latent-lite', klWeight: 1e-5 },
  classConditional: true,
  emaDecay: 0.999,
});

export const FULL_PLAN: PretrainPlan = {
  name: 'full',
  seed: 1,
  checkpointEvery: 200,
  classifier: { steps: 1500, batchSize: 64, learningRate: 1e-3 },
  pixel: { setup: PIXEL_SETUP, denoiser: { steps: 4000, batchSize: 32, learningRate: 1e-3 } },
  latent: {
    setup: LATENT_SETUP,
    autoencoder: { steps: 2000, batchSize: 32, learningRate: 1e-3 },
    denoiser: { steps: 4000, batchSize: 64, learningRate: 1e-3 },
  },
};

const TINY_LATENT = { autoencoder: 'ae-tiny', latentChannels: 4, denoiser: 'latent-tiny', klWeight: 1e-5 } as const;

export const QUICK_PLAN: PretrainPlan = {
  name: 'quick',
  seed: 1,
  checkpointEvery: 3,
  trainSubset: 500,
  classifier: { steps: 6, batchSize: 16, learningRate: 1e-3 },
  pixel: { setup: withAttention({ ...PIXEL_SETUP, preset: 'tiny' }), denoiser: { steps: 6, batchSize: 8, learningRate: 1e-3 } },
  latent: {
    setup: withAttention({ ...LATENT_SETUP, latent: { ...TINY_LATENT } }),
    autoencoder: { steps: 6, batchSize: 8, learningRate: 1e-3 },
    denoiser: { steps: 6, batchSize: 8, learningRate: 1e-3 },
  },
};

/** Cosine decay from the peak to 10 % of it over a stage. */
export function learningRateAt(stage: StagePlan, step: number): number {
  const progress = Math.min(1, step / Math.max(1, stage.steps));
  return stage.learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
