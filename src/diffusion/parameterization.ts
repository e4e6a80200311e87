/**
 * Every conversion among the three things a network may predict — the noise ε, the clean sample x0
 * and the velocity v — lives here, for one noise level ᾱ_t. With x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε
 * (Ho et al. 2020, Eq. 4) and v ≡ √ᾱ_t·ε − √(1−ᾱ_t)·x0 (Salimans & Ho 2022, §4 and Appendix D,
 * with α_t = √ᾱ_t and σ_t = √(1−ᾱ_t)), any one of (x0, ε, v) together with x_t gives the others.
 *
 * `alphaBar` is ᾱ_t either as a number (one t for the whole batch; the square roots are then taken
 * in float64) or as a tensor broadcastable against the data, e.g. [n,1,1,1] (one t per item;
 * float32). Every function returns a new tensor that the caller owns and disposes nothing it is given.
 */
import * as tf from '@tensorflow/tfjs';
import type { PredictionType } from './config';

export type AlphaBar = number | tf.Tensor;

/** √ᾱ and √(1−ᾱ), as numbers (float64) or as tensors. Call inside a tf.tidy. */
function roots(alphaBar: AlphaBar): { sa: number | tf.Tensor; so: number | tf.Tensor } {
  if (typeof alphaBar === 'number') return { sa: Math.sqrt(alphaBar), so: Math.sqrt(1 - alphaBar) };
  return { sa: tf.sqrt(alphaBar), so: tf.sqrt(tf.sub(1, alphaBar)) };
}

/** x0 = (x_t − √(1−ᾱ_t)·ε) / √ᾱ_t (Ho et al. 2020, Eq. 15). */
export function predictX0FromEps<R extends tf.Rank>(xt: tf.Tensor<R>, eps: tf.Tensor<R>, alphaBar: AlphaBar): tf.Tensor<R> {
  return tf.tidy(() => {
    const { sa, so } = roots(alphaBar);
    return tf.div(tf.sub(xt, tf.mul(eps, so)), sa) as tf.Tensor<R>;
  });
}

/** ε = (x_t − √ᾱ_t·x0) / √(1−ᾱ_t) (Ho et al. 2020, Eq. 4 solved for ε; Song et al. 2021, Eq. 12's ε_θ). */
export function predictEpsFromX0<R extends tf.Rank>(xt: tf.Tensor<R>, x0: tf.Tensor<R>, alphaBar: AlphaBar): tf.Tensor<R> {
  return tf.tidy(() => {
    const { sa, so } = roots(alphaBar);
    return tf.div(tf.sub(xt, tf.mul(x0, sa)), so) as tf.Tensor<R>;
  });
}

/** v = √ᾱ_t·ε − √(1−ᾱ_t)·x0 (Salimans & Ho 2022, §4: v ≡ α_t ε − σ_t x). */
export function vFromX0Eps<R extends tf.Rank>(x0: tf.Tensor<R>, eps: tf.Tensor<R>, alphaBar: AlphaBar): tf.Tensor<R> {
  return tf.tidy(() => {
    const { sa, so } = roots(alphaBar);
    return tf.sub(tf.mul(eps, sa), tf.mul(x0, so)) as tf.Tensor<R>;
  });
}

/** x0 = √ᾱ_t·x_t − √(1−ᾱ_t)·v (Salimans & Ho 2022, §4: x̂ = α_t z_t − σ_t v̂). */
export function predictX0FromV<R extends tf.Rank>(xt: tf.Tensor<R>, v: tf.Tensor<R>, alphaBar: AlphaBar): tf.Tensor<R> {
  return tf.tidy(() => {
    const { sa, so } = roots(alphaBar);
    return tf.sub(tf.mul(xt, sa), tf.mul(v, so)) as tf.Tensor<R>;
  });
}

/** ε = √(1−ᾱ_t)·x_t + √ᾱ_t·v (Salimans & Ho 2022, Appendix D: ε̂ = σ_t z_t + α_t v̂). */
export function predictEpsFromV<R extends tf.Rank>(xt: tf.Tensor<R>, v: tf.Tensor<R>, alphaBar: AlphaBar): tf.Tensor<R> {
  return tf.tidy(() => {
    const { sa, so } = roots(alphaBar);
    return tf.add(tf.mul(xt, so), tf.mul(v, sa)) as tf.Tensor<R>;
  });
}

/**
 * Reads a raw model output of the given parameterization as the pair (x0, ε) at noise level ᾱ_t.
 * Both results are new tensors (a clone where the output already is one of them).
 */
export function toX0AndEps<R extends tf.Rank>(
  prediction: PredictionType,
  modelOutput: tf.Tensor<R>,
  xt: tf.Tensor<R>,
  alphaBar: AlphaBar,
): { x0: tf.Tensor<R>; eps: tf.Tensor<R> } {
  switch (prediction) {
    case 'epsilon':
      return { x0: predictX0FromEps(xt, modelOutput, alphaBar), eps: modelOutput.clone() };
    case 'x0':
      return { x0: modelOutput.clone(), eps: predictEpsFromX0(xt, modelOutput, alphaBar) };
    case 'v':
      return { x0: predictX0FromV(xt, modelOutput, alphaBar), eps: predictEpsFromV(xt, modelOutput, alphaBar) };
    default:
      throw new Error(`prediction must be one of epsilon, x0, v, got ${String(prediction)}.`);
  }
}

/**
 * The regression target for a parameterization: ε (Ho et al. 2020, Eq. 14), x0, or
 * v = √ᾱ_t·ε − √(1−ᾱ_t)·x0 (Salimans & Ho 2022, §4). A new tensor.
 */
export function targetFor<R extends tf.Rank>(
  prediction: PredictionType,
  x0: tf.Tensor<R>,
  eps: tf.Tensor<R>,
  alphaBar: AlphaBar,
): tf.Tensor<R> {
  switch (prediction) {
    case 'epsilon':
      return eps.clone();
    case 'x0':
      return x0.clone();
    case 'v':
      return vFromX0Eps(x0, eps, alphaBar);
    default:
      throw new Error(`prediction must be one of epsilon, x0, v, got ${String(prediction)}.`);
  }
}
