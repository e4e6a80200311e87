/**
 * `npm run bench:quality-curve`: what the live quality curve (src/engine/quality-curve.ts) costs
 * training. In Node on wasm, in one run, the page's training loop (src/engine/training-run.ts: one
 * step, the loss read back, the hook after it) trains the page's default model at the page's
 * default batch in rounds that alternate curve on / curve off, and reports
 * steps/s per round and over all rounds of each kind, on wall time and on CPU time
 * (process.cpuUsage), since the machine is shared.
 *
 *   npm run bench:quality-curve -- [--rounds 3] [--samples 200] [--steps 10] [--share 0.05] [--json out.json]
 *
 * A round with the curve on is one duty cycle of its budget: a check, then training until the next
 * check is due (so a run of any length with the curve on is such cycles back to back); a round with
 * the curve off trains as long. The order alternates by pair (on/off, off/on, ...). The first check
 * (loading the classifier, scoring the reference and the floor) runs before the timed rounds and is
 * reported on its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { loadMnistNode } from '../data/load-node';
import { splitTrainHeldOut } from '../data/mnist';
import { createBatchProvider } from '../data/batches';
import { makeSchedule } from '../diffusion';
import { buildModel } from '../models/factory';
import { DEFAULT_MODEL_SETUP } from '../models/setup/model-setup';
import { Trainer } from '../engine/trainer';
import { runTraining } from '../engine/training-run';
import { RunControl } from '../engine/run-control';
import { QualityCurve } from '../engine/quality-curve';
import { dirReader } from '../io/pretrained-node';
import { DEFAULT_QUALITY, type QualityPoint } from '../protocol/quality-messages';
import { parseArgs } from './args';

/** The Training panel's default batch (src/state/store.ts, DEFAULT_TRAINING). */
const PAGE_BATCH = 16;

