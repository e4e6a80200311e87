/**
 * Backend selection for the Web Worker and for Node. With a backend requested (`?backend=`), try
 * it, then the preferred order webgpu -> webgl -> wasm -> cpu, and say in words what could not
 * start. With none requested, start every backend that can (webgpu, webgl, wasm), time a small
 * denoiser-like step on each (./probe) and keep the fastest (./choose), saying why; cpu only when
 * none of them starts.
 *
 * Why the probe: a machine without a GPU may still offer WebGPU and WebGL on a software renderer
 * (Chromium's SwiftShader), tens of times slower than wasm; the order alone would pick it. The GPU
 * probes keep to a budget, so such a renderer costs start-up a few seconds at most.
 *
 * Why this care in starting one: `tf.setBackend('webgpu')` resolves `false` (it does not throw) when
 * no adapter exists, and throws when a backend was never registered (webgpu and webgl register
 * themselves only where the browser offers them), so both outcomes are checked. Whenever wasm is
 * tried, the missing wasm filter gradient is registered first (see ./wasm-gradients), since training
 * needs it.
 *
 * In the browser, call `configureBrowserWasmPaths()` from ./wasm-paths before `initBackend`, so the
 * wasm binaries are fetched from our own origin; that file is kept apart because its `?url` imports
 * only make sense under Vite.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { chooseFastest, describeChoice, softwareRenderer, type ProbeTiming } from './choose';
import { BACKEND_LABELS as LABELS, type AdapterInfo, type BackendName } from './names';
import { rendererFacts, timeProbeStep } from './probe';
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
  /** Set when the backend was chosen by the start-up probe: why, with the figures it measured. */
  choiceNote?: string;
  /** The probe's figures (absent when no probe ran): per backend, and its whole wall time in ms. */
  probe?: { timings: ProbeTiming[]; totalMs: number };
}

/** Threads in the running wasm backend's pool (1 if it will not say). */
function wasmThreadsCount(): number {
  try {
    return getThreadsCount();
  } catch {
    return 1;
  }
}

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
  // Shapes as uniforms: one WebGL program per op rather than per op and shape, so far fewer shader
  // compiles. Measured in headless Chromium (SwiftShader): the tiny U-Net's first training step on
  // webgl took 17.5 s with it against 43.9 s without; its samples are the same as wasm's.
  if (name === 'webgl') tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
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

/** Backends the probe compares; cpu (tfjs's plain JavaScript) is only the last resort. */
const PROBED: readonly BackendName[] = ['webgpu', 'webgl', 'wasm'];

/**
 * Time budgets of the probes (starting the backends excluded), in ms: wasm's is a guard; the GPU
 * backends share {@link GPU_PROBE_BUDGET_MS} (WebGL, probed first, half of it when WebGPU is to
 * follow; WebGPU what is left, at least half), so a software GPU, which takes seconds to compile
 * a shader, cannot stall start-up for longer.
 */
export const WASM_PROBE_BUDGET_MS = 3000;
export const GPU_PROBE_BUDGET_MS = 3000;

/** The note for backends that could not start, naming the one used (null when none failed). */
function failureNote(failures: string[], name: BackendName, requested: BackendName | null): string | null {
  if (failures.length === 0) return null;
  return (
    `${failures.join('; ')}. Using ${LABELS[name]} (${name}) instead` + (requested != null && requested !== name ? ` of the requested ${requested}.` : '.')
  );
}

async function started(name: BackendName, failures: string[], requested: BackendName | null): Promise<BackendInit> {
  const adapter = name === 'webgpu' ? await readAdapterInfo() : null;
  return { backend: name, fallbackNote: failureNote(failures, name, requested), adapter, wasmThreads: name === 'wasm' ? wasmThreadsCount() : null };
}

/**
 * With nothing requested: starts each of {@link PROBED} that can, but those in `avoid`; when more
 * than one starts, times the probe step on each and switches to the fastest (no probe finished: the
 * preferred order). One that starts alone is used without a probe; none: cpu.
 */
