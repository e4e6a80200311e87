/**
 * Choosing the backend by speed, from the start-up probe's timings (./probe), and saying why in
 * words. Pure: no TensorFlow.js, so it is unit-tested in Node and its note is what the header shows.
 *
 * Why: a browser without a GPU may still offer WebGPU and WebGL through a software renderer
 * (Chromium's SwiftShader, Mesa's llvmpipe), which runs a denoiser step tens of times slower than
 * WebAssembly; the preferred order alone would pick it.
 */
import { BACKEND_LABELS, BACKEND_NAMES, type BackendName } from './names';

/** What a GPU backend says about its adapter or renderer (WebGPU adapter info, WebGL's renderer string). */
export interface RendererFacts {
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
  renderer?: string;
}

/** Substrings (lower case) of adapter or renderer names that mean the "GPU" runs on the CPU. */
const SOFTWARE_RENDERERS: readonly (readonly [string, string])[] = [
  ['swiftshader', 'SwiftShader'],
  ['llvmpipe', 'llvmpipe'],
  ['lavapipe', 'lavapipe'],
  ['microsoft basic render', 'Microsoft Basic Render Driver'],
  ['software', 'software renderer'],
];

/**
 * The software renderer behind a GPU backend, in words ("SwiftShader", "fallback adapter"), or
 * null for a hardware GPU (or one that says nothing).
 */
export function softwareRenderer(facts: RendererFacts | null): string | null {
  if (facts == null) return null;
  const text = [facts.vendor, facts.architecture, facts.description, facts.device, facts.renderer].filter((s) => typeof s === 'string').join(' ').toLowerCase();
  for (const [needle, name] of SOFTWARE_RENDERERS) if (text.includes(needle)) return name;
  return facts.isFallbackAdapter === true ? 'fallback adapter' : null;
}

/** One backend's probe: the time of one small denoiser-like step, or why there is none. */
export interface ProbeTiming {
  backend: BackendName;
  /** Median wall time of a timed step after the warm-up (ms), or null when none finished. */
  ms: number | null;
  /** Wall time of the first step, shaders compiled (ms), when it finished. */
  firstMs?: number;
  /**
   * Set when the probe ran out of its budget: the first step (`first`) or a timed step had not
   * finished `afterMs` after it began.
   */
  late?: { first: boolean; afterMs: number };
  /** Set when the probe failed. */
  error?: string;
  /** The software renderer it runs on (see {@link softwareRenderer}), or null. */
  software: string | null;
}

/** Backends within this factor of the fastest count as a tie, won by the preferred order. */
export const TIE_FACTOR = 1.1;

/**
 * The fastest probed backend: least `ms`; a tie (within {@link TIE_FACTOR}) goes to the earlier
 * backend in `order`, except that a software GPU never wins a tie (it is the CPU, working harder).
 * Null when no probe finished.
 */
export function chooseFastest(timings: readonly ProbeTiming[], order: readonly BackendName[] = BACKEND_NAMES): ProbeTiming | null {
  const done = timings.filter((t): t is ProbeTiming & { ms: number } => t.ms != null && Number.isFinite(t.ms));
  if (done.length === 0) return null;
  const best = done.reduce((a, b) => (b.ms < a.ms ? b : a));
  // Software GPUs rank after every other backend; the rest in the preferred order.
  const rank = (t: ProbeTiming) => {
    const i = order.indexOf(t.backend);
    return (t.software == null ? 0 : order.length + 1) + (i < 0 ? order.length : i);
  };
  const ties = done.filter((t) => t.ms <= best.ms * TIE_FACTOR);
  return ties.reduce((a, b) => (rank(b) < rank(a) ? b : a));
}

/** A ratio as the note writes it: "12×" at 10 and above, "3.4×" below. */
export function formatRatio(r: number): string {
  return r >= 10 ? `${Math.round(r)}×` : `${r.toFixed(1)}×`;
}

function formatMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? formatSeconds(ms) : formatMs(ms);
}

function named(t: ProbeTiming): string {
  return t.software == null ? BACKEND_LABELS[t.backend] : `${BACKEND_LABELS[t.backend]} (software: ${t.software})`;
}

/** How `t` compares with the chosen backend `c`, in words. */
function comparison(c: ProbeTiming, t: ProbeTiming): string {
  if (t.ms != null && c.ms != null) {
    const r = t.ms / c.ms;
    return r >= TIE_FACTOR ? `${formatRatio(r)} faster here than ${named(t)}` : `about as fast here as ${named(t)} (${formatRatio(r)})`;
  }
  if (t.late != null && !t.late.first && t.late.afterMs <= 0 && t.firstMs != null) {
    const r = c.firstMs != null && c.firstMs > 0 ? ` (${formatRatio(t.firstMs / c.firstMs)} ${c.backend}'s)` : '';
    return `${named(t)}: its first step (shaders compiled) took ${formatDuration(t.firstMs)}${r}, leaving no time to time another`;
  }
  if (t.late != null) {
    // A lower bound: first steps compared with first steps (shaders included), timed with timed.
    const base = t.late.first ? c.firstMs : c.ms;
    const what = t.late.first ? 'its first step (shaders compiled)' : 'a step';
    const r = base != null && base > 0 ? t.late.afterMs / base : 0;
    const bound = r >= TIE_FACTOR ? `: more than ${formatRatio(r)} slower` : '';
    return `${named(t)}${bound}, ${what} took over ${formatDuration(t.late.afterMs)}`;
  }
  return `${named(t)} failed the test (${t.error ?? 'no result'})`;
}

/**
 * The header's note on the choice, e.g. "wasm: 31× faster here than WebGL (software: SwiftShader);
 * WebGPU (software: SwiftShader): more than 85× slower, its first step (shaders compiled) took over
 * 1.5 s. …", with each backend's step time and the whole probe's wall time `totalMs`.
 */
export function describeChoice(chosen: ProbeTiming, timings: readonly ProbeTiming[], totalMs: number): string {
  const others = timings.filter((t) => t.backend !== chosen.backend);
  const head = others.length > 0 ? `${chosen.backend}: ${others.map((t) => comparison(chosen, t)).join('; ')}.` : `${chosen.backend}: the only backend tested.`;
  const figures = [chosen, ...others].filter((t) => t.ms != null).map((t) => `${t.backend} ${formatMs(t.ms!)}`);
  return (
    `${head} Chosen by speed: one small denoiser-like step took ${figures.join(', ')} ` +
    `(measured at start in ${formatSeconds(totalMs)}). Add ?backend=NAME to the address to force one.`
  );
}