interface Round {
  curve: boolean;
  steps: number;
  wallS: number;
  cpuS: number;
  checks: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { rounds: 3, samples: DEFAULT_QUALITY.samples, steps: DEFAULT_QUALITY.steps, share: DEFAULT_QUALITY.share, json: '' });
  await initNodeBackend('wasm');
  const setup = DEFAULT_MODEL_SETUP;
  const data = await loadMnistNode();
  const train = splitTrainHeldOut(data).train;
  const schedule = makeSchedule(setup.schedule);
  const model = buildModel(setup, 0);
  const trainer = new Trainer({ model, schedule, prediction: setup.prediction, learningRate: 2e-3, seed: 0 });
  const provider = createBatchProvider(data, train, PAGE_BATCH, 0);
  const shape: [number, number, number, number] = [PAGE_BATCH, 28, 28, 1];
  const points: QualityPoint[] = [];
  const quality = new QualityCurve({
    post: (m) => {
      if (m.type === 'quality/point') points.push(m.point);
      if (m.type === 'quality/status' && m.status === 'failed') throw new Error(m.message ?? 'the quality curve failed');
    },
    read: dirReader(join(process.cwd(), 'public/models')),
    loadData: async () => data,
  });
  quality.set({ samples: args.samples, steps: args.steps, share: args.share });

  /**
   * Trains with the curve on (the session's hook, src/engine/training-session.ts) or off, until
   * `until` says stop (checked after every step).
   */
  const trainWhile = async (curve: boolean, until: () => boolean): Promise<Round> => {
    const control = new RunControl();
    const first = trainer.step;
    const checks0 = quality.counts.done;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await runTraining({
      stage: 'denoiser',
      totalSteps: Number.MAX_SAFE_INTEGER,
      takeStep: () => {
        const b = provider.next();
        return trainer.trainStep(b.x, shape, b.labels);
      },
      stepCount: () => trainer.step,
      control,
      post: () => {},
      previewEvery: 0,
      preview: async () => {},
      afterStep: async (step, ms) => {
        if (until()) return control.cancel(); // before the check: an on round ends where the next check would start
        if (curve) await quality.afterStep({ model, schedule, prediction: setup.prediction, control, step, trainingMs: ms });
      },
    });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { curve, steps: trainer.step - first, wallS, cpuS: (cpu.user + cpu.system) / 1e6, checks: quality.counts.done - checks0 };
  };
  /** One duty cycle with the curve on: a check, then training until the next check is due. */
  const onRound = async () => {
    await trainWhile(false, () => quality.due); // untimed: wait for the budget, so the round starts with a check
    const done0 = quality.counts.done;
    return trainWhile(true, () => quality.counts.done > done0 && quality.due);
  };
  const offRound = async (seconds: number) => {
    const end = performance.now() + seconds * 1000;
    return trainWhile(false, () => performance.now() >= end);
  };

  // Warm-up: kernels, Adam's slots, and the first check (classifier, reference, floor).
  await offRound(3);
  const tensors0 = tf.memory().numTensors;
  const firstT0 = performance.now();
  const firstCpu0 = process.cpuUsage();
  await quality.afterStep({ model, schedule, prediction: setup.prediction, control: new RunControl(), step: trainer.step, trainingMs: 0 });
  const first = { wallS: (performance.now() - firstT0) / 1000, cpuS: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(firstCpu0)) };
  if (points.length !== 1) throw new Error('the first check posted no point');
  const classifierTensors = tf.memory().numTensors - tensors0;

  // Pairs of rounds, the order alternating: on then off, off then on, ... (an off round lasts as long as the last on round).
  const rounds: Round[] = [];
  const log = (round: Round) => {
    rounds.push(round);
    process.stderr.write(`round ${rounds.length}: curve ${round.curve ? 'on ' : 'off'}: ${round.wallS.toFixed(1)} s, ${(round.steps / round.wallS).toFixed(2)} steps/s wall, ${(round.steps / round.cpuS).toFixed(2)} per CPU s, ${round.checks} checks\n`);
  };
  let lastOnS = 30;
  for (let r = 0; r < args.rounds; r++) {
    if (r % 2 === 0) {
      const on = await onRound();
      log(on);
      lastOnS = on.wallS;
      log(await offRound(lastOnS));
    } else {
      log(await offRound(lastOnS));
      const on = await onRound();
      log(on);
      lastOnS = on.wallS;
    }
  }
  const total = (curve: boolean) => {
    const rs = rounds.filter((r) => r.curve === curve);
    const sum = (k: 'steps' | 'wallS' | 'cpuS' | 'checks') => rs.reduce((a, r) => a + r[k], 0);
    return { steps: sum('steps'), wallS: sum('wallS'), cpuS: sum('cpuS'), checks: sum('checks') };
  };
  const off = total(false);
  const on = total(true);
  const checkMs = points.slice(1).map((p) => p.checkMs);
  const meanCheckMs = checkMs.length ? checkMs.reduce((a, b) => a + b, 0) / checkMs.length : NaN;
  const heldByCurve = tf.memory().numTensors - tensors0;
  quality.dispose();
  const leaked = tf.memory().numTensors - tensors0;
  trainer.dispose();
  model.dispose();

  console.log(`\nLive quality curve, Node ${process.version}, ${tf.getBackend()}; ${setup.kind} ${setup.preset}, batch ${PAGE_BATCH}; checks of ${args.samples} samples, DDIM-${args.steps}, share ${args.share}`);
  console.log(`${args.rounds} pairs of rounds, alternating: curve on = one duty cycle (a check, then training until the next is due), curve off = as long\n`);
  console.log('| curve | steps | wall s | steps/s (wall) | CPU s | steps per CPU s | checks |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, t] of [['off', off], ['on', on]] as const) {
    console.log(`| ${name} | ${t.steps} | ${t.wallS.toFixed(1)} | ${(t.steps / t.wallS).toFixed(2)} | ${t.cpuS.toFixed(1)} | ${(t.steps / t.cpuS).toFixed(2)} | ${t.checks} |`);
  }
  const wallRatio = on.steps / on.wallS / (off.steps / off.wallS);
  const cpuRatio = on.steps / on.cpuS / (off.steps / off.cpuS);
  console.log(`\ncurve on / off: ${(wallRatio * 100).toFixed(1)} % of the steps/s on wall time (${((1 - wallRatio) * 100).toFixed(1)} % lost), ${(cpuRatio * 100).toFixed(1)} % per CPU second`);
  console.log(`a check: ${meanCheckMs.toFixed(0)} ms mean (${checkMs.length} timed checks); the first (classifier, reference, floor): ${first.wallS.toFixed(1)} s wall, ${first.cpuS.toFixed(1)} s CPU; tensors held by the curve after the first check ${classifierTensors} (the classifier), after all checks ${heldByCurve}, after disposing it ${leaked}`);
  const last = points[points.length - 1];
  console.log(`last point: step ${last.step}, confidence ${last.confidence.toFixed(3)}, label entropy ${last.labelEntropy.toFixed(3)}, FD ${last.fd.toFixed(1)} / floor ${last.floorFd.toFixed(1)}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ args, rounds, off, on, wallRatio, cpuRatio, first, meanCheckMs, points }, null, 2));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
