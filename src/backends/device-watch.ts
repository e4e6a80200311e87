/**
 * WebGPU device loss (a driver reset, the GPU taken by another tab, out of memory): the device's
 * `lost` promise resolves and every later GPU call fails. The worker tells the page, which restarts
 * it on the next backend (src/state/recovery.ts).
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
