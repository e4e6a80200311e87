/**
 * A sampling run streamed to the page. Every reverse step is read back once (one packed read:
 * the step's result, the predicted x0 and noise, and for a latent model their decodings when the
 * step is shown) and recorded for the denoising player ('sample/steps', bytes, several steps per
 * message, about 10 messages a second); the live view gets a float frame (x_t and the predicted
 * x0, plus their decodings) at most 30 times a second, always including the last step.
 *
 * A latent model decodes only the steps the live view shows, and x_T and the last step: decoding
 * every step (x_t and x̂0 through the decoder at 28×28) made a recorded run about 1.6× as long as
 * the sampling alone. Its live view shows a step when the frame rate allows and decoding has taken
 * at most `decodeShare` of the run's time so far (src/engine/throttle.ts, WorkBudget); the player
 * asks for the other positions' decodings when it shows them (./record-decode.ts). `decodeAll`
 * restores decoding every step (for benchmarks).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import type { ImageBatch, RecordShape, SampleSummary, WorkerToPage } from '../protocol/messages';
import type { RunState } from './run-config';
import { isAdaptive, maxRunSteps, type SamplingConfig } from '../sampling/config';
import { RunCancelled, yieldToEventLoop, type RunControl } from './run-control';
import { Throttle, WorkBudget } from './throttle';
import { sampleSteps, type DenoisingStep } from '../sampling/sample';
import { measurePeak } from '../eval/peak-memory';
import type { DiffusionModel } from '../models/diffusion-model';
import { StepRecorder } from './step-record';

export interface SamplingRunOptions {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  config: SamplingConfig;
  control: RunControl;
  post: (message: WorkerToPage) => void;
  /** The page's id of the run, echoed in 'sample/steps' (default 0). */
  run?: number;
  framesPerSecond?: number;
  /** 'sample/steps' messages per second at most (default 10; the last step is always sent). */
  recordsPerSecond?: number;
  /** Called with the peak tensor bytes of the first step (measured with tf.profile). */
  onPeakBytes?: (bytes: number) => void;
  /** The steps to stream instead of a sampling run's own (an edit's: src/sampling/edit.ts); the run returns it when it ends. */
  steps?: Generator<DenoisingStep, void, void>;
  /** Called with the last step's images (pixels, or a latent model's decodings; not clipped). */
  onLast?: (images: ImageBatch) => void;
  /** Latent models: decode every step for the record, as before the player decoded on demand (default false). */
  decodeAll?: boolean;
  /** Latent models: the most of the run's time that decoding for the live view may take (default 0.2). */
  decodeShare?: number;
}

/** One step's values on the page's side of the device: views into a single read. */
interface StepData {
  /** x_T (first step only), the step's result, x0 and ε̂, in the denoiser's space. */
  input: Float32Array | null;
  xNext: Float32Array;
  x0: Float32Array;
  eps: Float32Array;
  /** Latent models: decodings of x_T (or of the step's input), of the result and of x0, when decoded. */
  decodedInput: Float32Array | null;
  decodedNext: Float32Array | null;
  decodedX0: Float32Array | null;
  space: RecordShape;
  images: RecordShape;
}

const shapeOf = (t: tf.Tensor4D): RecordShape => ({ n: t.shape[0], h: t.shape[1], w: t.shape[2], c: t.shape[3] });
const sizeOf = (s: RecordShape) => s.n * s.h * s.w * s.c;

/**
 * Reads a step's tensors back in one packed read (one GPU sync per step, never dataSync). `decode`:
 * a latent model's decodings (of the input too when `withInput`); the input itself is read at step 0.
 */
async function readStep(model: DiffusionModel, step: DenoisingStep, withInput: boolean, decode: { input: boolean } | null): Promise<StepData> {
  const latent = model.kind === 'latent' && decode != null;
  const decodeInput = latent && decode.input;
  const space = shapeOf(step.xt);
  let images = space;
  const packed = tf.tidy(() => {
    const parts: tf.Tensor[] = [...(withInput ? [step.input] : []), step.xt, step.x0, step.eps];
    if (latent) {
      const decoded = model.decode(tf.concat([...(decodeInput ? [step.input] : []), step.xt, step.x0], 0));
      images = { ...shapeOf(decoded), n: space.n };
      parts.push(decoded);
    }
    return tf.concat(parts.map((p) => tf.reshape(p, [-1])));
  });
  const data = (await packed.data()) as Float32Array;
  packed.dispose();
  let offset = 0;
  const take = (size: number) => data.subarray(offset, (offset += size));
  const s = sizeOf(space);
  const input = withInput ? take(s) : null;
  const xNext = take(s);
  const x0 = take(s);
  const eps = take(s);
  const i = sizeOf(images);
  const decodedInput = decodeInput ? take(i) : null;
  const decodedNext = latent ? take(i) : null;
  const decodedX0 = latent ? take(i) : null;
  return { input, xNext, x0, eps, decodedInput, decodedNext, decodedX0, space, images };
}

