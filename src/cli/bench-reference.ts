/**
 * `npm run bench:reference`: the reference U-Net (README, "Training speed: the reference U-Net
 * against PyTorch on the same CPU"; a class-conditional DDPM U-Net for 28x28: base 32 channels, levels 28/14/7 with 32/64/64 channels, 2 residual blocks a
 * level, GroupNorm(8) + SiLU, self-attention at 7x7), timed on the wasm backend in Node at batch 64:
 *   - train step: one step of the engine's Trainer (ε-prediction MSE, Adam) on a DiffusionModel,
 *     as the app trains (EMA off, the app's default);
 *   - forward: one denoiser pass, no gradient.
 * Median of --reps after a warm-up; images/s, and GFLOP/s from unetStats (a train step counted as
 * 3 forward passes) against the machine's float32 peak (numpy sgemm 2048³ with /usr/bin/python3).
 * With --torch it also runs the same architecture in PyTorch (tests/perf/reference_unet.py, a child
 * process run after the tfjs timings, 2 threads and 1 thread) and prints the ratios tfjs / PyTorch.
 *
 *   npm run bench:reference -- [--batch 64] [--reps 3] [--json FILE] [--torch] [--train-batch N] [--threads 1,2] [--plain]
 *
 * --plain also times the train step with tfjs's own op gradients (the models' plain formulation,
 * setFastOps(false)): the "before" of src/kernels/fast-ops.ts (conv kernels stay ours either way:
 * wasm has no filter gradient).
 *
 * --threads times tfjs with each number of wasm threads (a child process each where this process
 * runs another count; default: this process's own, 1 unless TFJS_WASM_THREADS says otherwise).
 *
 * A train step's tensors can pass wasm32's 4 GiB at batch 64 (which aborts the wasm backend): the
 * bench measures the bytes per image first and, unless --train-batch says otherwise, times the train
 * step on both sides at the largest halving of --batch that fits.
 *
 * Numbers are a snapshot of the working tree (the header gives the commit and whether it differs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { UNET_CONFIGS, unetLayout, unetStats, type UNetConfig } from '../models/setup/unet-config';
import { ROOT, SGEMM_N, measurePeak, numpySgemm, runTorch, torchParamNames, wasmThreads, type Timing, type TorchResult } from './bench-peers';
import { parseArgs, UsageError } from './args';
import { fittingBatch, timeTfjs, trainBytesPerImage } from './bench-reference-tfjs';

/**
 * The reference U-Net as a configuration of ours (not a UI preset). unetStats gives 1,624,577
 * parameters and 0.563 GFLOP per image forward: our up path has numResBlocks + 1 = 3 blocks a level,
 * each on concat(h, skip) with every skip of the way down (in.conv and the downsample convs
 * included), as in Ho et al.; a 2-block up path taking only the residual blocks' skips would have
 * ~1.34 M. Both sides of this bench run ours.
 */
export const REFERENCE_UNET_CONFIG: UNetConfig = {
  ...UNET_CONFIGS.base,
  numResBlocks: 2,
  attention: true,
  attentionHeads: 1,
  numClasses: 10,
  groups: 8,
  timeEmbedDim: 32,
  dropout: 0,
};

function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const models = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'src/models', 'src/engine'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return `commit ${head}${dirty ? ', working tree differs from it' : ', clean working tree'}` +
      (models ? ` (src/models or src/engine changed: ${models.split('\n').map((l) => l.slice(3)).join(', ')})` : '');
  } catch {
    return 'commit unknown (git not available)';
  }
}

/**
 * The tfjs timings with `threads` wasm threads: this process's own when it runs with that many,
 * else a child process of this script (TFJS_WASM_THREADS=threads, --only-tfjs), since a process's
 * wasm backend keeps the thread count it started with.
 */
