/**
 * What the engine trains and samples: a pixel-space DDPM (a U-Net on 28x28 images) or a latent
 * diffusion model (Rombach et al. 2022: an autoencoder, then a U-Net on its 7x7xC latents).
 * Both expose the same three verbs to the trainer and the sampler: the space the denoiser works
 * in (`sampleShape`), the way into it (`encode`) and the way back to pixels (`decode`).
 */
import * as tf from '@tensorflow/tfjs';
import type { UNet } from './unet';
import type { Autoencoder } from './autoencoder';
import { Ema } from './ema';
import type { ModelKind } from './setup/model-setup';

export interface LatentNormalization {
  /** z = (encoder mean − shift) · scale has zero mean and unit variance over the training data. */
  shift: number;
  scale: number;
}

export class DiffusionModel {
  /** EMA of the denoiser's weights (used for sampling), or null when EMA is off. */
  ema: Ema | null = null;
  /** Latent normalization, measured from data after the autoencoder is trained (latent only). */
  latent: LatentNormalization | null = null;

  constructor(
    readonly kind: ModelKind,
    readonly denoiser: UNet,
    readonly autoencoder: Autoencoder | null,
  ) {
    if ((kind === 'latent') !== (autoencoder != null)) throw new Error('a latent model needs an autoencoder, a pixel model none');
  }

  /** Shape of n samples in the space the denoiser works in: [n,28,28,1] or [n,7,7,C]. */
  sampleShape(n: number): [number, number, number, number] {
    const { imageSize, imageChannels } = this.denoiser.config;
    return [n, imageSize, imageSize, imageChannels];
  }

  /** Images [b,28,28,1] in [-1, 1] → the denoiser's x0 (pixels themselves, or normalized latent means). */
  encode(images: tf.Tensor4D): tf.Tensor4D {
    if (this.autoencoder == null) return images.clone();
    const { shift, scale } = this.requireLatent();
    const ae = this.autoencoder;
    return tf.tidy(() => {
      const { mean, logvar } = ae.encode(images);
      logvar?.dispose();
      return tf.mul(tf.sub(mean, shift), scale) as tf.Tensor4D;
    });
  }

  /** The denoiser's space → images [b,28,28,1], clipped to [-1, 1]. */
  decode(x: tf.Tensor4D): tf.Tensor4D {
    if (this.autoencoder == null) return tf.clipByValue(x, -1, 1);
    const { shift, scale } = this.requireLatent();
    const ae = this.autoencoder;
    return tf.tidy(() => tf.clipByValue(ae.decode(tf.add(tf.div(x, scale), shift) as tf.Tensor4D), -1, 1));
  }

  enableEma(decay: number): void {
    this.ema?.dispose();
    // Warm-up (decay_t = min(decay, (1+t)/(10+t))) so that a short run's EMA is not mostly the initial weights.
    this.ema = decay > 0 ? new Ema(this.denoiser.weights, decay, { warmup: true }) : null;
  }

  private requireLatent(): LatentNormalization {
    if (this.latent == null) throw new Error('The autoencoder is not trained yet: train stage 1 (autoencoder) first.');
    return this.latent;
  }

  dispose(): void {
    this.ema?.dispose();
    this.ema = null;
    this.denoiser.dispose();
    this.autoencoder?.dispose();
  }
}
