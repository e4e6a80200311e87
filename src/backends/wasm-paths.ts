/**
 * Browser only: tells the wasm backend to load its three binaries from our own origin.
 *
 * Why: by default tfjs-backend-wasm fetches its .wasm files relative to the script or from a CDN,
 * and the app must work with no network at run time. Vite's `?url` imports copy each binary into
 * the build (hashed) and give its served URL; `setWasmPaths` takes them as a file-name -> URL map.
 * Kept out of ./backends because Node (tests, CLI via tsx) cannot import `?url` modules.
 *
 * Call `configureBrowserWasmPaths()` once, before `initBackend()` first tries wasm.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { enableBrowserWasmThreads } from './wasm-threads-browser';

/** File name -> URL served by Vite (dev server and build alike). */
export const WASM_BINARY_URLS = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
} as const;

let configured = false;

/**
 * Default wasm threads: one per logical core but one, at most 4 (tfjs's pool holds 8 workers).
 * The core left over runs the page itself (its main thread draws every frame) and whatever else the
 * machine does: measured on a busy 2-core machine (README, "Benchmarks"), 2 threads
 * sampled 2.6-7.7× and trained 1.1-7× slower than 1, since XNNPACK's threads wait on each other.
 */
export function defaultBrowserWasmThreads(cores: number = (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1): number {
  return Math.max(1, Math.min(4, cores - 1));
}

/**
 * Points the wasm backend at our own copies of its binaries and asks for `threads` threads
 * (the threaded SIMD build; see ./wasm-threads-browser for what it needed in a bundled module
 * worker). Without cross-origin isolation, or if the threaded start fails or hangs, wasm runs on the
 * single-threaded SIMD build; `browserWasmThreads()` from there says which and why. Idempotent.
 */
export function configureBrowserWasmPaths(threads: number = defaultBrowserWasmThreads()): void {
  if (configured) return;
  setWasmPaths({ ...WASM_BINARY_URLS });
  enableBrowserWasmThreads(threads);
  configured = true;
}
