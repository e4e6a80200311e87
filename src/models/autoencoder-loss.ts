/**
 * Training objective of the autoencoder (stage 1 of latent diffusion) and the latent scale factor.
 *
 * Loss = MSE(x̂, x) (mean over pixels) + klWeight · KL(q(z|x) || N(0, I)) (mean over latent elements),
 * with x̂ = decode(mean + σ·noise). MSE, where Rombach et al. use L1 plus a perceptual (LPIPS) and
 * an adversarial loss: at 28x28 grey digits plain MSE is enough, and it is the held-out metric the
 * tests report.
 *
 * Latent scale: Stable Diffusion multiplies latents by 0.18215 ≈ 1/std(z) measured over a data
 * batch, so the diffusion model sees unit-variance latents. {@link measureLatentScale} measures
 * the same for this model: 1 / std of the encoder's means over all elements of a batch.
 * measureLatentMoments also gives their mean, which is not zero.
 */
import * as tf from '@tensorflow/tfjs';
import type { Autoencoder } from './autoencoder';

export interface AutoencoderLossTerms {
  /** reconstruction + klWeight · kl. */
  total: tf.Scalar;
  /** Mean squared error per pixel between decode(z) and x. */
  reconstruction: tf.Scalar;
  /** KL(q(z|x) || N(0,I)) per latent element: mean of ½(μ² + σ² − 1 − log σ²); 0 for a plain autoencoder. */
  kl: tf.Scalar;
}

/**
 * The loss terms for images x [b,28,28,1] in [-1,1]. `noise` ~ N(0,I) of the latent's shape
 * [b,7,7,C] draws z from q(z|x); pass null (or use a plain autoencoder) to decode the mean.
 * Returns three scalars and leaves no other tensor.
 */
export function autoencoderLoss(
  ae: Autoencoder,
  x: tf.Tensor4D,
  noise: tf.Tensor4D | null,
  klWeight: number,
): AutoencoderLossTerms {
  return tf.tidy(() => {
    const { mean, logvar } = ae.encode(x);
    const z = logvar != null && noise != null ? ae.sample(mean, logvar, noise) : mean;
    const reconstruction = tf.mean(tf.squaredDifference(ae.decode(z), x)) as tf.Scalar;
    const kl =
      logvar == null
        ? tf.scalar(0)
        : (tf.mul(0.5, tf.mean(tf.sub(tf.add(tf.square(mean), tf.exp(logvar)), tf.add(1, logvar)))) as tf.Scalar);
    const total = (klWeight > 0 ? tf.add(reconstruction, tf.mul(klWeight, kl)) : tf.clone(reconstruction)) as tf.Scalar;
    return { total, reconstruction, kl };
  });
}

/**
 * One optimiser step on `autoencoderLoss` over every weight of `ae`. Returns the loss terms
 * (computed before the update) as scalars the caller disposes; leaves nothing else.
 */
export function autoencoderTrainStep(
  ae: Autoencoder,
  optimizer: tf.Optimizer,
  x: tf.Tensor4D,
  noise: tf.Tensor4D | null,
  klWeight: number,
): AutoencoderLossTerms {
  const vars = [...ae.weights.values()];
  let reconstruction: tf.Scalar | null = null;
  let kl: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const terms = autoencoderLoss(ae, x, noise, klWeight);
    reconstruction = tf.keep(terms.reconstruction);
    kl = tf.keep(terms.kl);
    return terms.total;
  }, vars);
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return { total: value, reconstruction: reconstruction as unknown as tf.Scalar, kl: kl as unknown as tf.Scalar };
}

/**
 * Mean and (population) std over every element of the encoder's latent means for `images`
 * [n,28,28,1], encoded in chunks of `chunk` images. Async: reads back two numbers without
 * blocking WebGPU.
 */
export async function measureLatentMoments(
  ae: Autoencoder,
  images: tf.Tensor4D,
  chunk = 128,
): Promise<{ mean: number; std: number }> {
  const n = images.shape[0];
  if (n < 1) throw new Error('measureLatentScale: needs at least one image.');
  const stats = tf.tidy(() => {
    const means: tf.Tensor[] = [];
    for (let start = 0; start < n; start += chunk) {
      const part = tf.slice(images, [start, 0, 0, 0], [Math.min(chunk, n - start), -1, -1, -1]);
      const { mean, logvar } = ae.encode(part);
      means.push(tf.reshape(mean, [-1]));
      tf.dispose([part, mean, ...(logvar ? [logvar] : [])]);
    }
    const { mean, variance } = tf.moments(tf.concat(means));
    return tf.stack([mean, variance]);
  });
  const [mean, variance] = await stats.data();
  stats.dispose();
  return { mean, std: Math.sqrt(Math.max(0, variance)) };
}

/**
 * The latent scale factor: 1 / std of the encoder's latent means over every element of `images`
 * [n,28,28,1] (see {@link measureLatentMoments}); multiply latents by it to give them unit
 * variance, as Stable Diffusion's 0.18215 was measured (`1 / z.flatten().std()` over a batch).
 * The latents are not centred: their mean, times this factor, is typically a few tenths here.
 */
export async function measureLatentScale(ae: Autoencoder, images: tf.Tensor4D, chunk = 128): Promise<number> {
  const { std } = await measureLatentMoments(ae, images, chunk);
  if (!(std > 0)) throw new Error('measureLatentScale: the latents have zero variance.');
  return 1 / std;
}
