/**
 * `npm run bench:recorder`: what the denoising player's recorder costs a sampling run of the
 * pretrained LDM, in Node on wasm, in one run. Three ways, alternating round by round (medians
 * reported, wall and CPU time, since the machine is shared):
 *   - decode every step: the recorder as it was, every step's x_t and x̂0 decoded to pixels;
 *   - decode shown: as the page runs now, only x_T, the steps the live view shows (at most 30 a
 *     second) and the final sample decoded; the player asks for the rest when it shows them;
 *   - no recorder: the sampling loop and one decode of the result (what `npm run sample` does).
 * Messages are made (quantized, packed) as for the page, then dropped.
 *
 *   npm run bench:recorder -- [--steps 20] [--n 16] [--guidance 1.3] [--rounds 3] [--fps 30] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { readPretrainedModel } from '../engine/model-sources';
import { dirReader } from '../io/pretrained-node';
import { runSampling } from '../engine/sampling-run';
import { RunControl } from '../engine/run-control';
import { generateImages } from '../sampling/generate';
import { makeSchedule } from '../diffusion';
import { DEFAULT_SAMPLER } from '../diffusion/config';
import { median } from '../eval/stats';
import type { SamplingConfig } from '../sampling/config';
import { parseArgs } from './args';

type Way = 'decode every step' | 'decode shown' | 'no recorder';
const WAYS: Way[] = ['decode every step', 'decode shown', 'no recorder'];

async function timed(fn: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { steps: 20, n: 16, guidance: 1.3, rounds: 3, fps: 30, json: '' });
  await initNodeBackend('wasm');
  const { model, info } = await readPretrainedModel(dirReader(join(process.cwd(), 'public', 'models')), 'latent', () => undefined);
  const schedule = makeSchedule(info.setup.schedule);
  const prediction = info.setup.prediction;
  const config: SamplingConfig = { ...DEFAULT_SAMPLER, kind: 'ddim', steps: args.steps, numImages: args.n, seed: 0, digit: null, guidance: args.guidance, useEma: true };
  let decodedPositions = 0;
  const run = (way: Way) => async () => {
    if (way === 'no recorder') {
      await generateImages(model, schedule, prediction, { ...config, batch: args.n });
      return;
    }
    decodedPositions = 0;
    await runSampling({
      model,
      schedule,
      prediction,
      config,
      control: new RunControl(),
      framesPerSecond: args.fps,
      decodeAll: way === 'decode every step',
      post: (m) => {
        if (m.type === 'sample/steps') decodedPositions += m.decoded ? m.decoded.reduce((a, b) => a + b, 0) : m.count;
      },
    });
  };
  await run('decode shown')(); // warm-up
  const times = new Map<Way, { wallMs: number; cpuMs: number }[]>(WAYS.map((w) => [w, []]));
  const decoded = new Map<Way, number>();
  const tensors = tf.memory().numTensors;
  for (let r = 0; r < args.rounds; r++) {
    for (const way of WAYS) {
      times.get(way)!.push(await timed(run(way)));
      if (way !== 'no recorder') decoded.set(way, decodedPositions);
      process.stderr.write(`round ${r + 1}/${args.rounds}: ${way} ${times.get(way)![r].wallMs.toFixed(0)} ms\n`);
    }
  }
  if (tf.memory().numTensors !== tensors) throw new Error('a run left tensors behind');
  model.dispose();
  const rows = WAYS.map((way) => ({
    way,
    wallMs: median(times.get(way)!.map((t) => t.wallMs)),
    cpuMs: median(times.get(way)!.map((t) => t.cpuMs)),
    decodedPositions: decoded.get(way) ?? null,
  }));
  const base = rows[0];
  console.log(`\nPretrained LDM, DDIM-${args.steps}, ${args.n} images, guidance ${args.guidance}, Node ${process.version} wasm; median of ${args.rounds} alternating rounds; live frames at most ${args.fps}/s\n`);
  console.log('| recorder | run ms (CPU ms) | positions decoded in the run | vs decode every step: wall (CPU) |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.way} | ${r.wallMs.toFixed(0)} (${r.cpuMs.toFixed(0)}) | ${r.decodedPositions ?? '–'}${r.decodedPositions != null ? ` of ${args.steps + 1}` : ''} | ${(base.wallMs / r.wallMs).toFixed(2)}× (${(base.cpuMs / r.cpuMs).toFixed(2)}×) faster |`);
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ args, rows }, null, 2));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
