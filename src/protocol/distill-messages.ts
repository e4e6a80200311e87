/**
 * The Training panel's "Distill" stage (issue 20; src/engine/distill-run.ts runs it): progressive
 * distillation (Salimans & Ho 2022) of the page's model, round after round (e.g. 32 → 16 → 8 → 4
 * steps), each round's loss streamed, a sample grid at the student's step count after each round,
 * and the last student made the page's model. Plain data, no TensorFlow.js.
 */
import type { ModelSetup } from '../models/setup/model-setup';

/** Images as ./messages.ts's ImageBatch (declared here too: the two files must not import each other). */
export interface DistillImages {
  /** Pixels in [−1, 1], layout [n, h, w, c]; a transferred buffer. */
  pixels: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

/** What a distillation does. */
export interface DistillSettings {
  /** The first teacher's steps (e.g. 32) and the last student's (e.g. 4): rounds 32 → 16, 16 → 8, 8 → 4. */
  fromSteps: number;
  toSteps: number;
  /** Training steps, batch size and learning rate of every round (Adam, a fresh optimizer each round). */
  stepsPerRound: number;
  batchSize: number;
  learningRate: number;
  /** The first teacher's classifier-free guidance w (class-conditional models); every student samples at w = 1. */
  guidance: number;
  seed: number;
}

export const DEFAULT_DISTILL: DistillSettings = { fromSteps: 16, toSteps: 8, stepsPerRound: 40, batchSize: 8, learningRate: 1e-4, guidance: 1.3, seed: 1 };

/** Images in each round's sample grid (one of each digit for a class-conditional model). */
export const DISTILL_GRID_IMAGES = 10;

/** The students' step counts, from/2, from/4, …, to; null when `to` is not `from` halved a whole number (≥ 1) of times. */
export function distillRounds(fromSteps: number, toSteps: number): number[] | null {
  if (!Number.isInteger(fromSteps) || !Number.isInteger(toSteps) || toSteps < 1 || fromSteps <= toSteps) return null;
  const out: number[] = [];
  for (let n = fromSteps / 2; Number.isInteger(n) && n >= toSteps; n /= 2) out.push(n);
  return out.at(-1) === toSteps ? out : null;
}

/** Why these settings cannot run on a schedule of T timesteps (in words), or null. */
export function distillProblem(s: DistillSettings, T: number): string | null {
  const whole = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  if (!whole(s.fromSteps, 2, T)) return `From steps must be a whole number from 2 to ${T} (the schedule's T).`;
  if (!whole(s.toSteps, 1, s.fromSteps - 1)) return `To steps must be a whole number from 1 to ${s.fromSteps - 1}, fewer than from steps.`;
  if (distillRounds(s.fromSteps, s.toSteps) == null) {
    return `To steps must be from steps halved a whole number of times (each round halves the steps): from ${s.fromSteps}, ${halvings(s.fromSteps)}; ${s.toSteps} is not one of them.`;
  }
  if (!whole(s.stepsPerRound, 1, 100_000)) return 'Training steps per round must be a whole number from 1 to 100,000.';
  if (!whole(s.batchSize, 1, 256)) return 'Batch must be a whole number from 1 to 256.';
  if (!(s.learningRate > 0 && s.learningRate < 1)) return 'The learning rate must be above 0 and below 1.';
  if (!(s.guidance >= 0 && s.guidance <= 10)) return 'Teacher guidance must be from 0 to 10.';
  return null;
}

/** "to can be 8, 4, 2 or 1" for from 16. */
function halvings(from: number): string {
  const ok: number[] = [];
  for (let n = from / 2; Number.isInteger(n) && n >= 1; n /= 2) ok.push(n);
  if (ok.length === 0) return 'which is odd, no halving is possible';
  return `to can be ${ok.length === 1 ? ok[0] : `${ok.slice(0, -1).join(', ')} or ${ok.at(-1)}`}`;
}

/** One finished round. */
export interface DistillRoundResult {
  /** 1-based, of `rounds`. */
  round: number;
  rounds: number;
  teacherSteps: number;
  studentSteps: number;
  /** Training steps taken and the round's wall time (its sample grid and gap checks included), seconds. */
  steps: number;
  seconds: number;
  /** Mean loss of the round's first and last tenth of steps (at least one step each). */
  lossStart: number;
  lossEnd: number;
  /** Mean squared distance of the student's one DDIM step from the teacher's two on a fixed probe batch, before and after. */
  gapBefore: number;
  gapAfter: number;
  /** The student's samples: DDIM, `studentSteps` steps, trailing spacing, guidance 1. */
  images: DistillImages;
}

export type DistillRunState = 'running' | 'paused' | 'done' | 'stopped' | 'failed';

export type DistillToWorker =
  | { type: 'distill/start'; settings: DistillSettings }
  | { type: 'distill/pause' }
  | { type: 'distill/resume' }
  /** Ends the run at the next step boundary; the page's model stays the teacher. */
  | { type: 'distill/stop' };

export type DistillToPage =
  | { type: 'distill/state'; state: DistillRunState; message: string | null }
  | {
      type: 'distill/progress';
      round: number;
      rounds: number;
      teacherSteps: number;
      studentSteps: number;
      /** Steps (1-based, within the round) and their losses since the last progress message. */
      steps: Int32Array;
      losses: Float32Array;
      step: number;
      stepsPerRound: number;
      stepsPerSec: number;
      /** Seconds left for every round's remaining training steps at the current speed. */
      etaSec: number;
    }
  | ({ type: 'distill/round' } & DistillRoundResult)
  /** The last student is now the engine's model ('model' follows): sample it with DDIM-`studentSteps`, trailing spacing, guidance 1. */
  | { type: 'distill/done'; setup: ModelSetup; teacherSteps: number; studentSteps: number };

export function isDistillRequest<M extends { type: string }>(message: M | DistillToWorker): message is DistillToWorker {
  return message.type.startsWith('distill/');
}

export function isDistillMessage<M extends { type: string }>(message: M | DistillToPage): message is DistillToPage {
  return message.type.startsWith('distill/');
}

/** The buffers a distill message carries, for postMessage's transfer list. */
export function distillTransferables(message: DistillToPage): ArrayBuffer[] {
  if (message.type === 'distill/progress') return [message.steps.buffer as ArrayBuffer, message.losses.buffer as ArrayBuffer];
  if (message.type === 'distill/round') return [message.images.pixels.buffer as ArrayBuffer];
  return [];
}
