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
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** File name -> URL served by Vite (dev server and build alike). */
export const WASM_BINARY_URLS = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
} as const;

let configured = false;

/** Points the wasm backend at our own copies of its binaries. Idempotent. */
export function configureBrowserWasmPaths(): void {
  if (configured) return;
  setWasmPaths({ ...WASM_BINARY_URLS });
  // The threaded build starts its pthread workers from an inline script that fails inside a
  // bundled module worker ("e is not defined", measured in Chromium 156 with the page
  // cross-origin isolated), so the worker uses the single-threaded SIMD build.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  configured = true;
}
