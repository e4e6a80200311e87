/**
 * The latent denoiser's design, measured (issue 19): for each candidate (the latent presets and a few
 * layouts around them) its parameters, MFLOP per step, kernels per forward pass, and the time of one
 * denoising step (a forward pass, class-conditional) at the Node sampling batch on wasm, with the
 * one-kernel inference GroupNorm (src/kernels/group-norm-inference.ts) on and off, alternating in one
 * process; the pixel model it is compared with and the ae-small decoder for scale. Medians of `reps`.
 *
 *   npm run bench:latent-designs -- [--batch 8] [--reps 15] [--threads 1] [--json out.json]
 *
 * Quality is not measured here: a candidate is pretrained (`npm run pretrain -- --jobs latent
 * --latent-denoiser P --autoencoder-from public/models/latent --out DIR --state DIR/state`) and scored
 * by `npm run eval -- --model latent --model-dir DIR/latent` (README, "LDM against pixel DDPM").
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { latentUNetConfig, LATENT_UNET_CONFIGS, UNET_CONFIGS, unetStats, type UNetConfig } from '../models/setup/unet-config';
import { createUNet } from '../models/unet';
import { AUTOENCODER_CONFIGS, autoencoderLayout } from '../models/setup/autoencoder-config';
import { createAutoencoder } from '../models/autoencoder';
import { setGroupNormKernel } from '../kernels/group-norm-inference';
import { median } from '../eval/stats';
import { parseArgs } from './args';
import { medianTensorMs, tensorMs } from './timing';

interface Row {
  design: string;
  params: number;
  mflop: number;
  kernels: { fused: number; plain: number };
  ms: { fused: number; plain: number };
}

const LATENT = (preset: keyof typeof LATENT_UNET_CONFIGS, over: Partial<UNetConfig> = {}): UNetConfig => ({ ...latentUNetConfig(preset, 4), ...over });

/** The candidates: the presets, and single-level (7x7 only) layouts that skip the 4x4 level. */
const CANDIDATES: Record<string, UNetConfig> = {
  'latent-tiny': LATENT('latent-tiny'),
  'latent-lite (24 ch, 7→4, 1 block)': LATENT('latent-lite'),
  'latent-mid (32 ch, 7→4, 1 block)': LATENT('latent-mid'),
  'latent-small (32 ch, 7→4, 2 blocks)': LATENT('latent-small'),
  '7x7 only, 32 ch, 1 block': LATENT('latent-mid', { channelMult: [1], attentionHeads: 1 }),
  '7x7 only, 48 ch, 1 block': LATENT('latent-mid', { channelMult: [1], baseChannels: 48, attentionHeads: 2 }),
  'pixel small (28x28, the comparison)': UNET_CONFIGS.small,
};

async function kernelCount(f: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(() => f());
  tf.dispose(info.result as tf.Tensor);
  return info.kernels.filter((k) => k.name !== 'unnamed scope' && !k.name.endsWith('__op')).length;
}

async function measure(design: string, config: UNetConfig, batch: number, reps: number): Promise<Row> {
  const model = createUNet(config, 1);
  const { imageSize: s, imageChannels: c } = config;
  const x = tf.randomNormal([batch, s, s, c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const t = tf.fill([batch], 500) as tf.Tensor1D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  const step = () => model.apply(x, t, { labels });
  const times = { fused: [] as number[], plain: [] as number[] };
  const kernels = { fused: 0, plain: 0 };
  try {
    for (const mode of ['fused', 'plain'] as const) {
      setGroupNormKernel(mode === 'fused');
      kernels[mode] = await kernelCount(step);
      await tensorMs(step); // warm-up
    }
    for (let r = 0; r < reps; r++) {
      for (const mode of r % 2 === 0 ? (['fused', 'plain'] as const) : (['plain', 'fused'] as const)) {
        setGroupNormKernel(mode === 'fused');
        times[mode].push(await tensorMs(step));
      }
    }
  } finally {
    setGroupNormKernel(true);
    tf.dispose([x, t, labels]);
    model.dispose();
  }
  const { paramCount, flopsPerImage } = unetStats(config);
  return { design, params: paramCount, mflop: flopsPerImage / 1e6, kernels, ms: { fused: median(times.fused), plain: median(times.plain) } };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { batch: 8, reps: 15, threads: 1, json: '' });
  await initNodeBackend('wasm', { threads: args.threads });
  const rows: Row[] = [];
  for (const [design, config] of Object.entries(CANDIDATES)) {
    rows.push(await measure(design, config, args.batch, args.reps));
    process.stderr.write(`measured ${design}\n`);
  }
  // The decoder, once per image at the end of a run: ae-small at the same batch.
  const ae = createAutoencoder(AUTOENCODER_CONFIGS['ae-small'], 1);
  const z = tf.randomNormal([args.batch, 7, 7, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
  const decodeMs = await medianTensorMs(() => ae.decode(z), args.reps);
  const decoderMflop = autoencoderLayout(AUTOENCODER_CONFIGS['ae-small']).decoderFlops / 1e6;
  tf.dispose(z);
  ae.dispose();

  console.log(`Latent denoiser designs: one step (forward pass, class-conditional) at batch ${args.batch}, Node wasm ${args.threads} thread(s), medians of ${args.reps}`);
  console.log('| design | parameters | MFLOP per image-step | kernels (one-kernel GroupNorm / plain) | ms per step, one-kernel GroupNorm | plain | speed-up |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.design} | ${r.params.toLocaleString('en-US')} | ${r.mflop.toFixed(1)} | ${r.kernels.fused} / ${r.kernels.plain} | ${r.ms.fused.toFixed(2)} | ${r.ms.plain.toFixed(2)} | ${(r.ms.plain / r.ms.fused).toFixed(2)}× |`);
  }
  console.log(`ae-small decoder (${decoderMflop.toFixed(1)} MFLOP per image): ${decodeMs.toFixed(2)} ms for the batch of ${args.batch}, once per run`);
  const pixel = rows.at(-1)!;
  for (const r of rows.slice(0, -1)) {
    const per20 = (ms: number) => 20 * ms + decodeMs;
    console.log(`${r.design}: DDIM-20 from these figures ${(20 * pixel.ms.fused / per20(r.ms.fused)).toFixed(2)}× faster than pixel small (denoiser ${(20 * r.ms.fused).toFixed(0)} ms + decoder ${decodeMs.toFixed(0)} ms per batch)`);
  }
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ batch: args.batch, threads: args.threads, reps: args.reps, rows, decodeMs, decoderMflop }, null, 2)}\n`);
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

void main();
