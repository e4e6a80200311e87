/**
 * Node only (unit tests, CLI scripts): start the wasm or cpu backend without any browser probing.
 *
 * Why: in Node the wasm backend loads its binaries from node_modules by itself, webgpu/webgl are
 * never registered, and `@tensorflow/tfjs-node` cannot be installed here; wasm is the practical
 * backend for training once its missing filter gradient is registered (see ./wasm-gradients).
 *
 * Threads: tfjs never starts its multithreaded wasm build in Node by itself; ./wasm-threads-node
 * makes it start (see there for why each step is needed). `threads` > 1 asks for it; if that start
 * fails or hangs, the single-threaded SIMD build is started instead and the reason is kept in
 * {@link nodeWasmThreadsInfo}. The wasm backend is created once per process, so only the first
 * wasm initialisation decides the thread count.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm/register';
import { prepareNodeWasmThreads, resetNodeWasmToSingleThread } from './wasm-threads-node';

export interface NodeBackendOptions {
  /**
   * wasm threads to ask for; default: env `TFJS_WASM_THREADS`, else 1 (single-threaded SIMD build).
   * Only the first wasm initialisation in a process uses it.
   */
  threads?: number;
  /** How long the threaded start may take before falling back (ms, default 30 000). */
  threadedStartTimeoutMs?: number;
}

export interface NodeWasmThreadsInfo {
  requested: number;
  /** Threads in the wasm backend's pool (tfjs `getThreadsCount()`). */
  actual: number;
  /** Why the threaded build is not used although more than one thread was requested, else null. */
  fallbackReason: string | null;
}

let threadsInfo: NodeWasmThreadsInfo | null = null;

/** What the wasm backend of this process started with; null before it has started. */
export function nodeWasmThreadsInfo(): NodeWasmThreadsInfo | null {
  return threadsInfo;
}

let defaultWhenUnset = 1;

/**
 * The thread count used when TFJS_WASM_THREADS is not set (1 unless changed): the command-line
 * tools that run alone (sample, eval) set the machine's cores, since 2 threads sampled 1.37x
 * faster than 1 on this 2-core machine; tests and the benchmarks keep 1.
 */
export function setDefaultWasmThreads(threads: number): void {
  defaultWhenUnset = Math.max(1, Math.floor(threads));
}

/** The machine's cores, at most 4 (the count the command-line tools ask for). */
export function machineWasmThreads(): number {
  return Math.min(4, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
}

function defaultThreads(): number {
  const fromEnv = Number(process.env.TFJS_WASM_THREADS);
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : defaultWhenUnset;
}

async function setBackendWithin(name: string, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const result = await Promise.race([tf.setBackend(name), timeout]);
    if (result === 'timeout') throw new Error(`it did not start within ${ms} ms`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts wasm, threaded if asked and possible, single-threaded otherwise. */
async function startWasm(options: NodeBackendOptions): Promise<boolean> {
  if (tf.findBackend('wasm') != null) return tf.setBackend('wasm'); // already created: its threads are fixed
  const requested = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  let fallbackReason: string | null = null;
  if (requested > 1) {
    const factory = tf.findBackendFactory('wasm');
    const restore = prepareNodeWasmThreads(requested);
    try {
      if (await setBackendWithin('wasm', options.threadedStartTimeoutMs ?? 30_000)) {
        threadsInfo = { requested, actual: getThreadsCount(), fallbackReason: null };
        return true;
      }
      fallbackReason = 'the threaded wasm build failed to initialise';
    } catch (err) {
      fallbackReason = `the threaded wasm build failed to start (${err instanceof Error ? err.message : String(err)})`;
    } finally {
      restore();
    }
    // A hung start leaves a pending init behind: start over from a fresh registration.
    if (tf.findBackend('wasm') == null && factory != null) {
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', factory, 2);
    }
    resetNodeWasmToSingleThread();
  } else {
    prepareNodeWasmThreads(1)();
  }
  const ok = await tf.setBackend('wasm');
  if (ok) threadsInfo = { requested, actual: getThreadsCount(), fallbackReason };
  if (fallbackReason != null) console.warn(`wasm: ${fallbackReason}; using 1 thread.`);
  return ok;
}

/**
 * Sets `name` as the active backend and waits until it is ready; registers the wasm filter
 * gradient (harmless for cpu, so it is always done). Throws if the backend cannot start.
 */
export async function initNodeBackend(
  name: 'wasm' | 'cpu' = 'wasm',
  options: NodeBackendOptions = {},
): Promise<'wasm' | 'cpu'> {
  registerWasmKernels();
  const ok = name === 'wasm' ? await startWasm(options) : await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`The '${name}' TensorFlow.js backend could not start in Node.`);
  }
  await tf.ready();
  return name;
}
