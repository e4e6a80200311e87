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
