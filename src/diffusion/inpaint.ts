/**
 * Inpainting with an unconditional denoiser: the loop every method shares, and the replacement
 * method (Song et al. 2021, "Score-Based Generative Modeling through SDEs", App. I.2; Lugmayr et al.
 * 2022, "RePaint", Eq. 8): after every reverse step to t', the known region (keep = 1) is
 * overwritten with the input noised to t',
 *   x_{t'} ← keep ⊙ (√ᾱ_{t'}·x0 + √(1 − ᾱ_{t'})·z) + (1 − keep) ⊙ x_{t'},   z ~ N(0, I) fresh.
 * Other methods (./ddnm.ts, ./dps.ts) plug their step into the same loop (`InpaintMethod`). After
 * the last step (t' = −1, ᾱ = 1) every method's result is overwritten with x0 in the known region,
 * so it equals the input there.
 *
 * RePaint's resampling (Lugmayr et al. 2022, §4.2, Algorithm 1 and its `get_schedule_jump`; DDNM+'s
 * "time travel", Wang et al. 2023, §3.3, is the same schedule): every `jump` steps down, the sample
 * goes back up `jump` steps with the forward process,
 *   x_{t_up} = √(ᾱ_up/ᾱ_down)·x_{t_down} + √(1 − ᾱ_up/ᾱ_down)·z   (q(x_{t_up} | x_{t_down})),
 * and the stretch is denoised again, `resample` times in all, so that the generated part can take in
 * what the known part says. Works with every sampler: DDPM and DDIM are stateless between steps;
 * the multistep DPM-Solver++ is reset after a jump (its next step is first order).
 */
import * as tf from '@tensorflow/tfjs';
import type { SampleFrame } from './sample-loop';
import type { DenoiseFn, NoiseFn, Sampler, StepOutput } from './sampler';

export interface ResampleOptions {
  /** Steps down between jumps back up, and steps jumped up (RePaint's j, ≥ 1). */
  jump: number;
  /** Passes over each stretch (RePaint's r, ≥ 1; 1 = plain replacement, no jumps). */
  resample: number;
}

export const NO_RESAMPLING: ResampleOptions = { jump: 1, resample: 1 };

/**
 * The order in which the step indices 0..N−1 run under RePaint's schedule. After a step leaves
 * `remaining` = N − (index + 1) steps to go, with remaining a positive multiple of `jump` and at most
 * N − jump, the sample jumps back `jump` steps, `resample − 1` times at each such point
 * (RePaint's `get_schedule_jump`; it never jumps from clean data). With resample = 1: 0, 1, …, N−1.
 */
export function repaintSchedule(steps: number, options: ResampleOptions = NO_RESAMPLING): number[] {
  const { jump, resample } = options;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`steps must be an integer ≥ 1, got ${steps}.`);
  if (!(Number.isInteger(jump) && jump >= 1)) throw new Error(`jump length must be an integer ≥ 1, got ${jump}.`);
  if (!(Number.isInteger(resample) && resample >= 1)) throw new Error(`resample count must be an integer ≥ 1, got ${resample}.`);
  const jumpsLeft = new Map<number, number>();
  if (resample > 1) for (let r = jump; r <= steps - jump; r += jump) jumpsLeft.set(r, resample - 1);
  const order: number[] = [];
  let position = 0; // the sample sits at timesteps[position]; N is clean data
  while (position < steps) {
    order.push(position);
    position++;
    const left = jumpsLeft.get(steps - position) ?? 0;
    if (left > 0) {
      jumpsLeft.set(steps - position, left - 1);
      position -= jump;
    }
  }
  return order;
}

/** ᾱ at a timestep, with ᾱ_{−1} = 1. */
export function alphaBarAt(sampler: Sampler, t: number): number {
  return t < 0 ? 1 : sampler.schedule.alphasCumprod[t];
}

export interface InpaintInputs {
  /** The input in the denoiser's space, one per sample [n, h, w, c]. */
  x0: tf.Tensor4D;
  /** 1 where the input is kept, 0 where it is regenerated; [n or 1, h, w, c] (values in between blend). */
  keep: tf.Tensor4D;
  /** The noise x_T of the regenerated part, [n, h, w, c]. */
  xT: tf.Tensor4D;
}

/** A frame of the inpainting loop: also the x_t the model saw (after the known part's replacement). */
export interface InpaintFrame extends SampleFrame {
  /** Owned by the loop, like xt and x0. */
  input: tf.Tensor4D;
}

/** What an inpainting method sees: the model, the sampler (timesteps, update rule), the inputs, the noise. All the caller's. */
export interface InpaintContext {
  model: DenoiseFn;
  sampler: Sampler;
  inputs: InpaintInputs;
  noise: NoiseFn;
}

/** One inpainting method's part of the loop. Tensors returned are new (the loop owns them); x stays the caller's. */
export interface InpaintMethod {
  /** The sample at the first timestep t, from the noise x_T. */
  start(xT: tf.Tensor4D, t: number): tf.Tensor4D;
  /** One reverse step from x at sampler.timesteps[index] to sampler.prevTimestep(index): the sample there and x̂0. */
  step(x: tf.Tensor4D, index: number): StepOutput;
}

