/**
 * `npm run distill`: progressive distillation (Salimans & Ho 2022) of the pretrained LDM's latent
 * denoiser, round after round (32 → 16 → 8 → 4 steps by default; --from 64 adds 64 → 32), on the wasm backend in
 * Node. The first teacher is the pretrained model's EMA denoiser with classifier-free guidance w
 * (the page's proposed 1.3); every student is conditional only, so it samples with guidance 1 and
 * DDIM (η = 0) over 'trailing' timesteps. Writes model.json + weights.bin + manifest.json (how it was
 * made, round by round) to --out, and a sample grid of the last student to <state>/samples-N.png.
 * Killed, it resumes from <state> when run again with the same arguments.
 *
 *   npm run distill -- [--from 32] [--to 4] [--steps 450] [--batch 32] [--lr 3e-4] [--guidance 1.3]
 *                      [--model-dir public/models/latent] [--out public/models/latent-distilled]
 *                      [--state .pretrain/distill] [--checkpoint-every 25] [--probe 64] [--seed 1]
 *   score it: npm run -s eval -- --model latent --model-dir public/models/latent-distilled
 *             --sampler ddim --steps 4 --spacing trailing --guidance 1 --n 1000 --seed 0 --batch 50
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnistNode } from '../data/load-node';
import { initNodeBackend } from '../backends/node';
import { DEFAULT_SAMPLER, PREDICTION_TYPES, type PredictionType } from '../diffusion/config';
import { makeSchedule } from '../diffusion';
import { copyUNet } from '../engine/distill';
import { DISTILLATION_WEIGHTINGS, type DistillationWeighting } from '../diffusion/progressive-distillation';
import { loadModel } from '../io/model-files';
import { loadFromDir } from '../io/weights-file-node';
import type { DiffusionModel } from '../models/diffusion-model';
import { samplingDenoiser } from '../sampling/sample';
import { generateImages } from '../sampling/generate';
import { UsageError } from './args';
import { encodeGrayPng, imageGrid } from './png';
import { defaultModelDir, isMainModule, parseOptions, runTool } from './sampling-options';
import { roundSteps, runRounds, type DistillPlan } from './distill-job';
import { writeDistilledModel, type DistilledMade } from './distill-output';

const DEFAULTS = {
  from: 32,
  to: 4,
  steps: 450,
  batch: 32,
  lr: 3e-4,
  guidance: 1.3,
  prediction: 'epsilon',
  weighting: 'auto',
  'model-dir': '',
  out: '',
  state: '.pretrain/distill',
  'checkpoint-every': 25,
  probe: 64,
  seed: 1,
  'stop-after': 0,
  /** Train on the first N digits of the training split only (tests); 0 = all 9,000. */
  subset: 0,
};

const USAGE =
  'npm run distill -- [--from 32] [--to 4] [--steps 450] [--batch 32] [--lr 3e-4] [--guidance 1.3] [--prediction epsilon|x0|v] [--weighting auto|truncated-snr|one-step] ' +
  '[--model-dir DIR] [--out DIR] [--state DIR] [--checkpoint-every 25] [--probe 64] [--seed 1]';

