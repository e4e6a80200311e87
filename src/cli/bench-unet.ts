/**
 * Rough timing of the pixel U-Net presets in Node on the wasm backend: forward pass and one
 * training step (tf.variableGrads of an MSE loss + Adam) at a fixed batch.
 *
 *   npx tsx src/cli/bench-unet.ts [batch=16] [reps=3] [presets=tiny,small,base]
 *
 * Not a test; numbers vary with the machine (quote ratios, see shared/docs/MEASURED.md).
 */
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../engine/node-backend';
import { UNET_CONFIGS, unetStats, type UNetPreset } from '../models/config';
import { createUNet } from '../models/unet';

async function median(reps: number, f: () => Promise<void>): Promise<number> {
  await f(); // warm-up (kernel setup, first allocations)
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(reps / 2)];
}

async function main(): Promise<void> {
  const batch = Number(process.argv[2] ?? 16);
  const reps = Number(process.argv[3] ?? 3);
  const presets = (process.argv[4] ?? 'tiny,small,base').split(',') as UNetPreset[];
  await initNodeBackend('wasm');
  for (const preset of presets) {
    const config = UNET_CONFIGS[preset];
    const model = createUNet(config, 0);
    const vars = [...model.weights.values()];
    const opt = tf.train.adam(2e-4);
    const x = tf.randomNormal([batch, 28, 28, 1]) as tf.Tensor4D;
    const t = tf.randomUniform([batch], 0, 1000) as tf.Tensor1D;
    const target = tf.randomNormal([batch, 28, 28, 1]);
    const fwd = await median(reps, async () => {
      const y = model.apply(x, t);
      await y.data();
      y.dispose();
    });
    const step = await median(reps, async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(target, model.apply(x, t)) as tf.Scalar, vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        return value;
      });
      await loss.data();
      loss.dispose();
    });
    const { paramCount, flopsPerImage } = unetStats(config);
    const gflops = (flopsPerImage * batch) / (fwd / 1000) / 1e9;
    console.log(
      `${preset.padEnd(5)} params ${paramCount}  ${(flopsPerImage / 1e6).toFixed(1)} MFLOP/img  batch ${batch}: ` +
        `forward ${fwd.toFixed(0)} ms (${gflops.toFixed(1)} GFLOP/s), train step ${step.toFixed(0)} ms`,
    );
    tf.dispose([x, t, target]);
    opt.dispose();
    model.dispose();
  }
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

void main();
