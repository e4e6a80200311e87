/**
 * The training loop: one step at a time, each followed by a step boundary where pause / cancel
 * take effect. Losses are read asynchronously every step (one small read; no dataSync) and
 * streamed in batches at most 10 times a second, so messages never slow training much.
 */
import type { TrainingConfig, WorkerToPage, RunState } from '../worker/protocol';
import type { BatchProvider } from '../data/batches';
import type { Trainer } from './trainer';
import { RunCancelled, type RunControl } from './run-control';
import { RateMeter, Throttle } from './throttle';

export interface TrainingRunOptions {
  trainer: Trainer;
  provider: BatchProvider;
  config: TrainingConfig;
  control: RunControl;
  post: (message: WorkerToPage) => void;
  /** Makes and posts a preview of the model's samples; called every `previewEvery` steps. */
  preview: (step: number) => Promise<void>;
  /** Loss updates per second at most (default 10). */
  progressPerSecond?: number;
}

/**
 * Trains until `config.steps` steps in all have been taken (counting earlier runs of the same
 * trainer), or until cancelled. Resolves 'done' or 'idle' (cancelled); rejects on a non-finite loss.
 */
export async function runTraining(options: TrainingRunOptions): Promise<RunState> {
  const { trainer, provider, config, control, post } = options;
  const [h, w] = [28, 28];
  const shape: [number, number, number, number] = [config.batchSize, h, w, 1];
  const throttle = new Throttle(options.progressPerSecond ?? 10);
  const meter = new RateMeter();
  const pendingSteps: number[] = [];
  const pendingLosses: number[] = [];

  const flush = (force: boolean) => {
    if (pendingSteps.length === 0 || !throttle.ready(force)) return;
    post({
      type: 'train/progress',
      steps: Int32Array.from(pendingSteps),
      losses: Float32Array.from(pendingLosses),
      stepsPerSec: meter.stepsPerSec(),
      etaSec: meter.secondsLeft(config.steps - trainer.step),
      step: trainer.step,
      totalSteps: config.steps,
    });
    pendingSteps.length = 0;
    pendingLosses.length = 0;
  };

  meter.record(trainer.step);
  try {
    while (trainer.step < config.steps) {
      await control.checkpoint();
      const batch = provider.next();
      const { loss } = trainer.trainStep(batch.x, shape);
      const value = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(value)) {
        throw new Error(`The loss became ${value} at step ${trainer.step}: training stopped. Try a lower learning rate.`);
      }
      meter.record(trainer.step);
      pendingSteps.push(trainer.step);
      pendingLosses.push(value);
      flush(false);
      if (config.previewEvery > 0 && trainer.step % config.previewEvery === 0) {
        flush(true);
        await options.preview(trainer.step);
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
