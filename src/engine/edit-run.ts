/**
 * An edit run (issue 21): SDEdit, inpainting or interpolation of the page's input on the current
 * model, streamed into the denoising player as a sampling run is (./sampling-run.ts: the same
 * 'sample/frame' and 'sample/steps' messages with the run's id), stopped at step boundaries, and
 * finished with an 'edit/result' (the images beside the input as the model holds it, and the mask
 * on the model's grid). Interpolation between two inputs inverts both with DDIM first, posting
 * 'edit/progress' and stopping at every step of that too.
 */
import * as tf from '@tensorflow/tfjs';
import { sdeditPlan, type NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import type { DiffusionModel } from '../models/diffusion-model';
import type { ImageBatch, WorkerToPage } from '../protocol/messages';
import { editBatch, validateEditRequest, type EditRequest } from '../sampling/edit-config';
import { editSampler, editSpace, editSteps, inversionFrames } from '../sampling/edit';
import type { RunState } from './run-config';
import { RunCancelled, type RunControl } from './run-control';
import { runSampling } from './sampling-run';

export interface EditRunOptions {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  request: EditRequest;
  control: RunControl;
  post: (message: WorkerToPage) => void;
  run: number;
}

async function batchFrom(t: tf.Tensor4D, clip: boolean): Promise<ImageBatch> {
  const v = tf.tidy(() => (clip ? tf.clipByValue(t, -1, 1) : t.clone()));
  try {
    const [n, h, w, c] = v.shape;
    return { pixels: (await v.data()) as Float32Array, n, h, w, c };
  } finally {
    v.dispose();
  }
}

/** The input as the model holds it (decoded) and its mask on the 28×28 grid. */
async function heldInput(model: DiffusionModel, request: EditRequest): Promise<{ input: ImageBatch; keep: ImageBatch | null }> {
  const space = editSpace(model, request.input, request.mode === 'inpaint' ? request.mask : null);
  const decoded = tf.tidy(() => model.decode(space.x0));
  const keep = space.keep ? tf.tidy(() => tf.image.resizeNearestNeighbor(space.keep!, [28, 28]) as tf.Tensor4D) : null;
  try {
    return { input: await batchFrom(decoded, true), keep: keep ? await batchFrom(keep, false) : null };
  } finally {
    tf.dispose([space.x0, ...(space.keep ? [space.keep] : []), decoded, ...(keep ? [keep] : [])]);
  }
}

/** DDIM inversion of both inputs ([2, h, w, c], the caller's), or null when cancelled. */
async function invert(o: EditRunOptions): Promise<tf.Tensor4D> {
  const start = performance.now();
  const frames = inversionFrames(o.model, o.schedule, o.prediction, o.request);
  let last: tf.Tensor4D | null = null;
  try {
    for (const f of frames) {
      if (f.index === f.total - 1) last = f.x.clone();
      o.post({ type: 'edit/progress', run: o.run, phase: 'inverting', done: f.index + 1, total: f.total, elapsedMs: performance.now() - start });
      await o.control.stepBoundary();
    }
  } catch (err) {
    last?.dispose();
    throw err;
  } finally {
    frames.return(undefined);
  }
  if (last) return last;
  // One timestep: the inputs themselves sit at t_0.
  const both = new Float32Array(2 * 784);
  both.set(o.request.input);
  both.set(o.request.input2!, 784);
  return tf.tidy(() => o.model.encode(tf.tensor4d(both, [2, 28, 28, 1])));
}

/** Resolves 'done' after the result is posted, or 'idle' when cancelled. */
export async function runEdit(o: EditRunOptions): Promise<RunState> {
  const { request } = o;
  validateEditRequest(request);
  let inverted: tf.Tensor4D | null = null;
  try {
    if (request.mode === 'interpolate' && request.interpolation === 'inputs') inverted = await invert(o);
    let images: ImageBatch | null = null;
    let steps = 0;
    const edit = editSteps(o.model, o.schedule, o.prediction, request, inverted);
    const counted = (function* () {
      for (const step of edit) {
        steps = step.total;
        yield step;
      }
    })();
    const state = await runSampling({
      model: o.model,
      schedule: o.schedule,
      prediction: o.prediction,
      config: { ...request, numImages: editBatch(request) },
      control: o.control,
      post: o.post,
      run: o.run,
      steps: counted,
      onLast: (b) => {
        images = { ...b, pixels: b.pixels.map((v) => Math.min(1, Math.max(-1, v))) };
      },
    });
    if (state !== 'done') return state;
    const held = await heldInput(o.model, request);
    const plan = request.mode === 'sdedit' ? sdeditPlan(o.schedule, editSampler(o.model, o.schedule, o.prediction, request).timesteps, request.strength) : null;
    if (images === null) {
      // Nothing ran (SDEdit of strength 0): the result is the input, once per seed.
      const n = request.numImages;
      const pixels = new Float32Array(n * 784);
      for (let i = 0; i < n; i++) pixels.set(request.input.length === 784 ? request.input : request.input.subarray(i * 784, (i + 1) * 784), i * 784);
      images = { pixels, n, h: 28, w: 28, c: 1 };
    }
    o.post({ type: 'edit/result', run: o.run, images, input: held.input, keep: held.keep, t0: plan?.t0 ?? null, alphaBar: plan?.alphaBar ?? null, steps });
    return 'done';
  } catch (err) {
    if (err instanceof RunCancelled) return 'idle';
    throw err;
  } finally {
    inverted?.dispose();
  }
}
