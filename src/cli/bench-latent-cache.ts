/**
 * `npm run bench:latent-cache`: the latent denoiser's training step with its batch encoded through
 * the frozen encoder every step (as before) against latents encoded once and cached
 * (src/engine/latent-cache.ts), in Node on wasm, in one run: rounds alternate (encode, cached,
 * encode, ...), each round times `--steps` steps (the loss read back each step, as the page does),
 * and the medians of the rounds are reported, wall time and CPU time (process.cpuUsage, both
 * threads of the process) per step, since the machine is shared. Also the one-off cost of filling
 * the cache (one epoch of the training split through the encoder, at the same batch) and its bytes.
 *
 *   npm run bench:latent-cache -- [--rounds 5] [--steps 8] [--models page,pretrained] [--json out.json]
 *
 * Models: `page` is the page's default LDM (ae-tiny + latent-tiny, C = 4) at the page's default
 * batch 16; `pretrained` the pretrained LDM's size (ae-small + latent-small, C = 4) at its
 * pretraining batch 64. Weights are fresh (timings only).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { loadMnistNode } from '../data/load-node';
import { splitTrainHeldOut } from '../data/mnist';
import { createBatchProvider } from '../data/batches';
import { makeSchedule } from '../diffusion';
import { buildModel } from '../models/factory';
import { DEFAULT_MODEL_SETUP, presetAttention, type ModelSetup } from '../models/setup/model-setup';
import { Trainer, type TrainStepResult } from '../engine/trainer';
import { LatentCache } from '../engine/latent-cache';
import { median } from '../eval/stats';
import { parseArgs } from './args';

const latentSetup = (autoencoder: 'ae-tiny' | 'ae-small', denoiser: 'latent-tiny' | 'latent-small'): ModelSetup => {
  const setup: ModelSetup = { ...DEFAULT_MODEL_SETUP, kind: 'latent', latent: { autoencoder, latentChannels: 4, denoiser, klWeight: 1e-5 }, classConditional: true };
  return { ...setup, attention: presetAttention(setup) };
};

/** The Training panel's default batch (src/state/store.ts, DEFAULT_TRAINING). */
const PAGE_BATCH = 16;

const MODELS: Record<string, { name: string; setup: ModelSetup; batch: number }> = {
  page: { name: 'page default LDM (ae-tiny + latent-tiny, C = 4)', setup: latentSetup('ae-tiny', 'latent-tiny'), batch: PAGE_BATCH },
  pretrained: { name: 'pretrained LDM size (ae-small + latent-small, C = 4)', setup: latentSetup('ae-small', 'latent-small'), batch: 64 },
};

interface Timed {
  wallMs: number;
  cpuMs: number;
}

async function finish(result: TrainStepResult): Promise<void> {
  await result.loss.data();
  tf.dispose([result.loss, result.itemLosses]);
}

/** Wall and CPU ms per step of `steps` calls of `step`. */
async function timeSteps(steps: number, step: () => Promise<void>): Promise<Timed> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: wall / steps, cpuMs: (cpu.user + cpu.system) / 1000 / steps };
}

async function benchModel(key: string, rounds: number, steps: number) {
  const { name, setup, batch } = MODELS[key];
  const data = await loadMnistNode();
  const train = splitTrainHeldOut(data).train;
  const model = buildModel(setup, 0);
  model.latent = { shift: -0.2, scale: 1.8 };
  const trainer = new Trainer({ model, schedule: makeSchedule(setup.schedule), prediction: 'epsilon', learningRate: 1e-4, seed: 0 });
  const provider = createBatchProvider(data, train, batch, 0);
  const cache = new LatentCache(data, train);
  const imageShape: [number, number, number, number] = [batch, 28, 28, 1];
  const latentShape = model.sampleShape(batch);
  const encodeStep = async () => {
    const b = provider.next();
    await finish(trainer.trainStep(b.x, imageShape, b.labels));
  };
  const cachedStep = async () => {
    const b = provider.next();
    await finish(trainer.trainStepOnX0(await cache.latents(model, b, 0), latentShape, b.labels));
  };
  // The cache's one-off fill: one epoch of batches through the encoder (the first epoch of training does this).
  const fillBatches = Math.ceil(train.length / batch);
  const fillProvider = createBatchProvider(data, train, batch, 1);
  const tensorsBefore = tf.memory().numTensors;
  const fillCpu0 = process.cpuUsage();
  const fill0 = performance.now();
  for (let i = 0; i < fillBatches; i++) await cache.latents(model, fillProvider.next(), 0);
  const fill = { wallMs: performance.now() - fill0, cpuMs: ((u) => (u.user + u.system) / 1000)(process.cpuUsage(fillCpu0)) };
  if (cache.cachedImages !== train.length) throw new Error(`the cache holds ${cache.cachedImages} of ${train.length} images after an epoch`);
  if (tf.memory().numTensors !== tensorsBefore) throw new Error('filling the cache left tensors behind');
  await encodeStep(); // warm-up: kernels, Adam's slots
  await cachedStep();
  const encode: Timed[] = [];
  const cached: Timed[] = [];
  for (let r = 0; r < rounds; r++) {
    encode.push(await timeSteps(steps, encodeStep));
    cached.push(await timeSteps(steps, cachedStep));
    process.stderr.write(`${key}: round ${r + 1}/${rounds}: encode ${encode[r].wallMs.toFixed(1)} ms/step, cached ${cached[r].wallMs.toFixed(1)} ms/step\n`);
  }
  if (cache.encodedBatches !== fillBatches) throw new Error('a timed cached step encoded its batch');
  trainer.dispose();
  model.dispose();
  const med = (xs: Timed[], k: keyof Timed) => median(xs.map((x) => x[k]));
  return {
    model: name,
    batch,
    encodeWallMs: med(encode, 'wallMs'),
    encodeCpuMs: med(encode, 'cpuMs'),
    cachedWallMs: med(cached, 'wallMs'),
    cachedCpuMs: med(cached, 'cpuMs'),
    fillWallMs: fill.wallMs,
    fillCpuMs: fill.cpuMs,
    fillBatches,
    cacheBytes: cache.bytes,
    rounds,
    steps,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { rounds: 5, steps: 8, models: 'page,pretrained', json: '' });
  await initNodeBackend('wasm');
  const rows = [];
  for (const key of args.models.split(',')) {
    if (!(key in MODELS)) throw new Error(`unknown model '${key}' (page, pretrained)`);
    rows.push(await benchModel(key, args.rounds, args.steps));
  }
  console.log(`\nLatent denoiser train step, Node ${process.version}, wasm (${tf.getBackend()}), median of ${args.rounds} alternating rounds of ${args.steps} steps\n`);
  console.log('| model | batch | encode every step: ms/step (CPU ms) | cached latents: ms/step (CPU ms) | speed-up wall (CPU) | cache fill: one epoch, s (CPU s) | cache MiB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.batch} | ${r.encodeWallMs.toFixed(1)} (${r.encodeCpuMs.toFixed(1)}) | ${r.cachedWallMs.toFixed(1)} (${r.cachedCpuMs.toFixed(1)}) | ` +
        `${(r.encodeWallMs / r.cachedWallMs).toFixed(2)}× (${(r.encodeCpuMs / r.cachedCpuMs).toFixed(2)}×) | ${(r.fillWallMs / 1000).toFixed(1)} (${(r.fillCpuMs / 1000).toFixed(1)}), ${r.fillBatches} batches | ${(r.cacheBytes / 2 ** 20).toFixed(2)} |`,
    );
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 2));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
