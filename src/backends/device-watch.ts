/**
 * WebGPU device loss (a driver reset, the GPU taken by another tab, out of memory): the device's
 * `lost` promise resolves and every later GPU call fails. The worker tells the page, which restarts
 * it on the next backend (src/state/recovery.ts).
 *
 * The calls that were in flight when the device went fail too (a mapAsync rejects, a run throws),
 * often before `lost` resolves. Their errors are not the user's news: {@link DeviceLossGate} holds
 * an error (and what follows it) for a moment on WebGPU, and drops it if the device turns out lost.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './names';

interface LosableDevice {
  lost?: Promise<{ reason?: string; message?: string }>;
}

/** Watches the WebGPU backend's device, if that is the backend in use. */
export function watchGpuDevice(backend: BackendName, onLost: (message: string) => void): void {
  if (backend !== 'webgpu') return;
  const device = (tf.backend() as unknown as { device?: LosableDevice }).device;
  void device?.lost?.then((info) => {
    const reason = info?.reason && info.reason !== 'unknown' ? `${info.reason}: ` : '';
    onLost(`${reason}${info?.message ?? ''}`.trim());
  });
}

/** How long an error on WebGPU waits to see whether the device was lost (it is told within a task or two). */
export const DEVICE_LOSS_GRACE_MS = 400;

/**
 * The worker's outgoing messages, in order, except what a lost device makes moot: once the device
 * is lost nothing more is sent but the loss itself (the page replaces this worker), and an error
 * on WebGPU is held, with everything after it, for {@link DEVICE_LOSS_GRACE_MS}: sent if the device
 * is still there then, dropped if it was lost.
 */
export class DeviceLossGate<M> {
  private watching = false;
  private lost = false;
  private held: M[] | null = null;

  constructor(
    private readonly send: (message: M) => void,
    private readonly isError: (message: M) => boolean,
    private readonly graceMs = DEVICE_LOSS_GRACE_MS,
  ) {}

  /** Errors are held only on a backend whose device can be lost. */
  watch(backend: BackendName): void {
    this.watching = backend === 'webgpu';
  }

  /** The device is gone: `message` (saying so) is the last thing sent; held messages are dropped. */
  deviceLost(message: M): void {
    if (this.lost) return;
    this.lost = true;
    this.held = null;
    this.send(message);
  }

  post(message: M): void {
    if (this.lost) return;
    if (this.held) {
      this.held.push(message);
      return;
    }
    if (this.watching && this.isError(message)) {
      this.held = [message];
      setTimeout(() => this.release(), this.graceMs);
      return;
    }
    this.send(message);
  }

  private release(): void {
    const held = this.held;
    this.held = null;
    if (this.lost || held == null) return;
    for (const m of held) this.send(m);
  }
}

/**
 * Test hook: destroys the WebGPU backend's device, as a driver reset would lose it (`lost` then
 * resolves with reason 'destroyed'). Returns false when the backend in use has no device.
 */
export function loseGpuDeviceForTest(): boolean {
  const device = (tf.backend() as unknown as { device?: { destroy?: () => void } }).device;
  if (typeof device?.destroy !== 'function') return false;
  device.destroy();
  return true;
}
