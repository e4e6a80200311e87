/**
 * The rounds of the Training panel's Distill stage (the CLI's are src/cli/distill-job.ts): each
 * round's student (N steps) starts as a copy of its teacher (2N steps) and trains for the same
 * number of steps (src/engine/distill.ts, Salimans & Ho 2022, Algorithm 2); the first teacher is the
 * page's model (its EMA weights when it keeps them) at the chosen guidance, later ones the last
 * student at guidance 1. Batches are training digits encoded on the fly (a latent model's encoder is
 * small). After each round: the one-step gap on a fixed probe batch, and a sample grid of the
 * student at its own step count (DDIM, trailing spacing, guidance 1). Pause and stop take effect at
 * step boundaries (training steps and the grid's sampler steps alike).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from '../diffusion';
import { DEFAULT_SAMPLER } from '../diffusion/config';
import { studentTeacherSteps } from '../diffusion/progressive-distillation';
import { createRandom, deriveSeed } from '../data/random';
import { imagesToUnit, type DataState } from '../data/mnist';
import { DiffusionModel } from '../models/diffusion-model';
import type { ModelSetup } from '../models/setup/model-setup';
import type { UNet } from '../models/unet';
import { generateImages } from '../sampling/generate';
import type { WorkerToPage } from '../protocol/messages';
import { DISTILL_GRID_IMAGES, distillRounds, type DistillImages, type DistillSettings } from '../protocol/distill-messages';
import { Distiller, copyUNet } from './distill';
import type { RunControl } from './run-control';
import { RateMeter, Throttle } from './throttle';

/** The page's model and what it was trained with. */
export interface DistillTarget {
  model: DiffusionModel;
  setup: ModelSetup;
  schedule: NoiseSchedule;
  data: DataState;
  autoencoderSteps: number;
  denoiserSteps: number;
}

export interface DistillRoundsOptions {
  target: DistillTarget;
  settings: DistillSettings;
  control: RunControl;
  post: (message: WorkerToPage) => void;
}

/** Items in the fixed batch on which each round's one-step gap is measured. */
const PROBE_ITEMS = 16;

/**
 * The learning rate at step `i` (0-based) of `n`: a linear warm-up over the first tenth of the steps
 * (Adam's first steps move every weight by about the rate, whatever its gradient: a jolt to a trained
 * network), then a cosine decay to 10 % of `lr`, as the CLI's rounds.
 */
function roundRate(lr: number, i: number, n: number): number {
  const warm = Math.max(1, Math.ceil(n / 10));
  return lr * Math.min(1, (i + 1) / (warm + 1)) * (0.1 + 0.45 * (1 + Math.cos((Math.PI * i) / Math.max(1, n))));
}

/** Mean of the first (or last) tenth of `xs`, one value at least. */
function tenth(xs: number[], last: boolean): number {
  const k = Math.max(1, Math.ceil(xs.length / 10));
  const part = last ? xs.slice(-k) : xs.slice(0, k);
  return part.reduce((a, b) => a + b, 0) / part.length;
}

/** The first teacher: a copy of the denoiser with its EMA weights when the model keeps them. */
function firstTeacher(model: DiffusionModel): UNet {
  const teacher = copyUNet(model.denoiser);
  model.ema?.copyTo(teacher.weights);
  return teacher;
}

/** The student's samples at its own step count: DDIM, trailing spacing, η = 0, guidance 1 (digits 0-9 when conditional). */
async function studentGrid(target: DistillTarget, student: UNet, steps: number, control: RunControl): Promise<DistillImages> {
  const { model, schedule, setup } = target;
  const view = new DiffusionModel(model.kind, student, model.autoencoder); // borrows both; owns nothing
  view.latent = model.latent;
  const request = { ...DEFAULT_SAMPLER, kind: 'ddim' as const, steps, spacing: 'trailing' as const, eta: 0, guidance: 1, numImages: DISTILL_GRID_IMAGES, seed: 0, digit: null, batch: DISTILL_GRID_IMAGES };
  const bytes = await generateImages(view, schedule, setup.prediction, request, undefined, () => control.stepBoundary());
  return { pixels: Float32Array.from(bytes, (v) => v / 127.5 - 1), n: DISTILL_GRID_IMAGES, h: 28, w: 28, c: 1 };
}

/**
 * Runs every round; resolves with the last student (the caller owns it). Throws RunCancelled when
 * stopped, or an Error (a non-finite loss, grids that do not nest); every tensor made here is freed
 * on every path except the student returned.
 */
