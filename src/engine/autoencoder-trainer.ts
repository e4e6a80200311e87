/**
 * Stage 1 of latent diffusion (Rombach et al. 2022): train the autoencoder alone with Adam on
 * reconstruction MSE + a small KL term, then measure the latent normalization the denoiser trains on.
 */
import * as tf from '@tensorflow/tfjs';
import { autoencoderTrainStep, measureLatentMoments } from '../models/autoencoder-loss';
import type { Autoencoder } from '../models/autoencoder';
import { deriveSeed } from '../data/random';
import type { LatentNormalization } from '../models/diffusion-model';

export class AutoencoderTrainer {
  readonly optimizer: tf.Optimizer;
  step = 0;

  constructor(
    private readonly ae: Autoencoder,
    private readonly options: { learningRate: number; seed: number },
  ) {
    this.optimizer = tf.train.adam(options.learningRate);
  }

  /** One Adam step on a batch of images in [-1, 1]; returns the total loss (caller disposes). */
  trainStep(images: Float32Array, shape: [number, number, number, number]): { loss: tf.Scalar } {
    const { klWeight } = this.ae.config;
    const step = this.step;
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(images, shape);
      const latentShape: [number, number, number, number] = [shape[0], this.ae.latentSize, this.ae.latentSize, this.ae.config.latentChannels];
      const noise = klWeight > 0 ? (tf.randomNormal(latentShape, 0, 1, 'float32', deriveSeed(deriveSeed(this.options.seed, 13), step)) as tf.Tensor4D) : null;
      const terms = autoencoderTrainStep(this.ae, this.optimizer, x, noise, klWeight);
      terms.reconstruction.dispose();
      terms.kl.dispose();
      return terms.total;
    });
    this.step += 1;
    return { loss };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Shift and scale that give the encoder's latent means zero mean and unit variance over `images`. */
export async function measureLatentNormalization(ae: Autoencoder, images: Float32Array, count: number): Promise<LatentNormalization> {
  const x = tf.tensor4d(images, [count, 28, 28, 1]);
  try {
    const { mean, std } = await measureLatentMoments(ae, x, 64);
    if (!(std > 0) || !Number.isFinite(std)) throw new Error(`The autoencoder's latents have std ${std}: train it longer.`);
    return { shift: mean, scale: 1 / std };
  } finally {
    x.dispose();
  }
}
