/**
 * The reference bench's peers and helpers (./bench-reference.ts): the PyTorch peer
 * (tests/perf/reference_unet.py, run as a child process), the kernels' own ceiling (a 1024³
 * matrix product in tfjs and in numpy's OpenBLAS), the machine's float32 peak, and the timing record.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const PYTHON = '/usr/bin/python3';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TORCH_SCRIPT = path.join(ROOT, 'tests/perf/reference_unet.py');
/** A fixed float32 peak (GFLOP/s) reported, and marked as such, when numpy cannot be run to measure one. */
const FALLBACK_PEAK_GFLOPS = 160;

export interface Timing {
  framework: string;
  threads: number | string;
  case: 'train step' | 'forward' | 'sgemm 1024³';
  batch: number;
  seconds: number;
  all: number[];
  /** tfjs with its own op gradients (setFastOps(false), plain concat): the "before" of the fast ops. */
  plain?: boolean;
}

export interface TorchResult {
  torch: string;
  blas: string | null;
  ompWaitPolicy: string;
  paramCount: number;
  numWeights: number;
  runs: { threads: number; trainBatch: number; forwardS: number; trainStepS: number; forwardAllS: number[]; trainStepAllS: number[]; loadAvg1mBefore: number }[];
}

/** float32 peak: numpy sgemm 2048³, best of 5, or null with the reason. */
export function measurePeak(): { gflops: number; source: string } {
  const code = [
    'import time, numpy as np',
    'a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32); a @ b',
    'ts = []',
    'for _ in range(5):',
    '    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)',
    'print(2 * 2048 ** 3 / min(ts) / 1e9)',
  ].join('\n');
  if (!existsSync(PYTHON)) return { gflops: FALLBACK_PEAK_GFLOPS, source: `fixed fallback, not measured; ${PYTHON} missing` };
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  const v = Number(r.stdout?.trim());
  if (r.status !== 0 || !Number.isFinite(v)) {
    return { gflops: FALLBACK_PEAK_GFLOPS, source: `fixed fallback, not measured; numpy not usable: ${(r.stderr || '').trim().split('\n').pop()}` };
  }
  return { gflops: v, source: 'numpy sgemm 2048³, best of 5' };
}

export const SGEMM_N = 1024;

/** numpy's sgemm (OpenBLAS) on 1024³ with `threads` BLAS threads, best of 5 (the kernel ceiling beside tfjs's), or null. */
export function numpySgemm(threads: number): Timing | null {
  const code = [
    'import time, numpy as np',
    `n = ${SGEMM_N}; a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32); a @ b`,
    'ts = []',
    'for _ in range(5):',
    '    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)',
    'print(min(ts))',
  ].join('\n');
  if (!existsSync(PYTHON)) return null;
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 60_000, env });
  const v = Number(r.stdout?.trim());
  if (r.status !== 0 || !Number.isFinite(v)) return null;
  return { framework: 'numpy sgemm (OpenBLAS)', threads, case: 'sgemm 1024³', batch: 1, seconds: v, all: [v] };
}

/** tfjs's matMul 1024³ on the current backend, best of 5 after a warm-up (XNNPACK on wasm). */
export async function tfjsSgemm(): Promise<Timing> {
  const a = tf.randomNormal([SGEMM_N, SGEMM_N]);
  const b = tf.randomNormal([SGEMM_N, SGEMM_N]);
  const all: number[] = [];
  for (let r = 0; r <= 5; r++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    if (r > 0) all.push((performance.now() - t0) / 1000);
  }
  tf.dispose([a, b]);
  return { framework: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`, threads: wasmThreads(), case: 'sgemm 1024³', batch: 1, seconds: Math.min(...all), all };
}

/** Threads the wasm backend runs on (see TFJS_WASM_THREADS in src/backends/node.ts), or '?' when it will not say. */
export function wasmThreads(): number | string {
  try {
    return getThreadsCount();
  } catch {
    return '?';
  }
}

export function runTorch(batch: number, trainBatch: number, reps: number): TorchResult {
  const argv = [TORCH_SCRIPT, '--batch', String(batch), '--train-batch', String(trainBatch), '--reps', String(reps), '--threads', '2,1'];
  process.stderr.write(`pytorch: ${PYTHON} ${argv.map((a) => path.relative(ROOT, a) || a).join(' ')}\n`);
  const r = spawnSync(PYTHON, argv, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let parsed: (TorchResult & { error?: string }) | null = null;
  try {
    parsed = JSON.parse(last);
  } catch {
    /* reported below */
  }
  if (r.status !== 0 || parsed == null || parsed.error) {
    throw new Error(`the PyTorch peer failed (exit ${r.status}): ${parsed?.error ?? (last || r.error?.message || 'no output')}`);
  }
  return parsed;
}

export function torchParamNames(): { paramCount: number; weights: [string, number][] } {
  const out = execFileSync(PYTHON, [TORCH_SCRIPT, '--params'], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string);
}
