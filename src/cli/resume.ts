/**
 * Resumable jobs for the command-line tools: a job's checkpoint is one directory holding its model
 * (any checkpoint, see src/io/weights-file.ts), its Adam state (optimizer/, the moments in the
 * optimizer's own order) and state.json (step, random generators, batch order, elapsed time...).
 *
 * A checkpoint is written to `<dir>.tmp`, then swapped in by renames, so a job killed while saving
 * resumes from the previous complete checkpoint.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { WEIGHTS_FORMAT, WEIGHTS_VERSION, disposeTensors, loadWeights, saveWeights, type WeightsArtifacts } from '../io/weights-file';
import { loadFromDir, saveToDir } from '../io/weights-file-node';

const OPTIMIZER_KIND = 'adam-state';
const STATE_FILE = 'state.json';

/** Adam's moments as a checkpoint; its iteration count goes into the returned number. */
async function optimizerArtifacts(optimizer: tf.Optimizer): Promise<{ artifacts: WeightsArtifacts; iterations: number }> {
  const named = await optimizer.getWeights();
  const [iter, ...moments] = named;
  const iterations = (await iter.tensor.data())[0];
  iter.tensor.dispose();
  const tensors = new Map<string, tf.Tensor>();
  moments.forEach((m, i) => tensors.set(`m${String(i).padStart(4, '0')}`, m.tensor));
  const artifacts = await saveWeights(tensors, { format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, kind: OPTIMIZER_KIND, config: { count: moments.length } });
  return { artifacts, iterations };
}

/** Restores Adam's moments saved by {@link saveJobCheckpoint} into a fresh optimizer. */
async function restoreOptimizer(optimizer: tf.Optimizer, dir: string, iterations: number): Promise<void> {
  const { modelJson, weightsBin } = await loadFromDir(dir);
  const loaded = loadWeights(modelJson, weightsBin, { kind: OPTIMIZER_KIND });
  try {
    const moments = [...loaded.tensors.entries()].map(([name, tensor]) => ({ name, tensor }));
    const iter = tf.scalar(iterations);
    try {
      await optimizer.setWeights([{ name: 'iter', tensor: iter }, ...moments]);
    } finally {
      iter.dispose();
    }
  } finally {
    disposeTensors(loaded.tensors);
  }
}

export interface JobCheckpoint<S> {
  model: WeightsArtifacts;
  optimizer: tf.Optimizer | null;
  state: S;
}

/** Writes a job checkpoint to `dir` atomically (see the module comment). */
export async function saveJobCheckpoint<S>(dir: string, checkpoint: JobCheckpoint<S>): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await saveToDir(join(tmp, 'model'), checkpoint.model);
  let iterations = 0;
  if (checkpoint.optimizer) {
    const opt = await optimizerArtifacts(checkpoint.optimizer);
    iterations = opt.iterations;
    await saveToDir(join(tmp, 'optimizer'), opt.artifacts);
  }
  await writeFile(join(tmp, STATE_FILE), `${JSON.stringify({ iterations, state: checkpoint.state })}\n`);
  await rm(old, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

export interface LoadedJob<S> {
  modelJson: unknown;
  weightsBin: ArrayBuffer;
  state: S;
  /** Restores the optimizer state into `optimizer` (a fresh one of the same kind). */
  restoreOptimizer(optimizer: tf.Optimizer): Promise<void>;
}

/** The job checkpoint in `dir` (or in `dir.old` when a swap was interrupted), or null when there is none. */
export async function loadJobCheckpoint<S>(dir: string): Promise<LoadedJob<S> | null> {
  const found = [dir, `${dir}.old`].find((d) => existsSync(join(d, STATE_FILE)));
  if (found == null) return null;
  const { iterations, state } = JSON.parse(await readFile(join(found, STATE_FILE), 'utf8')) as { iterations: number; state: S };
  const { modelJson, weightsBin } = await loadFromDir(join(found, 'model'));
  return {
    modelJson,
    weightsBin,
    state,
    restoreOptimizer: (optimizer) => restoreOptimizer(optimizer, join(found, 'optimizer'), iterations),
  };
}
