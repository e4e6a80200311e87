/**
 * Browser only (the app's bundled module Web Worker): lets tfjs-backend-wasm 4.22 run its
 * multithreaded SIMD build, with a fallback to the single-threaded SIMD build.
 *
 * Why the threaded build failed here before ("Uncaught ReferenceError: e is not defined" in a
 * pthread worker): backend_wasm.js `init()` sets emscripten's `mainScriptUrlOrBlob` to a Blob of
 * `"var WasmBackendModuleThreadedSimd = " + wasmFactoryThreadedSimd.toString()`, which every
 * pthread worker `importScripts`. That function's text uses `_scriptDir`, a variable of the closure
 * around it in wasm-out/tfjs-backend-wasm-threaded-simd.js; once bundled and minified it is `e`,
 * which does not exist in the pthread worker. The standalone emscripten script does define it, so
 * we serve that file (Vite `?url`) and rewrite the `load` message each pthread worker gets to point
 * at it. The pthread worker itself (tfjs's inline `wasmWorkerContents` Blob) is fine as it is.
 *
 * Also: backend.cc caps the pool at `navigator.hardwareConcurrency / 2` (it assumes two hardware
 * threads per core), so a 2-core machine always got 1 thread; the worker's `hardwareConcurrency`
 * is raised to 2 x the requested threads while the module instantiates.
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import threadedSimdScriptUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';

/** Why threads cannot be used in this context, or null if they can. */
export function browserWasmThreadsUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown; Worker?: unknown };
  if (g.crossOriginIsolated !== true) return 'the page is not cross-origin isolated (COOP/COEP headers)';
  if (typeof g.SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available';
  if (typeof g.Worker !== 'function') return 'this context cannot start Web Workers';
  return null;
}

let workerPatched = false;

/** Makes pthread workers load the standalone threaded factory script instead of tfjs's Blob. */
function patchWorkerGlobal(): void {
  if (workerPatched) return;
  const Base = globalThis.Worker;
  const scriptUrl = new URL(threadedSimdScriptUrl, globalThis.location.href).href;
  class TfjsPthreadWorker extends Base {
    override postMessage(message: unknown, transfer?: Transferable[] | StructuredSerializeOptions): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (m != null && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') {
        message = { ...m, urlOrBlob: scriptUrl };
      }
      super.postMessage(message, transfer as Transferable[]);
    }
  }
  globalThis.Worker = TfjsPthreadWorker;
  workerPatched = true;
}

let concurrencyOverride: number | null = null;

function raiseHardwareConcurrency(min: number): void {
  const nav = globalThis.navigator as Navigator & { hardwareConcurrency: number };
  const real = Object.getPrototypeOf(nav) as object;
  const desc = Object.getOwnPropertyDescriptor(real, 'hardwareConcurrency');
  const readReal = (): number => (desc?.get ? (desc.get.call(nav) as number) : 1);
  concurrencyOverride = min;
  Object.defineProperty(nav, 'hardwareConcurrency', {
    configurable: true,
    get: () => (concurrencyOverride == null ? readReal() : Math.max(readReal(), concurrencyOverride)),
  });
}

/** Undoes {@link raiseHardwareConcurrency} (the getter then reports the real value). */
function restoreHardwareConcurrency(): void {
  concurrencyOverride = null;
}

/** What the wasm backend in this worker asked for and what it got. */
export interface BrowserWasmThreads {
  requested: number;
  /** Null until the backend has started. */
  fallbackReason: string | null;
}

let state: BrowserWasmThreads = { requested: 1, fallbackReason: null };

export function browserWasmThreads(): BrowserWasmThreads {
  return state;
}

/**
 * Asks the wasm backend for `threads` threads (must run before it first initialises). The 'wasm'
 * backend factory is re-registered so that a threaded start that throws or hangs for
 * `timeoutMs` falls back to the single-threaded SIMD build; the reason is kept in
 * {@link browserWasmThreads} and logged. Returns false (and configures 1 thread) when threads are
 * unavailable here.
 */
export function enableBrowserWasmThreads(threads: number, timeoutMs = 20_000): boolean {
  const unavailable = threads > 1 ? browserWasmThreadsUnavailable() : 'one thread was requested';
  if (unavailable != null || tf.findBackend('wasm') != null) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    state = { requested: threads, fallbackReason: threads > 1 ? (unavailable ?? 'wasm had already started') : null };
    return false;
  }
  const factory = tf.findBackendFactory('wasm');
  if (factory == null) return false;
  patchWorkerGlobal();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  state = { requested: threads, fallbackReason: null };

  const singleThreaded = async (reason: string): Promise<tf.KernelBackend> => {
    console.warn(`wasm: the threaded build did not start (${reason}); using 1 thread.`);
    state = { requested: threads, fallbackReason: reason };
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    return factory();
  };

  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      raiseHardwareConcurrency(2 * threads);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        return await Promise.race([factory(), timeout]);
      } catch (err) {
        return await singleThreaded(err instanceof Error ? err.message : String((err as { message?: string })?.message ?? err));
      } finally {
        clearTimeout(timer);
        restoreHardwareConcurrency();
      }
    },
    2,
  );
  return true;
}
