/**
 * The step loop every pretraining stage shares: learning-rate schedule, a progress bar with steps/s
 * and time left, an exponential moving average of the loss, a non-finite loss check, and a
 * resumable checkpoint every N steps and at the end.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BatchProviderState } from '../data/batches';
import { ProgressBar } from './progress';
import { learningRateAt, type StagePlan } from './pretrain-plan';

export interface StageProgress {
  /** Steps done in this stage. */
  step: number;
  /** EMA (0.98) of the loss, or null before the first step. */
  lossEma: number | null;
  /** Wall-clock seconds spent on this stage, over all runs of the job. */
  seconds: number;
}

export interface StageLoopOptions {
  label: string;
  plan: StagePlan;
  progress: StageProgress;
  checkpointEvery: number;
  /** Stop (as if killed) after this many steps in this process; for tests. */
  stopAfter?: number;
  optimizer: tf.Optimizer;
  /** One training step; returns its loss (the loop disposes it). */
  step(index: number): tf.Scalar;
  /** Saves a resumable checkpoint of the stage at `progress`. */
  checkpoint(progress: StageProgress): Promise<void>;
}

export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
}

/** Runs a stage from progress.step to plan.steps; returns false when stopped early by `stopAfter`. */
export async function runStage(options: StageLoopOptions): Promise<boolean> {
  const { plan, progress } = options;
  const bar = new ProgressBar(options.label, plan.steps, process.stderr, progress.step);
  let runStart = performance.now();
  let ranHere = 0;
  while (progress.step < plan.steps) {
    if (options.stopAfter != null && ranHere >= options.stopAfter) return false;
    setLearningRate(options.optimizer, learningRateAt(plan, progress.step));
    const loss = options.step(progress.step);
    const value = (await loss.data())[0];
    loss.dispose();
    if (!Number.isFinite(value)) {
      throw new Error(`${options.label}: the loss is ${value} at step ${progress.step}; lower the learning rate (now ${plan.learningRate}) and delete the checkpoint to restart.`);
    }
    progress.lossEma = progress.lossEma == null ? value : 0.98 * progress.lossEma + 0.02 * value;
    progress.step += 1;
    ranHere += 1;
    bar.update(progress.step, `loss ${progress.lossEma.toFixed(4)}`);
    if (progress.step % options.checkpointEvery === 0 || progress.step === plan.steps) {
      const now = performance.now();
      progress.seconds += (now - runStart) / 1000;
      runStart = now;
      await options.checkpoint(progress);
    }
  }
  return true;
}

/** A batch provider's state as JSON (its order array as a plain array) and back. */
export function batchStateToJson(state: BatchProviderState): unknown {
  return { ...state, order: Array.from(state.order) };
}

export function batchStateFromJson(json: unknown): BatchProviderState {
  const s = json as { epoch: number; position: number; order: number[]; rng: BatchProviderState['rng'] };
  return { epoch: s.epoch, position: s.position, order: Int32Array.from(s.order), rng: s.rng };
}
