/**
 * The rounds of `npm run distill` (progressive distillation, src/engine/distill.ts): each round's
 * student (N steps) starts as a copy of its teacher (2N steps) and trains for `steps` steps on the
 * training split's latents, encoded once. Resumable: a round checkpoints to `<state>/round-N`
 * (student weights, Adam, the distiller's and the batch sampler's random state, progress) and a
 * finished round's student is kept in `<state>/student-N`, so a killed run goes on where it stopped.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRandom, deriveSeed, type RandomState } from '../data/random';
import { imagesToUnit, splitTrainHeldOut, type MnistDataset } from '../data/mnist';
import type { NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import type { DistillationWeighting } from '../diffusion/progressive-distillation';
import { Distiller, copyUNet, type DistillState } from '../engine/distill';
import { WEIGHTS_FORMAT, WEIGHTS_VERSION, assignWeights, disposeTensors, loadWeights, saveWeights } from '../io/weights-file';
import { loadFromDir, saveToDir } from '../io/weights-file-node';
import type { DiffusionModel } from '../models/diffusion-model';
import type { UNet } from '../models/unet';
import { loadJobCheckpoint, saveJobCheckpoint } from './resume';
import { runStage, type StageProgress } from './pretrain-loop';

const STUDENT_KIND = 'distill-student';

export interface DistillPlan {
  /** The first teacher's steps (e.g. 64) and the last student's (e.g. 4): rounds 64→32, …, 8→4. */
  fromSteps: number;
  toSteps: number;
  /** Training steps, batch size and peak learning rate of every round (cosine decay to 10 %). */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** The first teacher's guidance w; the students are conditional (w = 1). */
  guidance: number;
  teacherPrediction: PredictionType;
  studentPrediction: PredictionType;
  weighting: DistillationWeighting;
  seed: number;
  checkpointEvery: number;
  /** Items in the fixed probe batch on which each round's one-step gap is measured. */
  probe: number;
}

export interface RoundSummary {
  teacherSteps: number;
  studentSteps: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  teacherGuidance: number;
  weighting: DistillationWeighting;
  finalLoss: number | null;
  /** Mean squared z-space distance of the student's one step from the teacher's two, before and after. */
  gapBefore: number;
  gapAfter: number;
  trainingSeconds: number;
}

interface RoundState {
  progress: StageProgress;
  distiller: DistillState;
  batches: RandomState;
  gapBefore: number;
}

export interface DistillContext {
  plan: DistillPlan;
  model: DiffusionModel;
  schedule: NoiseSchedule;
  data: MnistDataset;
  stateDir: string;
  stopAfter?: number;
  /** Only the first N digits of the training split (tests). */
  subset?: number;
  log(line: string): void;
  /** Called with each round's student when its round is done (also for rounds finished before, on resume). */
  onRound?(student: UNet, rounds: RoundSummary[], dir: string): Promise<void>;
}

/** The round's student step counts: fromSteps/2, fromSteps/4, …, toSteps. */
export function roundSteps(fromSteps: number, toSteps: number): number[] {
  const out: number[] = [];
  for (let n = fromSteps / 2; n >= toSteps && Number.isInteger(n); n /= 2) out.push(n);
  if (out.at(-1) !== toSteps) throw new Error(`--to ${toSteps} is not --from ${fromSteps} halved a whole number of times`);
  return out;
}

/** The training split's latents (normalized encoder means) and labels, encoded once. */
function encodeTrainingSplit(model: DiffusionModel, data: MnistDataset, subset?: number): { latents: Float32Array; labels: Int32Array; per: number } {
  const train = splitTrainHeldOut(data).train.subarray(0, subset);
  const per = model.sampleShape(1).slice(1).reduce((a, b) => a * b, 1);
  const latents = new Float32Array(train.length * per);
  for (let start = 0; start < train.length; start += 250) {
    const idx = train.subarray(start, Math.min(train.length, start + 250));
    const z = tf.tidy(() => model.encode(tf.tensor4d(imagesToUnit(data, idx), [idx.length, 28, 28, 1])));
    latents.set(z.dataSync(), start * per);
    z.dispose();
  }
  return { latents, labels: Int32Array.from(train, (i) => data.labels[i]), per };
}

