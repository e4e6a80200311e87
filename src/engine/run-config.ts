/** What a training run is asked to do, and the states a run (training or sampling) goes through. */
import type { QualitySettings } from '../protocol/quality-messages';
import type { LrSchedule } from '../diffusion/lr-schedule';

/**
 * What a training run trains: the pixel U-Net or latent denoiser ('denoiser'), or stage 1 of a
 * latent model, its autoencoder ('autoencoder'). A latent model's denoiser needs a trained autoencoder.
 */
export type TrainingStage = 'autoencoder' | 'denoiser';

export interface TrainingConfig {
  stage: TrainingStage;
  learningRate: number;
  /** How the learning rate changes over the run (../diffusion/lr-schedule.ts); absent: constant. */
  lrSchedule?: LrSchedule;
  /** Linear warm-up of the learning rate over this many steps; absent or 0: none. */
  warmupSteps?: number;
  batchSize: number;
  /** Total training steps; training stops by itself when reached. */
  steps: number;
  /** Show fresh samples on the canvas every this many steps (0 = never). */
  previewEvery: number;
  seed: number;
  /**
   * Stream progress and previews while training (default true). False sends only the final
   * progress and no previews: benchmarks compare the two to measure what streaming costs.
   */
  stream?: boolean;
  /** Save a training checkpoint every this many steps (0 = only at start, pause and end; default 50). */
  checkpointEvery?: number;
  /** The live quality curve (../engine/quality-curve.ts): its settings, null for off; absent leaves it as it is. */
  quality?: QualitySettings | null;
}

export type RunState = 'idle' | 'running' | 'paused' | 'done';
