/**
 * Times the conv filter gradient (`Conv2DBackpropFilter`) on wasm (our kernel, see
 * src/engine/wasm-gradients.ts) against the cpu backend's own, and wasm's forward conv and its
 * built-in (naive) `Conv2DBackpropInput` for scale.
 *
 *   npx tsx src/cli/bench-conv-grad.ts [cpuBatch]
 *
 * Shape: x [32,28,28,32], filter [3,3,32,64], stride 1, 'same'. The cpu backend needs minutes for
 * the full batch (MEASURED.md: 137 s), so cpu and wasm are also compared on a batch of `cpuBatch`
 * (default 2); the work is linear in the batch, and the ratio is reported on that shared shape.
 */
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../engine/node-backend';

const H = 28, CI = 32, CO = 64, K = 3, FULL_BATCH = 32;

function randomTensor(shape: [number, number, number, number]): tf.Tensor4D {
  return tf.randomUniform(shape, -0.5, 0.5, 'float32', 7);
}

/** Median wall time in ms of `reps` runs (after one warm-up), reading the result back each time. */
async function timeMs(fn: () => tf.Tensor, reps: number): Promise<number> {
  const warm = fn();
  await warm.data();
  warm.dispose();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn();
    await out.data();
    times.push(performance.now() - t0);
    out.dispose();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface Timings { filterGrad: number; forward: number; inputGrad: number }

/** Times the three convolution kernels for a batch of `n` on the active backend. */
async function timeConvKernels(n: number, reps: number, withExtras: boolean): Promise<Timings> {
  const x = randomTensor([n, H, H, CI]);
  const w = randomTensor([K, K, CI, CO]);
  const dy = randomTensor([n, H, H, CO]);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [K, K, CI, CO] };
  const filterGrad = await timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor, reps);
  const forward = withExtras ? await timeMs(() => tf.conv2d(x, w, 1, 'same'), reps) : NaN;
  const inputGrad = withExtras
    ? await timeMs(() => tf.conv2dTranspose(dy, w, [n, H, H, CI], 1, 'same'), reps)
    : NaN;
  tf.dispose([x, w, dy]);
  return { filterGrad, forward, inputGrad };
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? '-' : `${ms.toFixed(1)} ms`);

async function main(): Promise<void> {
  const cpuBatch = Number(process.argv[2] ?? 2);
  console.log(`conv x [N,${H},${H},${CI}], filter [${K},${K},${CI},${CO}], stride 1, same`);

  await initNodeBackend('wasm');
  const wasmFull = await timeConvKernels(FULL_BATCH, 5, true);
  const wasmSmall = await timeConvKernels(cpuBatch, 5, false);
  console.log(`wasm N=${FULL_BATCH}: filter grad ${fmt(wasmFull.filterGrad)}, forward conv ${fmt(wasmFull.forward)}, ` +
    `built-in input grad (Conv2DBackpropInput) ${fmt(wasmFull.inputGrad)}`);
  console.log(`wasm N=${cpuBatch}: filter grad ${fmt(wasmSmall.filterGrad)}`);

  await initNodeBackend('cpu');
  const cpuSmall = await timeConvKernels(cpuBatch, 1, false);
  console.log(`cpu  N=${cpuBatch}: filter grad ${fmt(cpuSmall.filterGrad)} (one timed run after a warm-up)`);

  const ratio = cpuSmall.filterGrad / wasmSmall.filterGrad;
  const cpuFullEstimate = (cpuSmall.filterGrad * FULL_BATCH) / cpuBatch;
  console.log(`ratio cpu/wasm at N=${cpuBatch}: ${ratio.toFixed(0)}x`);
  console.log(`cpu N=${FULL_BATCH} estimated (linear in N): ${(cpuFullEstimate / 1000).toFixed(1)} s, ` +
    `${(cpuFullEstimate / wasmFull.filterGrad).toFixed(0)}x the wasm time at N=${FULL_BATCH}`);
  console.log(`wasm input grad / forward conv: ${(wasmFull.inputGrad / wasmFull.forward).toFixed(1)}x; ` +
    `filter grad / forward conv: ${(wasmFull.filterGrad / wasmFull.forward).toFixed(1)}x`);
}

await main();
