/**
 * Trains an autoencoder preset on MNIST in Node on the wasm backend and reports speed and quality:
 * train-step time, held-out reconstruction MSE against the MSE of predicting the mean training
 * image, and the latent scale factor.
 *
 *   npx tsx src/cli/bench-autoencoder.ts [preset=ae-small] [steps=200] [batch=32] [lr=2e-3] [klWeight=preset] [--attention]
 *
 * `--attention`: self-attention in the 7x7 middle of encoder and decoder (the article's §7.1). At the
 * end it also times decoding a batch of 4 latents (what the page's sampling decodes), wall and CPU.
 *
 * Not a test; numbers vary with the machine: quote ratios from one run (README, "Benchmarks").
 */
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { median } from '../eval/stats';
import { createBatchProvider } from '../data/batches';
import { loadMnistNode } from '../data/load-node';
import { imagesToUnit, splitTrainHeldOut } from '../data/mnist';
import { AUTOENCODER_CONFIGS, autoencoderStats, type AutoencoderPreset } from '../models/setup/autoencoder-config';
import { createAutoencoder, type Autoencoder } from '../models/autoencoder';
import { autoencoderTrainStep, measureLatentScale } from '../models/autoencoder-loss';

/** Mean squared reconstruction error (decoding the posterior mean) over `x`, in chunks. */
async function heldOutMse(ae: Autoencoder, x: tf.Tensor4D): Promise<number> {
  const err = tf.tidy(() => {
    const { mean, logvar } = ae.encode(x);
    logvar?.dispose();
    return tf.mean(tf.squaredDifference(ae.decode(mean), x));
  });
  const [v] = await err.data();
  err.dispose();
  return v;
}

/** Median wall and CPU ms of decoding a batch of 4 latents, over 7 runs after a warm-up. */
function decodeTiming(ae: Autoencoder, channels: number): { wallMs: number; cpuMs: number } {
  const z = tf.randomNormal([4, 7, 7, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 8; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const x = ae.decode(z);
    x.dataSync();
    x.dispose();
    const c = process.cpuUsage(c0);
    if (i > 0) {
      wall.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  z.dispose();
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const preset = (args[0] ?? 'ae-small') as AutoencoderPreset;
  const steps = Number(args[1] ?? 200);
  const batch = Number(args[2] ?? 32);
  const lr = Number(args[3] ?? 2e-3);
  const base = AUTOENCODER_CONFIGS[preset];
  const attention = process.argv.includes('--attention');
  const config = { ...base, klWeight: args[4] != null ? Number(args[4]) : base.klWeight, ...(attention ? { attention: true } : {}) };
  await initNodeBackend('wasm');
  const data = await loadMnistNode();
  const split = splitTrainHeldOut(data);
  const provider = createBatchProvider(data, split.train, batch, 1);
  const held = tf.tensor4d(imagesToUnit(data, split.heldOut.slice(0, 500)), [500, 28, 28, 1]);
  const trainSample = tf.tensor4d(imagesToUnit(data, split.train.slice(0, 2000)), [2000, 28, 28, 1]);
  const meanImage = tf.mean(trainSample, 0, true);
  const baseline = tf.mean(tf.squaredDifference(held, meanImage)).dataSync()[0];

  const stats = autoencoderStats(config);
  console.log(
    `${preset}${attention ? ' + attention' : ''} params ${stats.paramCount}, encoder ${(stats.encoderFlops / 1e6).toFixed(2)} MFLOP/img, ` +
      `decoder ${(stats.decoderFlops / 1e6).toFixed(2)} MFLOP/img, klWeight ${config.klWeight}, batch ${batch}, lr ${lr}`,
  );
  console.log(`held-out MSE of the mean training image: ${baseline.toFixed(4)}`);
  const ae = createAutoencoder(config, 0);
  const opt = tf.train.adam(lr);
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) {
    const b = provider.next();
    const x = tf.tensor4d(b.x, [batch, 28, 28, 1]);
    const noise = tf.randomNormal([batch, 7, 7, config.latentChannels], 0, 1, 'float32', s) as tf.Tensor4D;
    const terms = autoencoderTrainStep(ae, opt, x, noise, config.klWeight);
    if (s % 25 === 0 || s === steps) {
      const [total, rec, kl] = await Promise.all([terms.total.data(), terms.reconstruction.data(), terms.kl.data()]);
      const mse = await heldOutMse(ae, held);
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `step ${s} ${secs.toFixed(1)} s (${((secs * 1000) / s).toFixed(0)} ms/step): train total ${total[0].toFixed(4)} ` +
          `rec ${rec[0].toFixed(4)} kl ${kl[0].toFixed(2)}; held-out MSE ${mse.toFixed(4)} (${((100 * mse) / baseline).toFixed(1)}% of baseline)`,
      );
    }
    tf.dispose([x, noise, terms.total, terms.reconstruction, terms.kl]);
  }
  const scale = await measureLatentScale(ae, trainSample.slice(0, 512) as tf.Tensor4D);
  const z = tf.tidy(() => {
    const { mean, logvar } = ae.encode(held);
    logvar?.dispose();
    return tf.mul(mean, scale);
  });
  const timing = decodeTiming(ae, config.latentChannels);
  console.log(`decode 4 latents: ${timing.wallMs.toFixed(1)} ms wall, ${timing.cpuMs.toFixed(1)} ms CPU (median of 7)`);
  const { mean: zm, variance } = tf.moments(z);
  console.log(
    `latent scale ${scale.toFixed(4)}; scaled held-out latents mean ${zm.dataSync()[0].toFixed(3)} std ${Math.sqrt(variance.dataSync()[0]).toFixed(3)}; tensors ${tf.memory().numTensors}`,
  );
  tf.dispose([z, zm, variance, held, trainSample, meanImage]);
  opt.dispose();
  ae.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