export type InpaintMethodFactory = (context: InpaintContext) => InpaintMethod;

/** keep ⊙ known + (1 − keep) ⊙ x, a new tensor. */
export function keepKnown(keep: tf.Tensor4D, known: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(keep, known), tf.mul(tf.sub(1, keep), x)) as tf.Tensor4D);
}

/** The replacement method (module doc): the sampler's own step, then the known region noised to t'. */
export const replacement: InpaintMethodFactory = ({ model, sampler, inputs, noise }) => {
  const { x0, keep } = inputs;
  const replace = (x: tf.Tensor4D, t: number): tf.Tensor4D =>
    tf.tidy(() => {
      const ab = alphaBarAt(sampler, t);
      if (ab === 1) return keepKnown(keep, x0, x);
      const z = noise();
      const known = tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(z, Math.sqrt(1 - ab))) as tf.Tensor4D;
      z.dispose();
      return keepKnown(keep, known, x);
    });
  return {
    start: (xT, t) => replace(xT, t),
    step: (x, index) => {
      const [prevSample, predX0] = tf.tidy(() => {
        const { prevSample, predX0 } = sampler.step(model(x, sampler.timesteps[index]), index, x, noise);
        return [prevSample, predX0];
      });
      const prev = replace(prevSample, sampler.prevTimestep(index));
      prevSample.dispose();
      return { prevSample: prev, predX0 };
    },
  };
};

/**
 * The inpainting reverse process as frames, with sample-loop's ownership rules (./sample-loop.ts):
 * each frame's `xt` is the sample after the step, its replacement and any jump back up, so it is the
 * next step's input (tPrev is where it sits: higher than t after a jump), and its `input` the x_t the
 * model saw at t (for replacement: after the known part's replacement). `total` counts every step
 * run, resampling included. Stochastic steps, the re-noising of the known part and the jumps draw
 * from `noise`. The inputs, the sampler and the model stay the caller's; every tensor made here is
 * freed when the generator finishes or is returned from.
 */
export function* inpaintLoop(
  model: DenoiseFn,
  sampler: Sampler,
  inputs: InpaintInputs,
  noise: NoiseFn,
  options: ResampleOptions = NO_RESAMPLING,
  method: InpaintMethodFactory = replacement,
): Generator<InpaintFrame, void, void> {
  const { x0, keep, xT } = inputs;
  if (x0.shape.join() !== xT.shape.join()) throw new Error(`x0 and x_T must have one shape, got [${x0.shape}] and [${xT.shape}].`);
  const ts = sampler.timesteps;
  const order = repaintSchedule(ts.length, options);
  const run = method({ model, sampler, inputs, noise });
  sampler.reset();
  let x: tf.Tensor4D = run.start(xT, ts[0]);
  let input: tf.Tensor4D | null = null;
  let x0Pred: tf.Tensor4D | null = null;
  try {
    for (let k = 0; k < order.length; k++) {
      const index = order[k];
      const t = ts[index];
      const current = x;
      const { prevSample, predX0: pred } = run.step(current, index);
      let tPrev = sampler.prevTimestep(index);
      let next = prevSample;
      if (tPrev < 0) {
        next = keepKnown(keep, x0, prevSample);
        prevSample.dispose();
      }
      const nextIndex = order[k + 1];
      if (nextIndex !== undefined && nextIndex <= index) {
        // A jump back up: from position index + 1 to nextIndex, by q(x_up | x_down).
        const tUp = ts[nextIndex];
        const ratio = alphaBarAt(sampler, tUp) / alphaBarAt(sampler, tPrev);
        const down = next;
        next = tf.tidy(() => {
          const z = noise();
          const up = tf.add(tf.mul(down, Math.sqrt(ratio)), tf.mul(z, Math.sqrt(Math.max(1 - ratio, 0))));
          z.dispose();
          return up as tf.Tensor4D;
        });
        down.dispose();
        sampler.reset();
        tPrev = tUp;
      }
      input?.dispose();
      x0Pred?.dispose();
      input = current;
      x = next;
      x0Pred = pred;
      yield { index: k, total: order.length, t, tPrev, xt: x, x0: pred, input: current };
    }
  } finally {
    x.dispose();
    input?.dispose();
    x0Pred?.dispose();
    sampler.reset();
  }
}

/** The whole inpainting run: the final sample, a tensor the caller owns. */
export function inpaintAll(model: DenoiseFn, sampler: Sampler, inputs: InpaintInputs, noise: NoiseFn, options?: ResampleOptions, method?: InpaintMethodFactory): tf.Tensor4D {
  let last: tf.Tensor4D | null = null;
  for (const frame of inpaintLoop(model, sampler, inputs, noise, options, method)) {
    if (frame.index === frame.total - 1) last = frame.xt.clone();
  }
  if (last === null) throw new Error('inpaint: the sampler has no timesteps.');
  return last;
}
