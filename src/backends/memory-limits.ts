/**
 * What the device can hold, for the memory guard (src/models/setup/memory.ts). No API says how much
 * memory a GPU has, so the budget is conservative:
 *
 * - webgpu: the device's limits bound one buffer (maxStorageBufferBindingSize and maxBufferSize,
 *   e.g. 128 MiB..4 GiB); in all, 4 GiB, or half the machine's memory when the browser says it has
 *   less than 8 GiB (navigator.deviceMemory, which is capped at 8).
 * - wasm: every tensor lives in the WebAssembly heap, at most 4 GiB (tfjs's build declares 65,536
 *   pages); half is kept free, since the heap grows by copying (single-threaded) and fragments.
 * - webgl, cpu: 2 GiB (textures and JavaScript arrays; no limit can be read either).
 */
import * as tf from '@tensorflow/tfjs';
import type { MemoryBudget } from '../models/setup/memory';

const GiB = 2 ** 30;

interface GpuLimits {
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
}

/** navigator.deviceMemory in GiB (0.25..8), or null where the browser does not say. */
function deviceMemoryGiB(): number | null {
  const nav = (globalThis as { navigator?: { deviceMemory?: unknown } }).navigator;
  const m = nav?.deviceMemory;
  return typeof m === 'number' && Number.isFinite(m) && m > 0 ? m : null;
}

/** The budget of the backend in use (`backend`, as tf.getBackend() names it). */
export function memoryBudgetOf(backend: string): MemoryBudget {
  if (backend === 'webgpu') {
    const limits = (tf.backend() as unknown as { device?: { limits?: GpuLimits } }).device?.limits;
    const perBuffer = Math.min(limits?.maxStorageBufferBindingSize ?? Infinity, limits?.maxBufferSize ?? Infinity);
    const ram = deviceMemoryGiB();
    const total = ram != null && ram < 8 ? Math.max(1, ram / 2) * GiB : 4 * GiB;
    const bufferWords = Number.isFinite(perBuffer) ? `one buffer at most ${Math.round(perBuffer / 2 ** 20)} MiB (the adapter's limit)` : 'no buffer limit reported';
    return {
      backend: 'WebGPU',
      totalBytes: total,
      maxTensorBytes: perBuffer,
      source: `a conservative budget for a GPU whose memory the browser does not report${ram != null && ram < 8 ? `, half of this machine's ${ram} GiB` : ''}; ${bufferWords}`,
    };
  }
  if (backend === 'wasm') {
    return { backend: 'WebAssembly', totalBytes: 2 * GiB, maxTensorBytes: Infinity, source: 'half the 4 GiB WebAssembly heap, the rest kept free for its growth' };
  }
  const name = backend === 'webgl' ? 'WebGL' : backend === 'cpu' ? 'the CPU backend' : backend;
  return { backend: name, totalBytes: 2 * GiB, maxTensorBytes: Infinity, source: 'a conservative budget: this backend reports no limit' };
}