/** The tool itself, callable in-process (tests): returns the exit code. */
export async function distillMain(argv: string[], err: NodeJS.WriteStream = process.stderr): Promise<number> {
  return runTool('distill', err, async () => {
    const args = parseOptions(argv, DEFAULTS, USAGE);
    const bad = (problem: string) => new UsageError(`${problem}\nusage: ${USAGE}`);
    for (const name of ['from', 'to', 'steps', 'batch', 'checkpoint-every', 'probe', 'seed'] as const) {
      if (!(Number.isInteger(args[name]) && args[name] >= 1)) throw bad(`--${name} must be an integer ≥ 1, got ${args[name]}`);
    }
    if (!(args.lr > 0 && args.lr < 1)) throw bad(`--lr must be in (0, 1), got ${args.lr}`);
    if (!(args.guidance >= 0)) throw bad(`--guidance must be ≥ 0, got ${args.guidance}`);
    if (!(PREDICTION_TYPES as readonly string[]).includes(args.prediction)) throw bad(`--prediction must be one of ${PREDICTION_TYPES.join(', ')}`);
    // auto: the paper's truncated SNR for x0 / v students; for an ε student 'one-step' (see src/engine/distill.ts).
    const weighting = args.weighting === 'auto' ? (args.prediction === 'epsilon' ? 'one-step' : 'truncated-snr') : args.weighting;
    if (!(DISTILLATION_WEIGHTINGS as readonly string[]).includes(weighting)) throw bad(`--weighting must be auto or one of ${DISTILLATION_WEIGHTINGS.join(', ')}`);
    try {
      roundSteps(args.from, args.to);
    } catch (e) {
      throw bad(e instanceof Error ? e.message : String(e));
    }
    const modelDir = args['model-dir'] || defaultModelDir('latent');
    const outDir = args.out || defaultModelDir('latent-distilled');
    const backend = await initNodeBackend('wasm');
    const source = await loadFromDir(modelDir);
    const { model, info } = loadModel(source.modelJson, source.weightsBin);
    if (info.setup.kind !== 'latent' || model.autoencoder == null) throw bad(`--model-dir ${modelDir} holds a ${info.setup.kind} model; distill needs the latent one`);
    const plan: DistillPlan = {
      fromSteps: args.from, toSteps: args.to, steps: args.steps, batchSize: args.batch, learningRate: args.lr, guidance: args.guidance,
      teacherPrediction: info.setup.prediction, studentPrediction: args.prediction as PredictionType, weighting: weighting as DistillationWeighting, seed: args.seed,
      checkpointEvery: args['checkpoint-every'], probe: args.probe,
    };
    if (plan.studentPrediction !== plan.teacherPrediction) err.write(`distill: note: the student reads its output as ${plan.studentPrediction}, the teacher as ${plan.teacherPrediction}; it starts far from its teacher\n`);
    err.write(`distill: ${modelDir} (${info.denoiserSteps} denoiser steps), rounds ${[args.from, ...roundSteps(args.from, args.to)].join(' → ')}, ${args.steps} steps at batch ${args.batch}, lr ${args.lr}, guidance ${args.guidance}, ${plan.studentPrediction} student, ${weighting} weighting, backend ${backend}\n`);
    const schedule = makeSchedule(info.setup.schedule);
    const { unet: emaCopy, owned } = samplingDenoiser(model, true);
    const teacher = owned ? emaCopy : copyUNet(emaCopy);
    const started = performance.now();
    const made: DistilledMade = { info, pretrained: model, plan, fromSteps: args.from, weighting: plan.weighting, backend };
    const result = await runRounds({
      plan, model, schedule, data: await loadMnistNode(), stateDir: args.state, stopAfter: args['stop-after'] || undefined, subset: args.subset || undefined,
      log: (line) => err.write(`${line}\n`),
      onRound: (student, rounds, dir) => writeDistilledModel(dir, student, rounds, made, err),
    }, teacher);
    if (result == null) {
      model.dispose();
      err.write(`distill: stopped early (--stop-after); run again to resume from ${args.state}\n`);
      return;
    }
    let out: DiffusionModel | null = null;
    try {
      await writeDistilledModel(outDir, result.student, result.rounds, made, err);
      err.write(`distill: done (${(performance.now() - started) / 1000 | 0} s in this process)\n`);
      const written = await loadFromDir(outDir);
      out = loadModel(written.modelJson, written.weightsBin).model;
      const request = { ...DEFAULT_SAMPLER, kind: 'ddim' as const, steps: args.to, spacing: 'trailing' as const, guidance: 1, numImages: 40, seed: 0, digit: null, batch: 40 };
      const pixels = await generateImages(out, schedule, plan.studentPrediction, request);
      const grid = imageGrid(pixels, 40, 28, 10);
      await writeFile(join(args.state, `samples-${args.to}.png`), encodeGrayPng(grid.pixels, grid.width, grid.height));
      err.write(`distill: sample grid (DDIM-${args.to}, 4 per digit) in ${join(args.state, `samples-${args.to}.png`)}; tensors left ${tf.memory().numTensors}\n`);
    } finally {
      out?.dispose();
      result.student.dispose();
      model.dispose();
    }
  });
}

if (isMainModule(import.meta.url)) {
  void distillMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
