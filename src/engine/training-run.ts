/**
 * The training loop: one step at a time, each followed by a step boundary where pause / cancel
 * take effect. Losses are read asynchronously every step (one small read: the loss and the
 * per-example losses packed together; no dataSync) and streamed in batches at most 10 times a
 * second, so messages never slow training much.
 *
 * Checkpoints (optional `save`): when the run starts, every `saveEvery` steps, when it pauses and
 * when it ends. A non-finite loss (or a save that finds non-finite weights) calls `recover`, which
 * rolls the model back to the last checkpoint and pauses the run; without `recover` the run fails.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunState, TrainingStage } from './run-config';
import type { WorkerToPage } from '../protocol/messages';
import { RunCancelled, yieldToEventLoop, type RunControl } from './run-control';
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
  /** Called with every finite loss, in step order. */
  onLoss?: (step: number, loss: number) => void;
  /** Saves a checkpoint of the state after `stepCount()` steps; resolves false when the weights are not finite. */
  save?: (reason: CheckpointReason) => Promise<boolean>;
  /** Save every this many steps (0 = only at start, pause and end). */
  saveEvery?: number;
  /** A non-finite loss at `step`: roll back to the last checkpoint and pause the run. */
  recover?: (step: number, loss: number) => Promise<void>;
  /**
   * Called after every step, last (e.g. the live quality curve's checks); `trainingMs` is the run's
   * time so far, the waits while paused left out.
   */
  afterStep?: (step: number, trainingMs: number) => Promise<void>;
}

export type CheckpointReason = 'start' | 'interval' | 'pause' | 'end';

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

  // The step count of the last checkpoint; a save that finds non-finite weights rolls back instead.
  let saved = -1;
  const save = async (reason: CheckpointReason, step: number): Promise<boolean> => {
    if (options.save == null || saved === step) return true;
    flush(true);
    if (!(await options.save(reason))) return false;
    saved = stepCount();
    return true;
  };
  const recover = async (step: number, value: number) => {
    if (options.recover == null) throw new Error(`The loss became ${value} at step ${step}: training stopped. Try a lower learning rate.`);
    flush(true);
    await options.recover(step, value);
    saved = stepCount();
  };

  meter.record(stepCount());
  let trainingMs = 0;
  try {
    if (!(await save('start', stepCount()))) throw new Error('The model\'s weights are not finite: reset it, or import a good model, before training.');
    for (;;) {
      if (stepCount() >= totalSteps) {
        if (await save('end', stepCount())) break;
        await recover(stepCount(), NaN);
      }
      await yieldToEventLoop(); // a pause asked for during the last step lands here, before the save
      if (control.state === 'paused' && !(await save('pause', stepCount()))) await recover(stepCount(), NaN);
      await control.stepBoundary();
      const stepStart = performance.now();
      const result = await options.takeStep();
      const data = await readLosses(result);
      const value = data[0];
      const itemData = result.itemLosses ? data.subarray(1) : null;
      const step = stepCount();
      if (!Number.isFinite(value)) {
        await recover(step, value);
        continue;
      }
      options.onLoss?.(step, value);
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
      const every = options.saveEvery ?? 0;
      if (every > 0 && step % every === 0 && !(await save('interval', step))) {
        await recover(step, NaN);
        continue;
      }
      if (options.previewEvery > 0 && step % options.previewEvery === 0) {
        flush(true);
        await options.preview(step);
      }
      if (options.afterStep) await options.afterStep(step, trainingMs + (performance.now() - stepStart));
      trainingMs += performance.now() - stepStart;
    }
    flush(true);
    return 'done';
  } catch (err) {
    flush(true);
    if (err instanceof RunCancelled) return 'idle';
    throw err;
  }
}
