/**
 * `Slice` for the TensorFlow.js `wasm` backend without the copy of its whole input.
 *
 * tfjs-backend-wasm 4.22's Slice (a JavaScript kernel) starts with `backend.readSync(x)`, which
 * copies ALL of x out of the wasm heap into a fresh JavaScript ArrayBuffer before copying the
 * part it keeps, and the U-Net's skip-concat gradient and the conv gradients slice activation-sized
 * tensors many times a step (a sizeable share of a train step: README's Benchmarks section).
 * This kernel reads x through a view of the heap instead: the same row loops, no extra copy.
 *
 * Views of the heap go stale when the heap grows, so both are taken after the output is allocated.
 * Strings (not stored in the heap) and ranks above 4 go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/** The part of the wasm backend a JavaScript kernel over the heap uses (tfjs types a kernel's backend as `{}`). */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  dataIdMap: { get(id: DataId): unknown };
}

let original: KernelConfig | undefined;

/** Copies the block `begin`..`begin + size` of x (row-major, rank ≤ 4) into out, one innermost run at a time. */
export function copyBlock(
  x: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  out: Float32Array | Int32Array | Uint8Array,
  begin: readonly number[],
  size: readonly number[],
): void {
  // Pad to rank 4 with leading 1s, so one loop nest serves ranks 1..4.
  const pad = 4 - shape.length;
  const s = [...Array<number>(pad).fill(1), ...shape];
  const b = [...Array<number>(pad).fill(0), ...begin];
  const z = [...Array<number>(pad).fill(1), ...size];
  const st = [s[1] * s[2] * s[3], s[2] * s[3], s[3]];
  let o = 0;
  for (let i = b[0]; i < b[0] + z[0]; i++) {
    for (let j = b[1]; j < b[1] + z[1]; j++) {
      for (let k = b[2]; k < b[2] + z[2]; k++) {
        const from = i * st[0] + j * st[1] + k * st[2] + b[3];
        out.set(x.subarray(from, from + z[3]), o);
        o += z[3];
      }
    }
  }
}

export const sliceWasm: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x as TensorInfo;
  const fallback = original;
  if (x.dtype === 'string' || x.shape.length > 4) {
    if (fallback == null) throw new Error('wasm Slice: no original kernel for strings or rank > 4.');
    return fallback.kernelFunc(args);
  }
  const { begin: b0, size: s0 } = attrs as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x, b0, s0);
  const b = backend as WasmHeapBackend;
  const out = b.makeOutput(size, x.dtype);
  if (size.some((d) => d === 0)) return out;
  const xVals = b.typedArrayFromHeap(x);
  const outVals = b.typedArrayFromHeap(out);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const from = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
    outVals.set(xVals.subarray(from, from + outVals.length));
  } else {
    copyBlock(xVals, x.shape, outVals, begin, size);
  }
  return out;
};

/** Replaces wasm's Slice by {@link sliceWasm} (once the wasm backend is imported; idempotent). */
export function registerWasmSlice(): void {
  const current = tf.getKernel('Slice', 'wasm');
  if (current == null || current.kernelFunc === sliceWasm) return;
  original = current;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ kernelName: 'Slice', backendName: 'wasm', kernelFunc: sliceWasm });
}
