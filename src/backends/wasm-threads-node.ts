/**
 * Node only: lets tfjs-backend-wasm 4.22 start its multithreaded SIMD build (pthreads on
 * worker_threads). Call {@link prepareNodeWasmThreads} before the wasm backend first initialises.
 *
 * Why each step (tfjs 4.22 in Node; the thread speed-up is reported by src/cli/bench-threads.ts):
 * 1. tfjs hard-codes `WASM_HAS_MULTITHREAD_SUPPORT` to false in Node (flags_wasm.js leaves Node
 *    support for later), so the flag must be forced on.
 * 2. With the flag on, init fails: backend_wasm.js `locateFile` hands emscripten a `blob:` URL for
 *    the pthread worker script, and Node's `new Worker('blob:nodedata:...')` throws ERR_WORKER_PATH
 *    (tf-backend-wasm.node.js, `PThread.allocateUnusedWorker`). The threaded factory assigns
 *    `global.Worker = worker_threads.Worker` and then calls `new Worker(...)` through the global,
 *    so a global `Worker` accessor that keeps our subclass lets us start the same script with
 *    `{ eval: true }` (its text is `wasmWorkerContents` from wasm-out/...worker.js).
 * 3. Each pthread is then sent `urlOrBlob: Module.mainScriptUrlOrBlob`, a Blob of
 *    `"var WasmBackendModuleThreadedSimd = " + factory.toString()`: it cannot be read synchronously
 *    by the worker's `importScripts` (fs.readFileSync of a blob URL), and the function's text refers
 *    to `_scriptDir` from its enclosing closure, so it would not run on its own anyway. Our
 *    subclass replaces it with the path of the standalone emscripten script
 *    wasm-out/tfjs-backend-wasm-threaded-simd.js, which defines that global by itself.
 * 4. Running pthreads are `ref()`ed by emscripten and never end, so the process could not exit:
 *    our subclass ignores `ref()`.
 * 5. backend.cc caps the thread pool at `emscripten_num_logical_cores() / 2` (it assumes
 *    hyper-threading), i.e. `os.cpus().length / 2` in Node: 1 on a 2-core machine, whatever
 *    `setThreadsCount` asks. `os.cpus()` is padded while the module instantiates, then restored.
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

const require = createRequire(import.meta.url);

function wasmOutFile(name: string): string {
  return require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${name}`);
}

/** Pthread worker: tfjs's own script text, started as an eval worker instead of a blob URL. */
function makePthreadWorkerClass(): typeof NodeWorker {
  const { wasmWorkerContents } = require(wasmOutFile('tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // backend_wasm.js escapes newlines the same way before making its Blob (they sit inside string literals).
  const workerCode = wasmWorkerContents.replace(/\n/g, '\\n');
  const factoryScript = wasmOutFile('tfjs-backend-wasm-threaded-simd.js');

  return class TfjsPthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      if (String(url).startsWith('blob:')) super(workerCode, { ...options, eval: true });
      else super(url, options);
    }

    override postMessage(message: unknown, transferList?: Parameters<NodeWorker['postMessage']>[1]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m != null && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') {
        message = { ...m, urlOrBlob: factoryScript };
      }
      super.postMessage(message, transferList);
    }

    /**
     * Emscripten `ref()`s a worker while its pthread runs, and pthreadpool's threads never return,
     * so a process that used the threaded build would never exit (measured: the CLI hung after
     * printing its results). The threads only work while the main thread waits on them
     * synchronously inside a kernel, so they need not keep the event loop alive.
     */
    override ref(): void {}
  };
}

let workerInstalled = false;

/** Installs a global `Worker` that emscripten's `global.Worker = ...` cannot overwrite. */
function installWorkerGlobal(): void {
  if (workerInstalled) return;
  const cls = makePthreadWorkerClass();
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    enumerable: false,
    get: () => cls,
    set: () => {
      /* the threaded factory assigns worker_threads.Worker here; keep ours */
    },
  });
  workerInstalled = true;
}

/**
 * Makes the next wasm backend initialisation use the threaded SIMD build with `threads` threads
 * (threads <= 1: the single-threaded SIMD build, as before). Returns a function to call once the
 * backend is ready (or failed) that restores `os.cpus`.
 */
export function prepareNodeWasmThreads(threads: number): () => void {
  if (threads <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return () => {};
  }
  installWorkerGlobal();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  const realCpus = os.cpus;
  os.cpus = () => {
    const cpus = realCpus.call(os);
    const n = Math.max(cpus.length, 2 * threads);
    return Array.from({ length: n }, (_, i) => cpus[i % cpus.length]);
  };
  return () => {
    os.cpus = realCpus;
  };
}

/** Back to the single-threaded SIMD build, for a retry after a failed threaded start. */
export function resetNodeWasmToSingleThread(): void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
}
