/**
 * The backend chosen by speed (src/backends/choose.ts, probe.ts, select.ts): software GPUs are
 * recognised from what their adapter or renderer says, the fastest probe wins (a tie goes to the
 * preferred order, never to a software GPU), the header's note gives the ratios and figures, and
 * the probe step itself runs on wasm in Node, in bounded time, leaving no tensor behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { chooseFastest, describeChoice, formatRatio, softwareRenderer, type ProbeTiming } from '../../src/backends/choose';
import { initNodeBackend } from '../../src/backends/node';
import { rendererFacts, timeProbeStep } from '../../src/backends/probe';
import { initBackend } from '../../src/backends/select';

const t = (backend: ProbeTiming['backend'], ms: number | null, extra: Partial<ProbeTiming> = {}): ProbeTiming => ({ backend, ms, software: null, ...extra });

describe('softwareRenderer', () => {
  it('names the software renderers from adapter info or the WebGL renderer string', () => {
    expect(softwareRenderer({ vendor: 'google', architecture: 'swiftshader', description: '' })).toBe('SwiftShader');
    expect(softwareRenderer({ renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)' })).toBe('SwiftShader');
    expect(softwareRenderer({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe('llvmpipe');
    expect(softwareRenderer({ renderer: 'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)' })).toBe('Microsoft Basic Render Driver');
    expect(softwareRenderer({ vendor: 'acme', device: 'Software Rasterizer' })).toBe('software renderer');
  });

  it('takes the fallback-adapter flag when the names say nothing', () => {
    expect(softwareRenderer({ vendor: 'unknown', architecture: '', isFallbackAdapter: true })).toBe('fallback adapter');
  });

  it('treats a hardware GPU, or one that says nothing, as hardware', () => {
    expect(softwareRenderer({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080', isFallbackAdapter: false })).toBeNull();
    expect(softwareRenderer({ renderer: 'ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)' })).toBeNull();
    expect(softwareRenderer({})).toBeNull();
    expect(softwareRenderer(null)).toBeNull();
  });
});

describe('chooseFastest', () => {
  it('picks wasm over a software WebGPU many times slower', () => {
    const sw = 'SwiftShader';
    expect(chooseFastest([t('wasm', 9), t('webgpu', 400, { software: sw }), t('webgl', 60, { software: sw })])?.backend).toBe('wasm');
  });

  it('picks a real GPU when it is faster', () => {
    expect(chooseFastest([t('wasm', 30), t('webgpu', 3), t('webgl', 5)])?.backend).toBe('webgpu');
    expect(chooseFastest([t('wasm', 30), t('webgpu', 8), t('webgl', 5)])?.backend).toBe('webgl');
  });

  it('gives a tie (within 10 %) to the preferred order, but never to a software GPU', () => {
    expect(chooseFastest([t('wasm', 10), t('webgpu', 10.5)])?.backend).toBe('webgpu');
    expect(chooseFastest([t('wasm', 10), t('webgpu', 12)])?.backend).toBe('wasm');
    expect(chooseFastest([t('wasm', 10.5), t('webgl', 10, { software: 'SwiftShader' })])?.backend).toBe('wasm');
  });

  it('leaves out probes that ran past their budget or failed; none finished: null', () => {
    expect(chooseFastest([t('wasm', 50), t('webgpu', null, { late: { first: true, afterMs: 1500 } }), t('webgl', null, { error: 'lost context' })])?.backend).toBe('wasm');
    expect(chooseFastest([t('webgpu', null, { late: { first: true, afterMs: 1500 } })])).toBeNull();
    expect(chooseFastest([])).toBeNull();
  });
});

describe('describeChoice', () => {
  it('gives each ratio, the software renderer, the figures and the probe time', () => {
    const timings = [t('wasm', 10), t('webgpu', 120, { software: 'SwiftShader' }), t('webgl', 34, { software: 'SwiftShader' })];
    const note = describeChoice(timings[0], timings, 2345);
    expect(note).toMatch(/^wasm: 12× faster here than WebGPU \(software: SwiftShader\); 3\.4× faster here than WebGL \(software: SwiftShader\)\./);
    expect(note).toContain('wasm 10.0 ms, webgpu 120 ms, webgl 34.0 ms');
    expect(note).toContain('measured at start in 2.3 s');
    expect(note).toContain('?backend=');
  });

  it('gives a lower bound for a probe that ran out of time, first steps against first steps', () => {
    const wasm = t('wasm', 6, { firstMs: 15 });
    const timings = [wasm, t('webgl', 200, { firstMs: 900, software: 'SwiftShader' }), t('webgpu', null, { late: { first: true, afterMs: 1500 }, software: 'SwiftShader' })];
    const note = describeChoice(wasm, timings, 3600);
    expect(note).toMatch(/^wasm: 33× faster here than WebGL \(software: SwiftShader\); WebGPU \(software: SwiftShader\): more than 100× slower, its first step \(shaders compiled\) took over 1\.5 s\./);
    expect(note).toContain('took wasm 6.0 ms, webgl 200 ms (');
    // A timed step that ran late is compared with the chosen backend's timed step.
    const late = describeChoice(wasm, [wasm, t('webgl', null, { firstMs: 900, late: { first: false, afterMs: 600 } })], 2000);
    expect(late).toMatch(/^wasm: WebGL: more than 100× slower, a step took over 600 ms\./);
  });

  it('says when a probe failed, and when two were about as fast', () => {
    const timings = [t('wasm', 10), t('webgl', null, { error: 'context lost' })];
    expect(describeChoice(timings[0], timings, 1600)).toContain('WebGL failed the test (context lost)');
    expect(describeChoice(t('webgpu', 10), [t('webgpu', 10), t('wasm', 10.5)], 100)).toMatch(/^webgpu: about as fast here as WebAssembly \(1\.1×\)/);
  });

  it('formats ratios', () => {
    expect(formatRatio(12.4)).toBe('12×');
    expect(formatRatio(3.44)).toBe('3.4×');
  });
});

describe('the probe step on wasm in Node', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('times a step within its budget and leaves no tensor', async () => {
    const before = tf.memory().numTensors;
    const r = await timeProbeStep(5000);
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeGreaterThan(0);
    expect(r.ms!).toBeLessThan(5000);
    expect(r.firstMs).toBeGreaterThan(0);
    expect(r.late).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    expect(await rendererFacts('wasm')).toBeNull();
  });

  it('is late, not hanging, when the budget is too small', async () => {
    const before = tf.memory().numTensors;
    const r = await timeProbeStep(0);
    expect(r.ms).toBeNull();
    // wasm's first step may finish before a 0 ms timer fires; no timed step is begun after it.
    expect(r.late).toBeDefined();
    expect(r.late!.afterMs).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs no probe when one backend alone can start (wasm in Node)', async () => {
    const r = await initBackend(null);
    expect(r.backend).toBe('wasm');
    expect(r.choiceNote).toBeUndefined();
    expect(r.probe).toBeUndefined();
    expect(await initBackend('wasm')).toEqual({ backend: 'wasm', fallbackNote: null, adapter: null, wasmThreads: 1 });
  });
});
