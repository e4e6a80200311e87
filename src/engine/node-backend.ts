/**
 * Node only (unit tests, CLI scripts): start the wasm or cpu backend without any browser probing.
 *
 * Why: in Node the wasm backend loads its binaries from node_modules by itself, webgpu/webgl are
 * never registered, and `@tensorflow/tfjs-node` cannot be installed here; wasm is the practical
 * backend for training once its missing filter gradient is registered (see ./wasm-gradients).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-gradients';

/**
 * Sets `name` as the active backend and waits until it is ready; registers the wasm filter
 * gradient (harmless for cpu, so it is always done). Throws if the backend cannot start.
 */
export async function initNodeBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<'wasm' | 'cpu'> {
  registerWasmConvGradients();
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`The '${name}' TensorFlow.js backend could not start in Node.`);
  }
  await tf.ready();
  return name;
}
