/**
 * wasm backend, 1 thread against N threads (Node): a conv2d forward x [16,28,28,32] * w [3,3,32,64]
 * ('same', stride 1) and its filter and input gradients (our kernels, src/backends/wasm/conv-gradients.ts),
 * plus a small train-step-like mix. The wasm backend is fixed per process, so each measurement runs
 * in a child process; thread counts alternate (1, N, 1, N, ...) and medians are reported, since the
 * machine is shared and noisy.
 *
 *   npx tsx src/cli/bench-threads.ts [--threads 2] [--rounds 4] [--reps 15]
 *
 * Also reports CPU time / wall time while the kernels run (about 1 on one thread; up to N if the
 * pool really works in parallel).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { medianTensorMs } from './timing';
import { initNodeBackend, nodeWasmThreadsInfo } from '../backends/node';
import { parseArgs } from './args';

const SHAPE_X: [number, number, number, number] = [16, 28, 28, 32];
const SHAPE_W: [number, number, number, number] = [3, 3, 32, 64];
const SHAPE_DY: [number, number, number, number] = [16, 28, 28, 64];

interface ChildResult {
  threads: number;
  actual: number;
  fallbackReason: string | null;
  ms: Record<string, number>;
  cpuPerWall: number;
}


async function child(threads: number, reps: number): Promise<ChildResult> {
  await initNodeBackend('wasm', { threads });
  const info = nodeWasmThreadsInfo();
  const x = tf.randomUniform(SHAPE_X, -0.5, 0.5, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomUniform(SHAPE_W, -0.5, 0.5, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomUniform(SHAPE_DY, -0.5, 0.5, 'float32', 3);
  const ops: Record<string, () => tf.Tensor> = {
    forward: () => tf.conv2d(x, w, 1, 'same'),
    filterGrad: () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: SHAPE_W }) as tf.Tensor,
    inputGrad: () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: SHAPE_X }) as tf.Tensor,
    // Elementwise work around the convs (not threaded by XNNPACK in tfjs): a rough SiLU + scale.
    elementwise: () => tf.tidy(() => tf.mul(tf.mul(dy, tf.sigmoid(dy)), 0.5)),
  };
  const ms: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [name, fn] of Object.entries(ops)) ms[name] = await medianTensorMs(fn, reps, 2);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  tf.dispose([x, w, dy]);
  return {
    threads,
    actual: info?.actual ?? -1,
    fallbackReason: info?.fallbackReason ?? null,
    ms,
    cpuPerWall: (cpu.user + cpu.system) / 1000 / wall,
  };
}

function med(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const childIdx = process.argv.indexOf('--child');
  if (childIdx >= 0) {
    const threads = Number(process.argv[childIdx + 1]);
    const reps = Number(process.argv[childIdx + 2]);
    console.log(`RESULT ${JSON.stringify(await child(threads, reps))}`);
    return;
  }
  const opts = parseArgs(process.argv.slice(2), { threads: 2, rounds: 4, reps: 15 });
  const self = fileURLToPath(import.meta.url);
  const results: ChildResult[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    for (const threads of [1, opts.threads]) {
      const run = spawnSync(process.execPath, [...process.execArgv, self, '--child', String(threads), String(opts.reps)], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line == null) {
        console.error(`child with ${threads} thread(s) failed (status ${run.status}):\n${run.stdout}\n${run.stderr}`);
        process.exitCode = 1;
        return;
      }
      const res = JSON.parse(line.slice(7)) as ChildResult;
      results.push(res);
      const ops = Object.entries(res.ms).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
      console.log(`round ${r + 1}, asked ${threads} -> pool ${res.actual} thread(s): ${ops} ms; cpu/wall ${res.cpuPerWall.toFixed(2)}` +
        (res.fallbackReason ? ` (fallback: ${res.fallbackReason})` : ''));
    }
  }
  console.log(`\nmedians over ${opts.rounds} runs each, x ${JSON.stringify(SHAPE_X)} * w ${JSON.stringify(SHAPE_W)}:`);
  for (const name of Object.keys(results[0].ms)) {
    const one = med(results.filter((r) => r.threads === 1).map((r) => r.ms[name]));
    const many = med(results.filter((r) => r.threads === opts.threads).map((r) => r.ms[name]));
    console.log(`  ${name.padEnd(12)} 1 thread ${one.toFixed(1)} ms, ${opts.threads} threads ${many.toFixed(1)} ms: ${(one / many).toFixed(2)}x`);
  }
  for (const t of [1, opts.threads]) {
    console.log(`  cpu/wall with ${t} thread(s): ${med(results.filter((r) => r.threads === t).map((r) => r.cpuPerWall)).toFixed(2)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
