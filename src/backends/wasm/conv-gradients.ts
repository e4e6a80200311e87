/**
 * The convolution gradient kernels for the TensorFlow.js `wasm` backend, built on its fast
 * (XNNPACK) forward `Conv2D` with the formulas of src/kernels/conv-gradients.ts:
 * `Conv2DBackpropFilter`, which wasm lacks (./conv-filter-gradient.ts), and a `Conv2DBackpropInput`
 * that replaces wasm's naive one (./conv-input-gradient.ts).
 */
import { registerWasmConv2DBackpropFilter } from './conv-filter-gradient';
import { replaceWasmConv2DBackpropInput } from './conv-input-gradient';

export {
  chooseFilterGradMethod,
  conv2DBackpropFilterWasm,
  setWasmFilterGradMethod,
  type FilterGradShape,
  type WasmFilterGradMethod,
} from './conv-filter-gradient';
export { conv2DBackpropInputWasm, originalWasmConv2DBackpropInput } from './conv-input-gradient';
export { runWasmKernel } from './run-kernel';

/**
 * Registers both kernels: the filter gradient (unless a registration exists already) and the
 * replacement input gradient. Idempotent. Call it after importing '@tensorflow/tfjs-backend-wasm'
 * (whose kernels they build on), before or after the backend started: they need no setup.
 */
export function registerWasmConvGradients(): void {
  registerWasmConv2DBackpropFilter();
  replaceWasmConv2DBackpropInput();
}
