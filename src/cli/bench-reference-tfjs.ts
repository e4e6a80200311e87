/**
 * The tfjs side of `npm run bench:reference` (./bench-reference.ts): a train step's bytes per image
 * (to keep within wasm32's 4 GiB), the batch that fits, and the median timings of the reference
 * U-Net's train step (ours or tfjs's own op gradients, `plain`) and forward pass on this process's
 * wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { DiffusionModel } from '../models/diffusion-model';
import { Trainer } from '../engine/trainer';
import { makeSchedule } from '../diffusion';
import { DEFAULT_SCHEDULE } from '../diffusion/config';
import type { UNetConfig } from '../models/setup/unet-config';
import { createUNet } from '../models/unet';
import { setFastOps } from '../kernels/fast-ops';
import { setFastConcat } from '../kernels/fast-concat';
import { ProgressBar } from './progress';
import { median } from '../eval/stats';
import { tfjsSgemm, wasmThreads, type Timing } from './bench-peers';


/** wasm32's address space: a wasm backend whose tensors need more aborts ("Aborted()") for good. */
const WASM_MEMORY_LIMIT = 4 * 2 ** 30;
const PROBE_BATCH = 4;

function newTrainer(config: UNetConfig): { model: DiffusionModel; trainer: Trainer } {
  const model = new DiffusionModel('pixel', createUNet(config, 0), null);
  const trainer = new Trainer({ model, schedule: makeSchedule(DEFAULT_SCHEDULE), prediction: 'epsilon', learningRate: 1e-4, seed: 0 });
  return { model, trainer };
}

function trainInputs(batch: number): { images: Float32Array; labels: Int32Array; shape: [number, number, number, number] } {
  return {
    images: new Float32Array(batch * 784).map((_, i) => Math.sin(i * 0.37) * 0.9),
    labels: Int32Array.from({ length: batch }, (_, i) => i % 10),
    shape: [batch, 28, 28, 1],
  };
}

/**
 * Peak tensor bytes of one train step, per image, from a step at a small batch (tf.profile): a
 * train step whose tensors would pass wasm32's 4 GiB kills the backend, so it is never tried.
 */
export async function trainBytesPerImage(config: UNetConfig, plain = false): Promise<number> {
  setPlain(plain);
  const { model, trainer } = newTrainer(config);
  const { images, labels, shape } = trainInputs(PROBE_BATCH);
  const info = await tf.profile(async () => {
    const { loss, itemLosses } = trainer.trainStep(images, shape, labels);
    await loss.data();
    tf.dispose([loss, itemLosses]);
  });
  trainer.dispose();
  model.dispose();
  setPlain(false);
  return info.peakBytes / PROBE_BATCH;
}

/** Plain = the models' formulation differentiated by tfjs itself (no fused ops, plain concat). */
function setPlain(plain: boolean): void {
  setFastOps(plain ? false : null);
  setFastConcat(!plain);
}

/** The largest halving of `batch` whose train step fits wasm32's memory at `perImage` bytes an image. */
export function fittingBatch(batch: number, perImage: number): number {
  let b = batch;
  while (b > 1 && perImage * b > 0.9 * WASM_MEMORY_LIMIT) b = Math.floor(b / 2);
  return b;
}

/** Seconds of `reps` train steps at `batch`, after one untimed step (which also creates Adam's slots). */
async function timeTrainSteps(config: UNetConfig, batch: number, reps: number, label: string): Promise<number[]> {
  const { model, trainer } = newTrainer(config);
  const { images, labels, shape } = trainInputs(batch);
  const steps: number[] = [];
  const bar = new ProgressBar(label, reps + 1);
  try {
    for (let r = 0; r <= reps; r++) {
      const t0 = performance.now();
      const { loss, itemLosses } = trainer.trainStep(images, shape, labels);
      await loss.data();
      tf.dispose([loss, itemLosses]);
      if (r > 0) steps.push((performance.now() - t0) / 1000);
      bar.update(r + 1);
    }
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return steps;
}

/**
 * The train step with tfjs's own op gradients ("before"): same model, at `trainBatch` or the largest
 * halving of it that fits (the plain formulation keeps more tensors). The conv kernels stay ours:
 * wasm has no filter gradient of its own.
 */
async function timeTfjsPlain(config: UNetConfig, trainBatch: number, reps: number): Promise<Timing> {
  const batch = fittingBatch(trainBatch, await trainBytesPerImage(config, true));
  setPlain(true);
  try {
    const steps = await timeTrainSteps(config, batch, reps, `tfjs wasm train step, tfjs's own op gradients (batch ${batch})`);
    return { framework: `tfjs ${tf.version.tfjs} ${tf.getBackend()}, own op gradients`, threads: wasmThreads(), case: 'train step', batch, seconds: median(steps), all: steps, plain: true };
  } finally {
    setPlain(false);
  }
}

export async function timeTfjs(config: UNetConfig, batch: number, trainBatch: number, reps: number, plain: boolean): Promise<Timing[]> {
  const { model, trainer } = newTrainer(config);
  const denoiser = model.denoiser;
  const fwd: number[] = [];
  const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const t = tf.tensor1d(Float32Array.from({ length: batch }, (_, i) => (i * 997) % 1000));
  const lab = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  const bar = new ProgressBar('tfjs wasm forward', reps + 1);
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const y = denoiser.apply(x, t, { labels: lab });
    await y.data();
    y.dispose();
    if (r > 0) fwd.push((performance.now() - t0) / 1000); // run 0 warms up kernels
    bar.update(r + 1);
  }
  tf.dispose([x, t, lab]);
  trainer.dispose();
  model.dispose();

  const steps = await timeTrainSteps(config, trainBatch, reps, `tfjs wasm train step (batch ${trainBatch})`);
  const threads = wasmThreads();
  const sgemm = await tfjsSgemm();
  return [
    sgemm,
    ...(plain ? [await timeTfjsPlain(config, trainBatch, reps)] : []),
    { framework: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`, threads, case: 'train step', batch: trainBatch, seconds: median(steps), all: steps },
    { framework: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`, threads, case: 'forward', batch, seconds: median(fwd), all: fwd },
  ];
}

