/**
 * The training loop: one step at a time, each followed by a step boundary where pause / cancel
 * take effect. Losses are read asynchronously every step (one small read: the loss and the
 * per-example losses packed together; no dataSync) and streamed in batches at most 10 times a
 * second, so messages never slow training much.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunState, TrainingStage, WorkerToPage } from '../worker/protocol';
import { RunCancelled, type RunControl } from './run-control';
import { RateMeter, Throttle } from './throttle';

export interface StepResult {
  loss: tf.Scalar;
  /** Per-item losses and their timesteps (denoiser stage), for loss-by-timestep charts. */
  itemLosses?: tf.Tensor1D;
  t?: Int32Array;
}

export interface TrainingRunOptions {
  stage: TrainingStage;
  /** Total steps of this stage; the run stops when `stepCount()` reaches it. */
  totalSteps: number;
  /** Takes one optimization step; the loop reads and disposes what it returns. */
  takeStep: () => StepResult | Promise<StepResult>;
  /** Steps taken so far (counting earlier runs of the same trainer). */
  stepCount: () => number;
  control: RunControl;
  post: (message: WorkerToPage) => void;
  /** Called every `previewEvery` steps (0 = never), e.g. to post fresh samples. */
  previewEvery: number;
  preview: (step: number) => Promise<void>;
  /** Loss updates per second at most (default 10). */
  progressPerSecond?: number;
}

/** The step's loss followed by its per-example losses, in one read (one GPU sync); frees both tensors. */
async function readLosses(result: StepResult): Promise<Float32Array> {
  const items = result.itemLosses;
  const packed = items ? tf.tidy(() => tf.concat([tf.reshape(result.loss, [1]), items])) : result.loss;
  try {
    return (await packed.data()) as Float32Array;
  } finally {
    tf.dispose([packed, result.loss, ...(items ? [items] : [])]);
  }
}

/** Trains until `totalSteps` or cancelled. Resolves 'done' or 'idle' (cancelled); rejects on a non-finite loss. */
export async function runTraining(options: TrainingRunOptions): Promise<RunState> {
  const { control, post, totalSteps, stepCount } = options;
  const throttle = new Throttle(options.progressPerSecond ?? 10);
  const meter = new RateMeter();
  const steps: number[] = [];
  const losses: number[] = [];
  const itemTimesteps: number[] = [];
  const itemLosses: number[] = [];

  const flush = (force: boolean) => {
    if (steps.length === 0 || !throttle.ready(force)) return;
    post({
      type: 'train/progress',
      stage: options.stage,
      steps: Int32Array.from(steps),
      losses: Float32Array.from(losses),
      itemTimesteps: Int32Array.from(itemTimesteps),
      itemLosses: Float32Array.from(itemLosses),
      stepsPerSec: meter.stepsPerSec(),
      etaSec: meter.secondsLeft(totalSteps - stepCount()),
      step: stepCount(),
      totalSteps,
    });
    for (const a of [steps, losses, itemTimesteps, itemLosses]) a.length = 0;
  };

  meter.record(stepCount());
  try {
    while (stepCount() < totalSteps) {
      await control.checkpoint();
      const result = await options.takeStep();
      const data = await readLosses(result);
      const value = data[0];
      const itemData = result.itemLosses ? data.subarray(1) : null;
      const step = stepCount();
      if (!Number.isFinite(value)) {
        throw new Error(`The loss became ${value} at step ${step}: training stopped. Try a lower learning rate.`);
      }
      meter.record(step);
      steps.push(step);
      losses.push(value);
      if (itemData && result.t) {
        for (let i = 0; i < result.t.length; i++) {
          itemTimesteps.push(result.t[i]);
          itemLosses.push(itemData[i]);
        }
      }
      flush(false);
      if (options.previewEvery > 0 && step % options.previewEvery === 0) {
        flush(true);
        await options.preview(step);
      }
    }
    flush(true);
    return 'done';
  } catch (err) {
    flush(true);
    if (err instanceof RunCancelled) return 'idle';
    throw err;
  }
}
