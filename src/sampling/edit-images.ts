/**
 * An edit run to the end, for the command line and the evaluation (src/cli/edit.ts, eval-edit.ts):
 * the edited images as uint8 [n, 28, 28] (x ∈ [−1, 1] → round((x + 1)·127.5), as generateImages
 * writes samples). SDEdit of strength 0 returns the inputs. Every tensor made here is freed.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import { unitToPixel } from '../data/mnist';
import type { DiffusionModel } from '../models/diffusion-model';
import { editSteps, inversionFrames } from './edit';
import { editBatch, validateEditRequest, type EditRequest } from './edit-config';

/** Progress after every model step: `done` of `total` (inversion steps count too). */
export type EditStepCallback = (done: number, total: number) => void;

export async function editImages(
  model: DiffusionModel,
  schedule: NoiseSchedule,
  prediction: PredictionType,
  request: EditRequest,
  onStep?: EditStepCallback,
): Promise<Uint8Array> {
  validateEditRequest(request);
  const n = editBatch(request);
  const out = new Uint8Array(n * 784);
  let inverted: tf.Tensor4D | null = null;
  try {
    if (request.mode === 'interpolate' && request.interpolation === 'inputs') {
      for (const f of inversionFrames(model, schedule, prediction, request)) {
        if (f.index === f.total - 1) inverted = f.x.clone();
        onStep?.(f.index + 1, f.total);
      }
    }
    let ran = false;
    for (const step of editSteps(model, schedule, prediction, request, inverted)) {
      onStep?.(step.index + 1, step.total);
      if (step.index !== step.total - 1) continue;
      const images = model.decode(step.xt);
      try {
        const values = await images.data();
        for (let i = 0; i < out.length; i++) out[i] = unitToPixel(values[i]);
      } finally {
        images.dispose();
      }
      ran = true;
    }
    if (!ran) for (let i = 0; i < out.length; i++) out[i] = unitToPixel(request.input[request.input.length === 784 ? i % 784 : i]);
    return out;
  } finally {
    inverted?.dispose();
  }
}
