/**
 * Timing of the pixel U-Net presets in Node on the wasm backend: forward pass and one training step
 * (tf.variableGrads of an MSE loss + Adam), with the fused ops of src/kernels/fast-ops.ts and with the
 * plain formulation (setFastOps(false)), alternating in one process; medians of `reps` runs each.
 *
 *   npx tsx src/cli/bench-unet.ts [batches=16] [reps=3] [presets=tiny,small,base] [--profile] [--fast-only]
 *
 * e.g. `npx tsx src/cli/bench-unet.ts 16,64 3 small,base`. --profile adds, per preset and batch, one
 * profiled training step per mode: kernel time summed by kernel name (tf.profile). --fast-only skips
 * the plain formulation.
 * Not a test; numbers vary with the machine: quote ratios from one run (README, "Benchmarks").
 */
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { UNET_CONFIGS, unetStats, type UNetPreset } from '../models/setup/unet-config';
import { setFastOps } from '../kernels/fast-ops';
import { createUNet, type UNet } from '../models/unet';
import { median } from '../eval/stats';
import { tensorMs } from './timing';

interface Inputs {
  x: tf.Tensor4D;
  t: tf.Tensor1D;
  target: tf.Tensor4D;
}

function trainStep(model: UNet, opt: tf.Optimizer, { x, t, target }: Inputs): tf.Scalar {
  const vars = [...model.weights.values()];
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(target, model.apply(x, t)) as tf.Scalar, vars);
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    return value;
  });
}


/** Kernel time of one profiled training step, summed by kernel name (custom-op scopes, which
 * contain kernels already counted, are left out). */
async function profileStep(label: string, model: UNet, opt: tf.Optimizer, inputs: Inputs): Promise<void> {
  const info = await tf.profile(async () => {
    const loss = trainStep(model, opt, inputs);
    await loss.data();
    loss.dispose();
  });
  const byName = new Map<string, { ms: number; n: number }>();
  let total = 0;
  let count = 0;
  for (const k of info.kernels) {
    if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue; // customGrad scopes
    const ms = k.kernelTimeMs as number;
    const e = byName.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n += 1;
    byName.set(k.name, e);
    total += ms;
    count += 1;
  }
  console.log(`  profile (${label}): ${count} kernels, ${total.toFixed(0)} ms kernel time`);
  for (const [name, e] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
    console.log(`    ${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  x${e.n}`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
  const batches = (args[0] ?? '16').split(',').map(Number);
  const reps = Number(args[1] ?? 3);
  const presets = (args[2] ?? 'tiny,small,base').split(',') as UNetPreset[];
  const modes = flags.has('--fast-only') ? [true] : [false, true];
  await initNodeBackend('wasm');
  for (const preset of presets) {
    for (const batch of batches) {
      const config = UNET_CONFIGS[preset];
      const model = createUNet(config, 0);
      const opt = tf.train.adam(2e-4);
      const inputs: Inputs = {
        x: tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
        t: tf.randomUniform([batch], 0, 1000, 'float32', 2) as tf.Tensor1D,
        target: tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D,
      };
      const fwd = new Map<boolean, number[]>(modes.map((m) => [m, []]));
      const step = new Map<boolean, number[]>(modes.map((m) => [m, []]));
      for (let r = -1; r < reps; r++) {
        // Alternating modes; r = -1 is the warm-up (kernel setup, first allocations), not counted.
        for (const fast of r % 2 === 0 ? modes : [...modes].reverse()) {
          setFastOps(fast);
          const f = await tensorMs(() => model.apply(inputs.x, inputs.t));
          const s = await tensorMs(() => trainStep(model, opt, inputs));
          if (r >= 0) {
            fwd.get(fast)!.push(f);
            step.get(fast)!.push(s);
          }
        }
      }
      const { paramCount, flopsPerImage } = unetStats(config);
      const line = (fast: boolean) => {
        const f = median(fwd.get(fast)!);
        const gflops = (flopsPerImage * batch) / (f / 1000) / 1e9;
        return `forward ${f.toFixed(0).padStart(5)} ms (${gflops.toFixed(1)} GFLOP/s), train step ${median(step.get(fast)!).toFixed(0).padStart(5)} ms`;
      };
      console.log(`${preset} (params ${paramCount}, ${(flopsPerImage / 1e6).toFixed(1)} MFLOP/img), batch ${batch}, medians of ${reps}:`);
      for (const fast of modes) console.log(`  ${fast ? 'fast ops' : 'plain   '}: ${line(fast)}`);
      if (modes.length === 2) {
        const ratio = (m: Map<boolean, number[]>) => (median(m.get(false)!) / median(m.get(true)!)).toFixed(2);
        console.log(`  speed-up : forward ${ratio(fwd)}x, train step ${ratio(step)}x`);
      }
      if (flags.has('--profile')) {
        for (const fast of modes) {
          setFastOps(fast);
          await profileStep(fast ? 'fast ops' : 'plain', model, opt, inputs);
        }
      }
      setFastOps(null);
      tf.dispose([inputs.x, inputs.t, inputs.target]);
      opt.dispose();
      model.dispose();
    }
  }
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

void main();
