/**
 * A lost GPU device (src/backends/device-watch.ts, src/io/optimizer-state.ts): the errors of the
 * calls that were in flight are not reported as the user's problem (the page restarts the engine on
 * the next backend and resumes instead), and a checkpoint saved on WebGPU restores on any backend.
 * The browser half (a real GPUDevice.destroy() on SwiftShader) is tests/browser/device-lost.spec.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeviceLossGate, DEVICE_LOSS_GRACE_MS } from '../../src/backends/device-watch';
import { checkAdamState, readAdamState, writeAdamState } from '../../src/io/optimizer-state';
import { initBackend } from '../../src/backends/select';
import type { BackendName } from '../../src/backends/names';
import type { PageToWorker } from '../../src/protocol/messages';
import { Recovery, type RecoveryHost } from '../../src/state/recovery';
import { createAppStore, initialState } from '../../src/state/store';
import { WorkerHost } from '../../src/state/worker-host';

type Msg = { type: 'error' | 'state' | 'lost'; n: number };

function gate(backend: 'webgpu' | 'wasm') {
  const sent: Msg[] = [];
  const g = new DeviceLossGate<Msg>((m) => sent.push(m), (m) => m.type === 'error');
  g.watch(backend);
  return { g, sent };
}

describe('messages around a lost device', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('an error on WebGPU, then the loss: the error and what followed it are dropped, the loss is sent', () => {
    const { g, sent } = gate('webgpu');
    g.post({ type: 'state', n: 1 });
    g.post({ type: 'error', n: 2 });
    g.post({ type: 'state', n: 3 });
    expect(sent.map((m) => m.n)).toEqual([1]);
    vi.advanceTimersByTime(DEVICE_LOSS_GRACE_MS / 2);
    g.deviceLost({ type: 'lost', n: 4 });
    g.post({ type: 'state', n: 5 });
    vi.advanceTimersByTime(DEVICE_LOSS_GRACE_MS);
    expect(sent.map((m) => m.n)).toEqual([1, 4]);
  });

  it('an error on WebGPU with the device still there is sent after the grace, in order', () => {
    const { g, sent } = gate('webgpu');
    g.post({ type: 'error', n: 1 });
    g.post({ type: 'state', n: 2 });
    vi.advanceTimersByTime(DEVICE_LOSS_GRACE_MS - 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    g.post({ type: 'state', n: 3 });
    expect(sent.map((m) => m.n)).toEqual([1, 2, 3]);
  });

  it('on a backend without a device, errors go at once', () => {
    const { g, sent } = gate('wasm');
    g.post({ type: 'error', n: 1 });
    expect(sent.map((m) => m.n)).toEqual([1]);
  });
});

describe("Adam's iteration count in a checkpoint", () => {
  beforeEach(async () => {
    await tf.setBackend('cpu');
  });

  it('is saved as its value and restored on another optimizer', async () => {
    const w = tf.variable(tf.ones([3]), true, 'w');
    const adam = tf.train.adam(0.1);
    for (let i = 0; i < 3; i++) adam.minimize(() => tf.sum(tf.square(w)), false, [w]);
    const before = tf.memory().numTensors;
    const saved = await readAdamState(adam);
    expect(saved.tensors.get('iterations')!.dtype).toBe('float32');
    expect((await saved.tensors.get('iterations')!.data())[0]).toBe(3);
    const other = tf.train.adam(0.1);
    await writeAdamState(other, [w], saved.tensors);
    expect(other.iterations).toBe(3);
    tf.dispose(saved.owned);
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
    adam.dispose();
    w.dispose();
  });

  it("a count saved as an int32's bits under a float32 label (WebGPU's cast, before the fix) is read as the integer", async () => {
    const bitsOf7 = new Float32Array(new Int32Array([7]).buffer)[0];
    expect(bitsOf7).toBeLessThan(1e-40);
    const iterations = tf.scalar(bitsOf7, 'float32');
    const { iterations: count } = await checkAdamState([], new Map([['iterations', iterations]]));
    expect(count).toBe(7);
    const bad = tf.scalar(0.5, 'float32');
    await expect(checkAdamState([], new Map([['iterations', bad]]))).rejects.toThrow(/iteration count 0.5 is not a count/);
    tf.dispose([iterations, bad]);
  });
});

describe('after a lost device, the engine starts again on the fastest backend but that one', () => {
  it('the recovery asks for no backend, leaving out the lost one, and says so', () => {
    const store = createAppStore(initialState());
    store.setState((s) => ({ engine: { ...s.engine, backend: 'webgpu', requested: 'webgpu' } }));
    const restarts: [BackendName | null, BackendName | undefined][] = [];
    const errors: string[] = [];
    const host: RecoveryHost = {
      store,
      send: () => undefined,
      reportError: (m) => errors.push(m),
      restartWorker: (backend, lost) => restarts.push([backend, lost]),
      takeRestored: () => undefined,
      replaceHistory: () => undefined,
      resumeTraining: () => undefined,
    };
    new Recovery(host).onMessage({ type: 'device-lost', backend: 'webgpu', message: 'destroyed' });
    expect(restarts).toEqual([[null, 'webgpu']]);
    expect(errors.join('\n')).toMatch(/GPU device was lost \(destroyed\)\. The engine was restarted without webgpu \(on the fastest backend left\)/);
  });

  it('the worker host sends init with the lost backends to avoid, and keeps avoiding them', () => {
    const store = createAppStore(initialState());
    const posted: PageToWorker[] = [];
    const fake = () => ({ addEventListener: () => undefined, postMessage: (m: PageToWorker) => posted.push(m), terminate: () => undefined }) as unknown as Worker;
    const host = new WorkerHost(store, fake, 'webgpu', { message: () => undefined, crashed: () => undefined, reportError: () => undefined });
    host.start();
    host.restart(null, 'webgpu');
    host.restart(null, 'webgl');
    host.restart('wasm');
    expect(posted.filter((m) => m.type === 'init')).toEqual([
      { type: 'init', backend: 'webgpu' },
      { type: 'init', backend: null, avoid: ['webgpu'] },
      { type: 'init', backend: null, avoid: ['webgpu', 'webgl'] },
      { type: 'init', backend: 'wasm', avoid: ['webgpu', 'webgl'] },
    ]);
  });

  it("the worker host asks every worker for the URL's wasm threads", () => {
    const posted: PageToWorker[] = [];
    const fake = () => ({ addEventListener: () => undefined, postMessage: (m: PageToWorker) => posted.push(m), terminate: () => undefined }) as unknown as Worker;
    const host = new WorkerHost(createAppStore(initialState()), fake, null, { message: () => undefined, crashed: () => undefined, reportError: () => undefined }, 1);
    host.start();
    host.restart(null, 'webgpu');
    expect(posted.filter((m) => m.type === 'init')).toEqual([
      { type: 'init', backend: null, threads: 1 },
      { type: 'init', backend: null, avoid: ['webgpu'], threads: 1 },
    ]);
  });

  it('initBackend leaves the avoided backends out of its choice and names them', async () => {
    const r = await initBackend(null, ['wasm']);
    expect(r.backend).toBe('cpu');
    expect(r.fallbackNote).toMatch(/WebAssembly \(wasm\) lost its GPU device in this page/);
    await tf.setBackend('cpu');
  });
});