async function timeTfjsThreads(threads: number, config: UNetConfig, batch: number, trainBatch: number, reps: number, plain: boolean): Promise<Timing[]> {
  if (threads === wasmThreads()) return timeTfjs(config, batch, trainBatch, reps, plain);
  const file = path.join(os.tmpdir(), `bench-reference-${process.pid}-${threads}.json`);
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), '--only-tfjs', '--batch', String(batch), '--train-batch', String(trainBatch), '--reps', String(reps), '--json', file, ...(plain ? ['--plain'] : [])];
  process.stderr.write(`tfjs wasm with ${threads} threads: a child process\n`);
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TFJS_WASM_THREADS: String(threads) } });
  if (r.status !== 0 || !existsSync(file)) throw new Error(`the tfjs run with ${threads} wasm threads failed (exit ${r.status})`);
  const timings = (JSON.parse(readFileSync(file, 'utf8')) as { timings: Timing[] }).timings;
  unlinkSync(file);
  if (timings[0]?.threads !== threads) process.stderr.write(`note: asked for ${threads} wasm threads, the child ran ${timings[0]?.threads}\n`);
  return timings;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), { batch: 64, 'train-batch': 0, reps: 3, json: '', torch: false, threads: '', 'only-tfjs': false, plain: false });
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const { batch, reps } = args;
  const config = REFERENCE_UNET_CONFIG;
  const stats = unetStats(config);
  const layout = unetLayout(config);
  const git = gitState();

  // The PyTorch peer's weights must be ours, name for name and size for size.
  let torchParams: { paramCount: number; mismatches: string[] } | null = null;
  if (args.torch) {
    const theirs = torchParamNames();
    const mine = new Map(layout.weights.map((w) => [w.name, w.shape.reduce((a, b) => a * b, 1)]));
    const mismatches: string[] = [];
    for (const [name, n] of theirs.weights) if (mine.get(name) !== n) mismatches.push(`${name}: torch ${n}, tfjs ${mine.get(name) ?? 'none'}`);
    const names = new Set(theirs.weights.map(([name]) => name));
    for (const name of mine.keys()) if (!names.has(name)) mismatches.push(`${name}: missing in torch`);
    torchParams = { paramCount: theirs.paramCount, mismatches };
  }

  await initNodeBackend('wasm');
  if (args['only-tfjs']) {
    // A child of timeTfjsThreads: the tfjs timings only, at the batches the parent chose.
    const only = await timeTfjs(config, batch, args['train-batch'] || batch, reps, args.plain);
    writeFileSync(args.json, JSON.stringify({ timings: only }));
    return;
  }
  const threadCounts = args.threads === ''
    ? [wasmThreads()].filter((t): t is number => typeof t === 'number')
    : args.threads.split(',').map(Number);
  if (threadCounts.length === 0 || threadCounts.some((t) => !Number.isInteger(t) || t < 1 || t > 16)) {
    console.error(`--threads must list thread counts from 1 to 16 (e.g. 1,2), got '${args.threads}'`);
    process.exit(2);
  }
  // The train step's batch: --train-batch, else --batch if its tensors fit in wasm's 4 GiB, else
  // the largest halving of it that does (both frameworks then train at that batch).
  const perImage = await trainBytesPerImage(config);
  let trainBatch = args['train-batch'] || batch;
  if (!args['train-batch']) trainBatch = fittingBatch(batch, perImage);
  const memoryNote = `a train step needs ~${(perImage / 2 ** 20).toFixed(0)} MiB of tensors per image on wasm ` +
    `(~${((perImage * batch) / 2 ** 30).toFixed(1)} GiB at batch ${batch}; wasm32 has 4 GiB)` +
    (trainBatch !== batch ? `: train steps timed at batch ${trainBatch} on both sides, forward at ${batch}` : '');
  const timings: Timing[] = [];
  for (const n of threadCounts) timings.push(...(await timeTfjsThreads(n, config, batch, trainBatch, reps, args.plain)));
  let torch: TorchResult | null = null;
  if (args.torch) {
    torch = runTorch(batch, trainBatch, reps);
    for (const run of torch.runs) {
      const fw = `PyTorch ${torch.torch} cpu`;
      timings.push({ framework: fw, threads: run.threads, case: 'train step', batch: run.trainBatch, seconds: run.trainStepS, all: run.trainStepAllS });
      timings.push({ framework: fw, threads: run.threads, case: 'forward', batch, seconds: run.forwardS, all: run.forwardAllS });
    }
  }
  const peak = measurePeak();
  for (const n of threadCounts) {
    const blas = numpySgemm(n);
    if (blas != null) timings.push(blas);
  }

  const flops = (c: Timing) => (c.case === 'sgemm 1024³' ? 2 * SGEMM_N ** 3 : (c.case === 'train step' ? 3 : 1) * stats.flopsPerImage * c.batch);
  const rows = timings.map((c) => {
    const gflops = flops(c) / c.seconds / 1e9;
    return `| ${c.framework} | ${c.threads} | ${c.case} | ${c.batch} | ${c.seconds.toFixed(3)} | ${(c.batch / c.seconds).toFixed(1)} | ${gflops.toFixed(1)} | ${((100 * gflops) / peak.gflops).toFixed(1)} % |`;
  });
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\nReference U-Net bench, ${new Date().toISOString()}, ${git}`);
  console.log(`Node ${process.version}, tfjs ${tf.version.tfjs} (${tf.getBackend()}), ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${load}`);
  console.log(`Model: REFERENCE_UNET_CONFIG: ${stats.paramCount.toLocaleString('en-US')} parameters (tfjs)` +
    (torchParams ? `, ${torchParams.paramCount.toLocaleString('en-US')} (PyTorch; ${torchParams.mismatches.length === 0 ? 'every weight matches by name and size' : `${torchParams.mismatches.length} MISMATCHES: ${torchParams.mismatches.slice(0, 5).join('; ')}`})` : '') +
    `; ${(stats.flopsPerImage / 1e9).toFixed(3)} GFLOP per image forward (unetStats; train step counted as 3x)`);
  console.log(`float32 peak: ${peak.gflops.toFixed(0)} GFLOP/s (${peak.source})` +
    (torch ? `; PyTorch BLAS ${torch.blas ?? '?'}, OMP_WAIT_POLICY ${torch.ompWaitPolicy}` : ''));
  console.log(`Memory: ${memoryNote}.`);
  console.log(`Median of ${reps} after 1 warm-up; time in seconds per batch (sgemm 1024³: best of 5, seconds per product).\n`);
  console.log('| framework | threads | case | batch | s | images/s | GFLOP/s | of peak |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
  const ratios: Record<string, number> = {};
  // The kernel ceiling: tfjs's GEMM against OpenBLAS's at the same thread count.
  const gemmLines: string[] = [];
  for (const ours of timings.filter((x) => x.case === 'sgemm 1024³' && x.framework.startsWith('tfjs'))) {
    const theirs = timings.find((x) => x.case === 'sgemm 1024³' && x.framework.startsWith('numpy') && x.threads === ours.threads);
    if (theirs == null) continue;
    const ratio = ours.seconds / theirs.seconds;
    ratios[`sgemm 1024³, tfjs / OpenBLAS, ${ours.threads} thread(s)`] = ratio;
    gemmLines.push(`tfjs / OpenBLAS sgemm 1024³, ${ours.threads} thread${ours.threads === 1 ? '' : 's'} each: ${ratio.toFixed(1)}x the time (the kernels' own ceiling)`);
  }
  if (gemmLines.length > 0) console.log(`\n${gemmLines.join('\n')}`);
  for (const before of timings.filter((x) => x.plain)) {
    const after = timings.find((x) => x.case === 'train step' && x.framework.startsWith('tfjs') && !x.plain && x.threads === before.threads)!;
    const ratio = before.seconds / before.batch / (after.seconds / after.batch);
    ratios[`train step, fast ops vs tfjs's own op gradients, ${before.threads} thread(s)`] = ratio;
    console.log(`tfjs ${before.threads} thread${before.threads === 1 ? '' : 's'}: the fast ops' train step ${ratio.toFixed(2)}x as fast per image as with tfjs's own op gradients (batch ${after.batch} vs ${before.batch})`);
  }
  if (torch) {
    console.log('');
    for (const c of ['train step', 'forward'] as const) {
      for (const ours of timings.filter((x) => x.case === c && x.framework.startsWith('tfjs') && !x.plain)) {
        for (const run of torch.runs) {
          const theirs = timings.find((x) => x.case === c && !x.framework.startsWith('tfjs') && x.threads === run.threads)!;
          // per image, in case the batches differ
          const ratio = ours.seconds / ours.batch / (theirs.seconds / theirs.batch);
          const plural = (n: number | string) => `${n} thread${n === 1 ? '' : 's'}`;
          ratios[`${c}, tfjs ${plural(ours.threads)} / PyTorch ${plural(run.threads)}`] = ratio;
          console.log(`tfjs ${plural(ours.threads)} / PyTorch ${plural(run.threads)}, ${c} (batch ${ours.batch}): ${ratio.toFixed(1)}x the time per image`);
        }
      }
    }
  }
  if (args.json) {
    writeFileSync(args.json, JSON.stringify({
      date: new Date().toISOString(), git, node: process.version, tfjs: tf.version.tfjs, config,
      paramCount: stats.paramCount, flopsPerImage: stats.flopsPerImage, trainBatch, trainBytesPerImage: perImage, torchParams, peak, torch, timings, ratios,
    }, null, 2));
  }
}

// Run only as a script, so that other code can import REFERENCE_UNET_CONFIG.
if (process.argv[1] != null && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