const batchOf = (values: Float32Array, s: RecordShape): ImageBatch => ({ pixels: values.slice(), ...s });

/** Resolves 'done' after the last step, or 'idle' when cancelled; frames' tensors are freed either way. */
export async function runSampling(options: SamplingRunOptions): Promise<RunState> {
  const { control, post, model } = options;
  const throttle = new Throttle(options.framesPerSecond ?? 30);
  const latent = model.kind === 'latent';
  const budget = new WorkBudget(options.decodeShare ?? 0.2);
  const recordThrottle = new Throttle(options.recordsPerSecond ?? 10);
  const steps = options.steps ?? sampleSteps(model, options.schedule, options.prediction, options.config, options.config.useEma);
  let recorder: StepRecorder | null = null;
  const sendRecord = () => {
    const message = recorder?.flush();
    if (message) post(message);
  };
  const start = performance.now();
  const adaptive = !options.steps && isAdaptive(options.config);
  const summary: SampleSummary = { type: 'sample/summary', run: options.run ?? 0, steps: 0, evaluations: 0, plannedSteps: null, earlyStop: null, attempts: null };
  try {
    for (let index = 0; ; index++) {
      const result = index === 0 && options.onPeakBytes ? await measurePeak(() => steps.next(), options.onPeakBytes) : steps.next();
      if (result.done) break;
      const step = result.value;
      const last = step.index === step.total - 1;
      // A latent model's live frame needs its decodings: within the decode budget only (the last step always).
      const frameDue = last || ((!latent || budget.ready()) && throttle.ready());
      // Latent models decode the steps shown live, and the first (x_T) and the last; pixels need none.
      const decode: { input: boolean } | null = !latent ? null : options.decodeAll || frameDue || step.index === 0 ? { input: step.index === 0 || !recorder?.carryDecoded } : null;
      const read = () => readStep(model, step, step.index === 0, decode);
      const d: StepData = decode ? await budget.spend(read) : await read();
      if (d.input) {
        // The record is laid out for the most steps the run can take (an adaptive run does not know its count).
        const planned = options.steps ? step.total : maxRunSteps(options.config);
        summary.plannedSteps = adaptive ? null : planned;
        recorder = new StepRecorder(options.run ?? 0, planned, d.images, model.kind === 'latent' ? d.space : null);
        recorder.start(d.input, d.decodedInput ?? undefined);
      } else if (d.decodedInput) {
        recorder!.decodeCarry(d.decodedInput);
      }
      summary.steps = step.index + 1;
      summary.evaluations = step.evaluations ?? step.index + 1;
      if (step.attempts) summary.attempts = step.attempts.map((a) => ({ ...a }));
      if (step.earlyStop?.stopped) summary.earlyStop = { index: step.index, value: step.earlyStop.value, saved: step.earlyStop.saved };
      if (last) options.onLast?.(batchOf(d.decodedNext ?? d.xNext, d.images));
      recorder!.add({ t: Math.round(step.t), xNext: d.xNext, x0: d.x0, eps: d.eps, decodedNext: d.decodedNext ?? undefined, decodedX0: d.decodedX0 ?? undefined }, last);
      if (frameDue) {
        post({
          type: 'sample/frame',
          index: step.index,
          total: step.total,
          t: Math.round(step.t),
          xt: batchOf(d.xNext, d.space),
          x0: batchOf(d.x0, d.space),
          decodedXt: d.decodedNext ? batchOf(d.decodedNext, d.images) : null,
          decodedX0: d.decodedX0 ? batchOf(d.decodedX0, d.images) : null,
          elapsedMs: performance.now() - start,
          evaluations: summary.evaluations,
        });
      }
      // Let a pause or cancel arrive first, so that a paused run's record is complete on the page.
      await yieldToEventLoop();
      if (recordThrottle.ready(last) || control.state !== 'running') sendRecord();
      await control.stepBoundary();
    }
    return 'done';
  } catch (err) {
    if (err instanceof RunCancelled) return 'idle';
    throw err;
  } finally {
    sendRecord();
    steps.return(undefined);
    if (summary.steps > 0) post(summary);
  }
}
