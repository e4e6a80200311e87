/**
 * Backend selection for the Web Worker and for Node: try the requested backend, then the
 * preferred order webgpu -> webgl -> wasm -> cpu, and say in words what could not start.
 *
 * Why this care: `tf.setBackend('webgpu')` resolves `false` (it does not throw) when no adapter
 * exists, and throws when a backend was never registered (webgpu and webgl register themselves only
 * where the browser offers them), so both outcomes are checked. Whenever wasm is tried, the
 * missing wasm filter gradient is registered first (see ./wasm-gradients), since training needs it.
 *
 * In the browser, call `configureBrowserWasmPaths()` from ./wasm-paths before `initBackend`, so the
 * wasm binaries are fetched from our own origin; that file is kept apart because its `?url` imports
 * only make sense under Vite.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { AdapterInfo, BackendName } from './names';
import { registerWasmKernels } from './wasm/register';

/** Preferred order, fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendInit {
  backend: BackendName;
  /** Set when the requested or preferred backend could not start: what failed and what is used. */
  fallbackNote: string | null;
  /** The WebGPU adapter's vendor and architecture, when running on webgpu. */
  adapter: AdapterInfo | null;
  /** Threads in the wasm backend's pool when running on wasm (1 = the single-threaded build), else null. */
  wasmThreads?: number | null;
}

/** Threads in the running wasm backend's pool (1 if it will not say). */
function wasmThreadsCount(): number {
  try {
    return getThreadsCount();
  } catch {
    return 1;
  }
}

/** Human-readable names for notes shown in the UI. */
const LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly', cpu: 'CPU' };

/** Minimal view of `navigator.gpu`, so this compiles without WebGPU type packages. */
interface GpuLike {
  requestAdapter(): Promise<{
    info?: { vendor?: string; architecture?: string };
    requestAdapterInfo?: () => Promise<{ vendor?: string; architecture?: string }>;
  } | null>;
}

function navigatorGpu(): GpuLike | null {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu ?? null;
}

/** Tries one backend; returns null on success or the reason it could not start. */
async function trySetBackend(name: BackendName): Promise<string | null> {
  if (name === 'wasm') registerWasmKernels();
  try {
    const ok = await tf.setBackend(name);
    if (ok && tf.getBackend() === name) {
      await tf.ready();
      return null;
    }
    if (name === 'webgpu') return 'no WebGPU adapter was found';
    return 'it failed to initialise';
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/not found in registry/i.test(msg)) {
      if (name === 'webgpu' && navigatorGpu() == null) return 'this environment has no navigator.gpu';
      return 'it is not registered in this environment';
    }
    return `it failed to start (${msg})`;
  }
}

/**
 * Reads the adapter's vendor and architecture: first from the running webgpu backend (the adapter
 * it actually uses), then from a fresh `navigator.gpu.requestAdapter()`. Never throws.
 */
async function readAdapterInfo(): Promise<AdapterInfo | null> {
  const fromBackend = (tf.backend() as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  if (fromBackend?.vendor != null || fromBackend?.architecture != null) {
    return { vendor: fromBackend.vendor ?? '', architecture: fromBackend.architecture ?? '' };
  }
  const gpu = navigatorGpu();
  if (gpu == null) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter == null) return null;
    const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : undefined);
    if (info == null) return null;
    return { vendor: info.vendor ?? '', architecture: info.architecture ?? '' };
  } catch {
    return null;
  }
}

/**
 * Starts the first backend that works: `requested` (if given), then {@link BACKEND_ORDER}.
 * The note is null only when the first choice started. Throws if none starts (cpu always should).
 */
export async function initBackend(requested: BackendName | null): Promise<BackendInit> {
  const order = requested ? [requested, ...BACKEND_ORDER.filter((b) => b !== requested)] : [...BACKEND_ORDER];
  const failures: string[] = [];
  for (const name of order) {
    const reason = await trySetBackend(name);
    if (reason != null) {
      failures.push(`${LABELS[name]} (${name}) is unavailable: ${reason}`);
      continue;
    }
    const fallbackNote =
      failures.length === 0
        ? null
        : `${failures.join('; ')}. Using ${LABELS[name]} (${name}) instead` +
          (requested != null && requested !== name ? ` of the requested ${requested}.` : '.');
    const adapter = name === 'webgpu' ? await readAdapterInfo() : null;
    return { backend: name, fallbackNote, adapter, wasmThreads: name === 'wasm' ? wasmThreadsCount() : null };
  }
  throw new Error(`No TensorFlow.js backend could start: ${failures.join('; ')}.`);
}