async function saveStudent(dir: string, unet: UNet, summary: RoundSummary): Promise<void> {
  const artifacts = await saveWeights(unet.weights, { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: STUDENT_KIND, config: {}, extra: summary });
  await saveToDir(dir, artifacts);
  await writeFile(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

function loadInto(unet: UNet, modelJson: unknown, weightsBin: ArrayBuffer): void {
  const loaded = loadWeights(modelJson, weightsBin, { kind: STUDENT_KIND });
  try {
    assignWeights(unet.weights, loaded.tensors);
  } finally {
    disposeTensors(loaded.tensors);
  }
}

/**
 * Runs (or resumes) every round, starting from `teacher` (which it disposes). Returns the last
 * student and the rounds' summaries, or null when stopped early by `stopAfter`.
 */
export async function runRounds(ctx: DistillContext, teacher: UNet): Promise<{ student: UNet; rounds: RoundSummary[] } | null> {
  const { plan, schedule } = ctx;
  const { latents, labels, per } = encodeTrainingSplit(ctx.model, ctx.data, ctx.subset);
  const shape = ctx.model.sampleShape(1).slice(1) as [number, number, number];
  const rows = (count: number, pick: (i: number) => number): { x0: tf.Tensor4D; y: Int32Array } => {
    const x = new Float32Array(count * per);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const r = pick(i);
      x.set(latents.subarray(r * per, (r + 1) * per), i * per);
      y[i] = labels[r];
    }
    return { x0: tf.tensor4d(x, [count, ...shape]), y };
  };
  const rounds: RoundSummary[] = [];
  let current = teacher;
  let teacherSteps = plan.fromSteps;
  for (const studentSteps of roundSteps(plan.fromSteps, plan.toSteps)) {
    const doneDir = join(ctx.stateDir, `student-${studentSteps}`);
    if (existsSync(join(doneDir, 'summary.json'))) {
      const { modelJson, weightsBin } = await loadFromDir(doneDir);
      loadInto(current, modelJson, weightsBin); // the teacher's U-Net becomes the finished student
      rounds.push(JSON.parse(await readFile(join(doneDir, 'summary.json'), 'utf8')) as RoundSummary);
      ctx.log(`round ${teacherSteps} → ${studentSteps}: done before (${doneDir})`);
      if (!existsSync(join(doneDir, 'model', 'model.json'))) await ctx.onRound?.(current, rounds, join(doneDir, 'model'));
      teacherSteps = studentSteps;
      continue;
    }
    const guidance = teacherSteps === plan.fromSteps ? plan.guidance : 1;
    const student = copyUNet(current);
    const distiller = new Distiller({
      teacher: current, teacherPrediction: teacherSteps === plan.fromSteps ? plan.teacherPrediction : plan.studentPrediction, teacherGuidance: guidance,
      student, studentPrediction: plan.studentPrediction, schedule, studentSteps, learningRate: plan.learningRate, seed: deriveSeed(plan.seed, studentSteps), weighting: plan.weighting,
    });
    const batches = createRandom(deriveSeed(plan.seed, 1000 + studentSteps));
    const probeRng = createRandom(deriveSeed(plan.seed, 2000));
    const probe = rows(plan.probe, () => probeRng.int(labels.length));
    const probeIdx = Int32Array.from({ length: plan.probe }, (_, i) => i % studentSteps);
    const gap = () => distiller.oneStepGap(probe.x0, probe.y, probeIdx, deriveSeed(plan.seed, 3000));
    const roundDir = join(ctx.stateDir, `round-${studentSteps}`);
    let state: RoundState;
    const saved = await loadJobCheckpoint<RoundState>(roundDir);
    if (saved) {
      loadInto(student, saved.modelJson, saved.weightsBin);
      await saved.restoreOptimizer(distiller.optimizer);
      distiller.setState(saved.state.distiller);
      batches.setState(saved.state.batches);
      state = saved.state;
      ctx.log(`round ${teacherSteps} → ${studentSteps}: resuming at step ${state.progress.step}`);
    } else {
      state = { progress: { step: 0, lossEma: null, seconds: 0 }, distiller: distiller.getState(), batches: batches.getState(), gapBefore: await gap() };
      ctx.log(`round ${teacherSteps} → ${studentSteps}: teacher guidance ${guidance}, one-step gap before ${state.gapBefore.toExponential(3)}`);
    }
    const finished = await runStage({
      label: `distill ${teacherSteps}→${studentSteps}`,
      plan: { steps: plan.steps, batchSize: plan.batchSize, learningRate: plan.learningRate },
      progress: state.progress,
      checkpointEvery: plan.checkpointEvery,
      stopAfter: ctx.stopAfter,
      optimizer: distiller.optimizer,
      step: () => {
        const batch = rows(plan.batchSize, () => batches.int(labels.length));
        try {
          return distiller.trainStep(batch.x0, batch.y);
        } finally {
          batch.x0.dispose();
        }
      },
      checkpoint: async (progress) => {
        const model = await saveWeights(student.weights, { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: STUDENT_KIND, config: {} });
        const next: RoundState = { progress, distiller: distiller.getState(), batches: batches.getState(), gapBefore: state.gapBefore };
        await saveJobCheckpoint(roundDir, { model, optimizer: distiller.optimizer, state: next });
      },
    });
    if (!finished) {
      tf.dispose([probe.x0]);
      distiller.dispose();
      student.dispose();
      current.dispose();
      return null;
    }
    const summary: RoundSummary = {
      teacherSteps, studentSteps, steps: plan.steps, batchSize: plan.batchSize, learningRate: plan.learningRate, teacherGuidance: guidance, weighting: plan.weighting,
      finalLoss: state.progress.lossEma, gapBefore: state.gapBefore, gapAfter: await gap(), trainingSeconds: Math.round(state.progress.seconds),
    };
    ctx.log(`round ${teacherSteps} → ${studentSteps}: loss ${summary.finalLoss?.toFixed(4)}, one-step gap ${summary.gapBefore.toExponential(3)} → ${summary.gapAfter.toExponential(3)}, ${summary.trainingSeconds} s`);
    await mkdir(doneDir, { recursive: true });
    await saveStudent(doneDir, student, summary);
    rounds.push(summary);
    await ctx.onRound?.(student, rounds, join(doneDir, 'model'));
    tf.dispose([probe.x0]);
    distiller.dispose();
    current.dispose();
    current = student;
    teacherSteps = studentSteps;
  }
  return { student: current, rounds };
}
