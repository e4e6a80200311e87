/**
 * Times the conv filter gradient (`Conv2DBackpropFilter`) on wasm (our kernel, see
 * src/backends/wasm/conv-gradients.ts) against the cpu backend's own, and the conv input gradient
 * (`Conv2DBackpropInput`): our forward-conv kernel against wasm's built-in naive one (same run)
 * and against a forward conv of the same layer, for stride 1 and stride 2.
 *
 *   npx tsx src/cli/bench-conv-grad.ts [cpuBatch]
 *
 * Shape: x [32,28,28,32], filter [3,3,32,64], stride 1, 'same'. The cpu backend needs minutes for
 * the full batch, so cpu and wasm are also compared on a batch of `cpuBatch` (default 2); the work
 * is linear in the batch, and the ratio is reported on that shared shape.
 */
import * as tf from '@tensorflow/tfjs';
import { medianTensorMs } from './timing';
import { initNodeBackend } from '../backends/node';
import { originalWasmConv2DBackpropInput } from '../backends/wasm/conv-gradients';

const H = 28, CI = 32, CO = 64, K = 3, FULL_BATCH = 32;

function randomTensor(shape: [number, number, number, number]): tf.Tensor4D {
  return tf.randomUniform(shape, -0.5, 0.5, 'float32', 7);
}


interface Timings { filterGrad: number; forward: number }

/** Times the filter gradient (and optionally the forward conv) for a batch of `n` on the active backend. */
async function timeConvKernels(n: number, reps: number, withForward: boolean): Promise<Timings> {
  const x = randomTensor([n, H, H, CI]);
  const w = randomTensor([K, K, CI, CO]);
  const dy = randomTensor([n, H, H, CO]);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [K, K, CI, CO] };
  const filterGrad = await medianTensorMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor, reps);
  const forward = withForward ? await medianTensorMs(() => tf.conv2d(x, w, 1, 'same'), reps) : NaN;
  tf.dispose([x, w, dy]);
  return { filterGrad, forward };
}

interface InputGradTimings { ours: number; original: number; forward: number; maxDiff: number }

/**
 * On wasm: the input gradient of conv(x [n,h,h,ci], w [k,k,ci,co], stride, 'same') by the registered
 * kernel (ours) and by wasm's built-in one, called directly; the forward conv for scale; and the
 * largest difference between the two gradients.
 */
async function timeInputGrad(
  n: number, h: number, ci: number, co: number, k: number, stride: number, reps: number,
): Promise<InputGradTimings> {
  const original = originalWasmConv2DBackpropInput();
  if (original == null) throw new Error("wasm's own Conv2DBackpropInput was not replaced.");
  const x = randomTensor([n, h, h, ci]);
  const w = randomTensor([k, k, ci, co]);
  const ho = Math.ceil(h / stride);
  const dy = randomTensor([n, ho, ho, co]);
  const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', inputShape: [n, h, h, ci] };
  const runOurs = (): tf.Tensor => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs) as tf.Tensor;
  const runOriginal = (): tf.Tensor => {
    const out = original.kernelFunc({ inputs: { dy, filter: w }, attrs, backend: tf.backend() });
    if (Array.isArray(out)) throw new Error('Conv2DBackpropInput returned several outputs.');
    return tf.engine().makeTensorFromTensorInfo(out);
  };
  const ours = await medianTensorMs(runOurs, reps);
  const orig = await medianTensorMs(runOriginal, reps);
  const forward = await medianTensorMs(() => tf.conv2d(x, w, stride, 'same'), reps);
  const [a, b] = [runOurs(), runOriginal()];
  const diff = tf.max(tf.abs(tf.sub(a, b)));
  const maxDiff = (await diff.data())[0];
  tf.dispose([x, w, dy, a, b, diff]);
  return { ours, original: orig, forward, maxDiff };
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? '-' : `${ms.toFixed(1)} ms`);

async function main(): Promise<void> {
  const cpuBatch = Number(process.argv[2] ?? 2);
  console.log(`conv x [N,${H},${H},${CI}], filter [${K},${K},${CI},${CO}], stride 1, same`);

  await initNodeBackend('wasm');
  const wasmFull = await timeConvKernels(FULL_BATCH, 5, true);
  const wasmSmall = await timeConvKernels(cpuBatch, 5, false);
  console.log(`wasm N=${FULL_BATCH}: filter grad ${fmt(wasmFull.filterGrad)}, forward conv ${fmt(wasmFull.forward)}`);
  console.log(`wasm N=${cpuBatch}: filter grad ${fmt(wasmSmall.filterGrad)}`);

  console.log('input grad (Conv2DBackpropInput) on wasm, pad same: ours vs built-in vs forward conv');
  // The benchmark shape at strides 1 and 2, then U-Net-like layers (batch 64, 28/14/7, 32/64 channels).
  const layers: [number, number, number, number, number, number][] = [
    [FULL_BATCH, H, CI, CO, K, 1], [FULL_BATCH, H, CI, CO, K, 2],
    [64, 28, 32, 32, 3, 1], [64, 14, 64, 64, 3, 1], [64, 7, 64, 64, 3, 1],
    [64, 28, 32, 64, 3, 2], [64, 14, 64, 64, 3, 2], [64, 28, 32, 64, 1, 1],
  ];
  for (const [n, h, ci, co, k, stride] of layers) {
    const r = await timeInputGrad(n, h, ci, co, k, stride, 5);
    console.log(`  x [${n},${h},${h},${ci}] w [${k},${k},${ci},${co}] stride ${stride}: ours ${fmt(r.ours)}, ` +
      `built-in ${fmt(r.original)} (${(r.original / r.ours).toFixed(1)}x ours), forward ${fmt(r.forward)} ` +
      `(ours ${(r.ours / r.forward).toFixed(1)}x forward); max |ours - built-in| ${r.maxDiff.toExponential(1)}`);
  }

  await initNodeBackend('cpu');
  const cpuSmall = await timeConvKernels(cpuBatch, 1, false);
  console.log(`cpu  N=${cpuBatch}: filter grad ${fmt(cpuSmall.filterGrad)} (one timed run after a warm-up)`);

  const ratio = cpuSmall.filterGrad / wasmSmall.filterGrad;
  const cpuFullEstimate = (cpuSmall.filterGrad * FULL_BATCH) / cpuBatch;
  console.log(`ratio cpu/wasm at N=${cpuBatch}: ${ratio.toFixed(0)}x`);
  console.log(`cpu N=${FULL_BATCH} estimated (linear in N): ${(cpuFullEstimate / 1000).toFixed(1)} s, ` +
    `${(cpuFullEstimate / wasmFull.filterGrad).toFixed(0)}x the wasm time at N=${FULL_BATCH}`);
  console.log(`wasm filter grad / forward conv: ${(wasmFull.filterGrad / wasmFull.forward).toFixed(1)}x`);
}

await main();
