/**
 * `BatchMatMul` for the TensorFlow.js `wasm` backend that runs every product on XNNPACK.
 *
 * tfjs-backend-wasm 4.22 sends a product to XNNPACK only when it is a single matrix product
 * without transpose flags; a batch of products (batch > 1) or any transpose flag runs a naive
 * blocked loop instead, many times slower than XNNPACK (README's Benchmarks section): the U-Net's
 * attention ([b, 49, 49] x [b, 49, 64]), GroupNorm's per-example sums ([b, 1, hw] x [b, hw, c]) and
 * tfjs's own gradients of dense layers (transposed operands) all took that path.
 *
 * This kernel transposes an operand that is flagged (wasm's Transpose, a C++ kernel) and then runs
 * one single-matrix product per batch entry on XNNPACK, on views: each entry's a, b and output are
 * registered with the wasm module as tensors at offsets inside the whole tensors' memory (no
 * copies), and unregistered after (which also drops XNNPACK's cached operator for them). A batch of
 * one without flags goes straight to the original kernel, which already does this.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { runWasmKernel } from './run-kernel';

/** The parts of the wasm backend this kernel uses (tfjs types a kernel's backend as `{}`). */
interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
  dataIdMap: { get(id: DataId): { id: number; memoryOffset: number } | undefined };
  dataIdNextNumber: number;
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
}

type WasmMatMul = (
  aId: number, aShape: Uint8Array, aRank: number,
  bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number,
) => void;

let original: KernelConfig | undefined;
/** The wasm module's BatchMatMul export, per module (a new backend instance brings a new module). */
const matMuls = new WeakMap<object, WasmMatMul>();

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** x with its last two axes swapped, as a new tensor (wasm's Transpose kernel). */
function swapLastAxes(x: TensorInfo, backend: WasmBackendInternals): TensorInfo {
  const r = x.shape.length;
  return runWasmKernel('Transpose', { x }, { perm: [...Array(r - 2).keys(), r - 1, r - 2] }, backend);
}

/**
 * Whether the per-entry XNNPACK products beat the original kernel for an [m, k] x [k, n] entry:
 * XNNPACK packs b for every entry (and a flagged operand costs a transpose), which pays off for the
 * attention's 49 x 49 x 64 products but not for matrix-vector shapes such as GroupNorm's
 * per-example sums [1, hw] x [hw, c] or sums over rows ([P, c]ᵀ x [P, 1]), which ran slower.
 */
export function worthXnnpack(m: number, n: number): boolean {
  return m >= 8 && n >= 8;
}

/** Whether this wasm backend exposes what the views need (a later tfjs may not: then the original kernel). */
function hasViewSupport(be: WasmBackendInternals): boolean {
  return typeof be.dataIdNextNumber === 'number' && typeof be.wasm?.cwrap === 'function' &&
    typeof be.wasm.tfjs?.registerTensor === 'function' && typeof be.wasm.tfjs?.disposeData === 'function';
}

export const batchMatMulWasm: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const a0 = inputs.a as TensorInfo;
  const b0 = inputs.b as TensorInfo;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const be = backend as WasmBackendInternals;
  const batchA = tf.util.sizeFromShape(a0.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b0.shape.slice(0, -2));
  const fallback = original;
  if (fallback == null) throw new Error('wasm BatchMatMul: the original kernel is not registered.');
  const plainSingle = batchA === 1 && batchB === 1 && !transposeA && !transposeB;
  const broadcastOk = batchA === batchB || batchA === 1 || batchB === 1;
  const m0 = a0.shape[a0.shape.length - (transposeA ? 1 : 2)];
  const n0 = b0.shape[b0.shape.length - (transposeB ? 2 : 1)];
  if (plainSingle || !broadcastOk || !worthXnnpack(m0, n0) || a0.dtype !== 'float32' || b0.dtype !== 'float32' || !hasViewSupport(be)) {
    return fallback.kernelFunc(args);
  }

  const temps: TensorInfo[] = [];
  try {
    const a = transposeA ? (temps.push(swapLastAxes(a0, be)), temps[temps.length - 1]) : a0;
    const b = transposeB ? (temps.push(swapLastAxes(b0, be)), temps[temps.length - 1]) : b0;
    const [m, k] = a.shape.slice(-2);
    const [k2, n] = b.shape.slice(-2);
    if (k !== k2) return fallback.kernelFunc(args); // let the original kernel report the mismatch
    const outerShape = tf.broadcast_util.assertAndGetBroadcastShape(a0.shape.slice(0, -2), b0.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    const out = be.makeOutput([...outerShape, m, n], 'float32');
    if (batch === 0 || m === 0 || n === 0) return out;
    let matMul = matMuls.get(be.wasm);
    if (matMul == null) {
      matMul = be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as WasmMatMul;
      matMuls.set(be.wasm, matMul);
    }
    const aOff = be.dataIdMap.get(a.dataId)!.memoryOffset;
    const bOff = be.dataIdMap.get(b.dataId)!.memoryOffset;
    const oOff = be.dataIdMap.get(out.dataId)!.memoryOffset;
    const aShape = shapeBytes([1, m, k]);
    const bShape = shapeBytes([1, k, n]);
    const view = (offset: number, size: number): number => {
      const id = be.dataIdNextNumber++;
      be.wasm.tfjs.registerTensor(id, size, offset);
      return id;
    };
    for (let i = 0; i < batch; i++) {
      const aId = view(aOff + (batchA === 1 ? 0 : i * m * k * 4), m * k);
      const bId = view(bOff + (batchB === 1 ? 0 : i * k * n * 4), k * n);
      const oId = view(oOff + i * m * n * 4, m * n);
      matMul(aId, aShape, 3, bId, bShape, 3, false, false, oId);
      be.wasm.tfjs.disposeData(aId);
      be.wasm.tfjs.disposeData(bId);
      be.wasm.tfjs.disposeData(oId);
    }
    return out;
  } finally {
    for (const t of temps) be.disposeData(t.dataId);
  }
};

/** Replaces wasm's BatchMatMul by {@link batchMatMulWasm} (once the wasm backend is imported; idempotent). */
export function registerWasmBatchMatMul(): void {
  const current = tf.getKernel('BatchMatMul', 'wasm');
  if (current == null || current.kernelFunc === batchMatMulWasm) return;
  original = current;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...current, kernelFunc: batchMatMulWasm });
}