async function initFastest(avoid: readonly BackendName[]): Promise<BackendInit> {
  const t0 = performance.now();
  const failed = new Map<BackendName, string>();
  const ready: BackendName[] = [];
  for (const name of PROBED) {
    if (avoid.includes(name)) {
      failed.set(name, `${LABELS[name]} (${name}) lost its GPU device in this page`);
      continue;
    }
    const reason = await trySetBackend(name);
    if (reason == null) ready.push(name);
    else failed.set(name, `${LABELS[name]} (${name}) is unavailable: ${reason}`);
  }
  const failures = BACKEND_ORDER.flatMap((n) => failed.get(n) ?? []);
  if (ready.length === 0) {
    const reason = await trySetBackend('cpu');
    if (reason != null) throw new Error(`No TensorFlow.js backend could start: ${[...failures, `CPU (cpu) is unavailable: ${reason}`].join('; ')}.`);
    return started('cpu', failures, null);
  }
  if (ready.length === 1) return started(ready[0], failures, null);

  // wasm first, so no GPU work left running can slow its timing; WebGPU last, since its abandoned
  // work holds the GPU process (WebGL's synchronous calls would wait for it).
  const timings: ProbeTiming[] = [];
  let gpuLeft = GPU_PROBE_BUDGET_MS;
  for (const name of ['wasm', 'webgl', 'webgpu'] as const) {
    if (!ready.includes(name) || (await trySetBackend(name)) != null) continue;
    const software = softwareRenderer(await rendererFacts(name));
    const budget = name === 'wasm' ? WASM_PROBE_BUDGET_MS : name === 'webgl' && ready.includes('webgpu') ? gpuLeft / 2 : gpuLeft;
    const s = performance.now();
    const { ms, firstMs, late, error } = await timeProbeStep(budget);
    if (name !== 'wasm') gpuLeft = Math.max(GPU_PROBE_BUDGET_MS / 2, gpuLeft - (performance.now() - s));
    timings.push({ backend: name, ms, software, ...(firstMs != null ? { firstMs } : {}), ...(late != null ? { late } : {}), ...(error != null ? { error } : {}) });
  }
  const chosen = chooseFastest(timings, BACKEND_ORDER);
  // No probe finished: the first of the preferred order that started.
  const name = chosen?.backend ?? BACKEND_ORDER.find((b) => ready.includes(b))!;
  const reason = await trySetBackend(name);
  if (reason != null) throw new Error(`${LABELS[name]} (${name}) started, then failed to start again: ${reason}.`);
  const totalMs = performance.now() - t0;
  const choiceNote = chosen != null ? describeChoice(chosen, timings, totalMs) : `${name}: no backend finished the speed test, so the preferred order chose.`;
  return { ...(await started(name, failures, null)), choiceNote, probe: { timings, totalMs } };
}

/**
 * Starts a backend. With `requested`: it, else the first of {@link BACKEND_ORDER} that works (no
 * probe; the note is null only when the requested one started). With none: the fastest by the
 * start-up probe (see {@link initFastest}), leaving out the backends in `avoid` (after a lost GPU
 * device the page asks again this way, so a software WebGL is not chosen over wasm just because it
 * comes next in the order). Throws if none starts (cpu always should).
 */
export async function initBackend(requested: BackendName | null, avoid: readonly BackendName[] = []): Promise<BackendInit> {
  if (requested == null) return initFastest(avoid);
  const order = [requested, ...BACKEND_ORDER.filter((b) => b !== requested)];
  const failures: string[] = [];
  for (const name of order) {
    const reason = await trySetBackend(name);
    if (reason != null) {
      failures.push(`${LABELS[name]} (${name}) is unavailable: ${reason}`);
      continue;
    }
    return started(name, failures, requested);
  }
  throw new Error(`No TensorFlow.js backend could start: ${failures.join('; ')}.`);
}
