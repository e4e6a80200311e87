/**
 * A sampling run streamed to the page: every reverse step is computed, and a frame (x_t and the
 * predicted x0) is sent at most 30 times a second, always including the last step.
 */
import type { PredictionType } from '../diffusion/config';
import type { NoiseSchedule } from '../diffusion';
import type { RunState, SamplingConfig, WorkerToPage } from '../worker/protocol';
import type { UNet } from '../models/unet';
import { RunCancelled, type RunControl } from './run-control';
import { Throttle } from './throttle';
import { sampleFrames } from './sampling';
import { toImageBatch } from './frames';

export interface SamplingRunOptions {
  model: UNet;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  config: SamplingConfig;
  control: RunControl;
  post: (message: WorkerToPage) => void;
  framesPerSecond?: number;
}

/** Resolves 'done' after the last step, or 'idle' when cancelled; frames' tensors are freed either way. */
export async function runSampling(options: SamplingRunOptions): Promise<RunState> {
  const { control, post } = options;
  const throttle = new Throttle(options.framesPerSecond ?? 30);
  const frames = sampleFrames(options.model, options.schedule, options.prediction, options.config);
  try {
    for (const frame of frames) {
      const last = frame.index === frame.total - 1;
      if (throttle.ready(last)) {
        const [xt, x0] = await Promise.all([toImageBatch(frame.xt), toImageBatch(frame.x0)]);
        post({ type: 'sample/frame', index: frame.index, total: frame.total, t: frame.t, xt, x0 });
      }
      await control.checkpoint();
    }
    return 'done';
  } catch (err) {
    if (err instanceof RunCancelled) return 'idle';
    throw err;
  } finally {
    frames.return(undefined);
  }
}
