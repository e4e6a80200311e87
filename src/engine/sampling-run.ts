/**
 * A sampling run streamed to the page: every reverse step is computed, and a frame (x_t and the
 * predicted x0, plus their decodings for a latent model) is sent at most 30 times a second,
 * always including the last step.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule, SampleFrame } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import type { ImageBatch, RunState, SamplingConfig, WorkerToPage } from '../worker/protocol';
import { RunCancelled, type RunControl } from './run-control';
import { Throttle } from './throttle';
import { sampleFrames } from './sampling';
import { measurePeak, toImageBatch } from './frames';
import type { DiffusionModel } from './diffusion-model';

export interface SamplingRunOptions {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  config: SamplingConfig;
  control: RunControl;
  post: (message: WorkerToPage) => void;
  framesPerSecond?: number;
  /** Called with the peak tensor bytes of the first step (measured with tf.profile). */
  onPeakBytes?: (bytes: number) => void;
}

async function decoded(model: DiffusionModel, x: tf.Tensor4D): Promise<ImageBatch> {
  const images = model.decode(x);
  try {
    return await toImageBatch(images);
  } finally {
    images.dispose();
  }
}

/** Resolves 'done' after the last step, or 'idle' when cancelled; frames' tensors are freed either way. */
export async function runSampling(options: SamplingRunOptions): Promise<RunState> {
  const { control, post, model } = options;
  const throttle = new Throttle(options.framesPerSecond ?? 30);
  const frames = sampleFrames(model, options.schedule, options.prediction, options.config, options.config.useEma);
  const latent = model.kind === 'latent';
  const start = performance.now();
  try {
    for (let index = 0; ; index++) {
      let result: IteratorResult<SampleFrame, void>;
      if (index === 0 && options.onPeakBytes) {
        result = await measurePeak(() => frames.next(), options.onPeakBytes);
      } else {
        result = frames.next();
      }
      if (result.done) break;
      const frame = result.value;
      const last = frame.index === frame.total - 1;
      if (throttle.ready(last)) {
        const [xt, x0, decodedXt, decodedX0] = await Promise.all([
          toImageBatch(frame.xt),
          toImageBatch(frame.x0),
          latent ? decoded(model, frame.xt) : null,
          latent ? decoded(model, frame.x0) : null,
        ]);
        post({ type: 'sample/frame', index: frame.index, total: frame.total, t: frame.t, xt, x0, decodedXt, decodedX0, elapsedMs: performance.now() - start });
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
