/**
 * The start-up probe: times one small denoiser-like step (three 3×3 convolutions at batch 2 on
 * 28×28×32, about 87 MFLOP) on the backend that is running, after a first step that compiles its
 * shaders, so ./select can choose the fastest backend (./choose). Also reads what a GPU backend
 * says about its renderer, to name a software one.
 *
 * The probe keeps to a time budget: a software GPU can take seconds per step, and start-up must not
 * wait for it. A probe past its budget is abandoned (its queued GPU work is left to finish; its
 * tensors are freed) and loses.
 */
import * as tf from '@tensorflow/tfjs';
import type { RendererFacts } from './choose';
import type { BackendName } from './names';

const BATCH = 2;
const SIZE = 28;
const CH = 32;
/** Timed steps after the first; the median is kept. */
const TIMED_STEPS = 3;

/** What one backend's probe measured (see ProbeTiming in ./choose for the fields). */
export interface StepTiming {
  ms: number | null;
  firstMs?: number;
  late?: { first: boolean; afterMs: number };
  error?: string;
}

/** Deterministic small values (a fixed LCG), so the probe needs no random-number kernels. */
function fill(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * scale;
  }
  return out;
}

interface Inputs {
  x: tf.Tensor4D;
  w: tf.Tensor4D;
}

function makeInputs(): Inputs {
  return {
    x: tf.tensor4d(fill(BATCH * SIZE * SIZE * CH, 1, 2), [BATCH, SIZE, SIZE, CH]),
    w: tf.tensor4d(fill(9 * CH * CH, 2, 0.1), [3, 3, CH, CH]),
  };
}

/**
 * One step: three 3×3 convolutions with ReLU at 28×28×32, as in a small U-Net's top level, read
 * back as one number (the page reads each step's images back too). The same fused conv three
 * times, so a GPU compiles two programs (conv, sum), not a dozen.
 */
function step({ x, w }: Inputs): tf.Scalar {
  return tf.tidy(() => {
    let h = x;
    for (let i = 0; i < 3; i++) h = tf.fused.conv2d({ x: h, filter: w, strides: 1, pad: 'same', activation: 'relu' });
    return tf.sum(h);
  });
}

const LATE = Symbol('late');

/** `p`, or LATE once `ms` have passed (the promise itself runs on; its failure is ignored). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof LATE> {
  p.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), Math.max(0, ms));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times the probe step on the running backend: a first step (shaders compiled), then up to
 * {@link TIMED_STEPS} timed steps, all within `budgetMs`; a timed step is not begun when the last
 * one would not fit. A step still running at the deadline is abandoned and the probe is late
 * (unless timed steps finished: they count). Never throws; leaves no tensor behind.
 */
export async function timeProbeStep(budgetMs: number): Promise<StepTiming> {
  const t0 = performance.now();
  const deadline = t0 + budgetMs;
  let inputs: Inputs | null = null;
  try {
    inputs = makeInputs();
    /** Runs one step; its wall time, or null when the deadline came first. */
    const run = async (): Promise<number | null> => {
      const s = performance.now();
      const out = step(inputs!);
      try {
        return (await within(out.data(), deadline - performance.now())) === LATE ? null : performance.now() - s;
      } finally {
        out.dispose();
      }
    };
    const firstMs = await run();
    if (firstMs == null) return { ms: null, late: { first: true, afterMs: budgetMs } };
    const times: number[] = [];
    while (times.length < TIMED_STEPS) {
      const left = deadline - performance.now();
      if (left <= 0 || (times.length > 0 && times[times.length - 1] > left)) break;
      const ms = await run();
      if (ms == null) {
        if (times.length === 0) return { ms: null, firstMs, late: { first: false, afterMs: left } };
        break;
      }
      times.push(ms);
    }
    if (times.length === 0) return { ms: null, firstMs, late: { first: false, afterMs: 0 } };
    return { ms: median(times), firstMs };
  } catch (err) {
    return { ms: null, error: err instanceof Error ? err.message : String(err) };
  } finally {
    if (inputs) tf.dispose([inputs.x, inputs.w]);
  }
}

/** Minimal views of what WebGPU and WebGL say about their adapter, without DOM or WebGPU type packages. */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GlLike {
  RENDERER: number;
  VENDOR: number;
  getParameter(p: number): unknown;
  getExtension(name: string): unknown;
}

const UNMASKED_VENDOR_WEBGL = 0x9245;
const UNMASKED_RENDERER_WEBGL = 0x9246;

/**
 * What the running GPU backend says about its adapter (WebGPU: a fresh adapter's info, fallback
 * flag included) or renderer (WebGL: the unmasked renderer string). Null for other backends or
 * when it will not say. Never throws.
 */
export async function rendererFacts(backend: BackendName): Promise<RendererFacts | null> {
  try {
    if (backend === 'webgpu') {
      const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } }).navigator?.gpu;
      const adapter = gpu ? await gpu.requestAdapter() : null;
      const fromBackend = (tf.backend() as { adapterInfo?: GpuAdapterInfoLike }).adapterInfo;
      const info = adapter?.info ?? fromBackend;
      if (info == null && adapter == null) return null;
      return {
        vendor: info?.vendor,
        architecture: info?.architecture,
        device: info?.device,
        description: info?.description,
        isFallbackAdapter: adapter?.isFallbackAdapter ?? info?.isFallbackAdapter,
      };
    }
    if (backend === 'webgl') {
      const gl = (tf.backend() as { gpgpu?: { gl?: GlLike } }).gpgpu?.gl;
      if (gl == null) return null;
      const unmasked = gl.getExtension('WEBGL_debug_renderer_info') != null;
      const renderer = gl.getParameter(unmasked ? UNMASKED_RENDERER_WEBGL : gl.RENDERER);
      const vendor = gl.getParameter(unmasked ? UNMASKED_VENDOR_WEBGL : gl.VENDOR);
      return { renderer: typeof renderer === 'string' ? renderer : undefined, vendor: typeof vendor === 'string' ? vendor : undefined };
    }
  } catch {
    // It will not say: treated as hardware.
  }
  return null;
}