export async function runDistillRounds(o: DistillRoundsOptions): Promise<UNet> {
  const { target, settings: s, control, post } = o;
  const { model, schedule, setup, data } = target;
  const rounds = distillRounds(s.fromSteps, s.toSteps);
  if (rounds == null) throw new Error(`To steps (${s.toSteps}) is not from steps (${s.fromSteps}) halved a whole number of times.`);
  for (const n of rounds) studentTeacherSteps(schedule.T, n); // throws, with the steps that do not nest, before anything is trained
  const train = data.split.train;
  const shape = [data.dataset.height, data.dataset.width, 1] as const;
  const pick = (indices: Int32Array): { x0: tf.Tensor4D; y: Int32Array | null } => ({
    x0: tf.tidy(() => model.encode(tf.tensor4d(imagesToUnit(data.dataset, indices), [indices.length, ...shape]))),
    y: setup.classConditional ? Int32Array.from(indices, (i) => data.dataset.labels[i]) : null,
  });
  const batches = createRandom(deriveSeed(s.seed, 1000));
  const probeRng = createRandom(deriveSeed(s.seed, 2000));
  const probe = pick(Int32Array.from({ length: PROBE_ITEMS }, () => train[probeRng.int(train.length)]));
  const total = rounds.length * s.stepsPerRound;
  const meter = new RateMeter();
  const throttle = new Throttle(10);
  let done = 0;
  meter.record(0);
  let teacher = firstTeacher(model);
  let teacherSteps = s.fromSteps;
  try {
    for (const [k, studentSteps] of rounds.entries()) {
      const started = performance.now();
      const student = copyUNet(teacher);
      const distiller = new Distiller({
        teacher, teacherPrediction: setup.prediction, teacherGuidance: k === 0 && setup.classConditional ? s.guidance : 1,
        student, studentPrediction: setup.prediction, schedule, studentSteps, learningRate: s.learningRate, seed: deriveSeed(s.seed, studentSteps),
        // An ε student (it must start as its teacher) learns best on the one-step distance; x0 / v students take the paper's weighting (./distill.ts).
        weighting: setup.prediction === 'epsilon' ? 'one-step' : 'truncated-snr',
      });
      const probeIdx = Int32Array.from({ length: PROBE_ITEMS }, (_, i) => i % studentSteps);
      const gap = () => distiller.oneStepGap(probe.x0, probe.y, probeIdx, deriveSeed(s.seed, 3000));
      const pending = { steps: [] as number[], losses: [] as number[] };
      const flush = (force: boolean) => {
        if (pending.steps.length === 0 || !throttle.ready(force)) return;
        post({
          type: 'distill/progress', round: k + 1, rounds: rounds.length, teacherSteps, studentSteps,
          steps: Int32Array.from(pending.steps), losses: Float32Array.from(pending.losses), step: pending.steps.at(-1) as number, stepsPerRound: s.stepsPerRound,
          stepsPerSec: meter.stepsPerSec(), etaSec: meter.secondsLeft(total - done),
        });
        pending.steps.length = 0;
        pending.losses.length = 0;
      };
      try {
        const gapBefore = await gap();
        const losses: number[] = [];
        for (let step = 1; step <= s.stepsPerRound; step++) {
          await control.stepBoundary();
          (distiller.optimizer as unknown as { learningRate: number }).learningRate = roundRate(s.learningRate, step - 1, s.stepsPerRound);
          const batch = pick(Int32Array.from({ length: s.batchSize }, () => train[batches.int(train.length)]));
          let value: number;
          try {
            const loss = distiller.trainStep(batch.x0, batch.y);
            value = (await loss.data())[0];
            loss.dispose();
          } finally {
            batch.x0.dispose();
          }
          if (!Number.isFinite(value)) {
            throw new Error(`The loss became ${value} at step ${step} of round ${k + 1} (${teacherSteps} → ${studentSteps}): distillation stopped and the page's model is unchanged. Try a lower learning rate (now ${s.learningRate}).`);
          }
          losses.push(value);
          done += 1;
          meter.record(done);
          pending.steps.push(step);
          pending.losses.push(value);
          flush(false);
        }
        flush(true);
        const gapAfter = await gap();
        const images = await studentGrid(target, student, studentSteps, control);
        const seconds = (performance.now() - started) / 1000;
        post({ type: 'distill/round', round: k + 1, rounds: rounds.length, teacherSteps, studentSteps, steps: s.stepsPerRound, seconds, lossStart: tenth(losses, false), lossEnd: tenth(losses, true), gapBefore, gapAfter, images });
      } catch (err) {
        flush(true);
        student.dispose();
        throw err;
      } finally {
        distiller.dispose();
      }
      teacher.dispose();
      teacher = student;
      teacherSteps = studentSteps;
    }
    return teacher; // the last student, handed to the caller
  } catch (err) {
    teacher.dispose();
    throw err;
  } finally {
    probe.x0.dispose();
  }
}
