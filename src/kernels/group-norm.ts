/** GroupNorm with an analytic gradient as one fused op (tf.customGrad). */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op';
import { sumPositions } from './sums';

/**
 * GroupNorm over NHWC x [b,h,w,c] with `groups` groups of c/groups channels, γ and β [c].
 *
 * Forward: per-channel sums of x and x² over positions ({@link sumPositions}), group statistics on
 * [b, g, c/g] (tiny), then y = x·A + B with A = γ/σ and B = β − μ·A per example and channel: three
 * full-size ops (x², ·A, +B). The variance is E[x²] − μ² (one pass), clamped at 0.
 *
 * Backward (x̂ = (x − μ)/σ, dx̂ = dy·γ, means over the n = h·w·c/g values of a group):
 *   dx = (1/σ)(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) = A·dy + C·x + D,
 *   with C = −m₂/σ², D = −m₁/σ − C·μ, m₁ = mean(dx̂), m₂ = mean(dx̂·x̂), both from the per-channel
 *   sums Σdy and Σdy·x; dγ = Σ_b (Σdy·x − μΣdy)/σ, dβ = Σ_b Σdy.
 *   Five full-size ops (dy·x, A·dy, C·x, +, +D).
 */
export function groupNormFast(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps = 1e-5): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const cg = c / groups;
  const n = h * w * cg;
  const perChannel = (t: tf.Tensor) => tf.reshape(t, [b, 1, 1, c]);
  const op = customOp<tf.Tensor4D>(([xIn, gammaIn, betaIn], save) => {
    const x4 = xIn as tf.Tensor4D;
    const s1 = tf.reshape(sumPositions(x4), [b, groups, cg]);
    const s2 = tf.reshape(sumPositions(tf.square(x4)), [b, groups, cg]);
    const mean = tf.div(tf.sum(s1, 2, true), n); // [b,g,1]
    const variance = tf.relu(tf.sub(tf.div(tf.sum(s2, 2, true), n), tf.square(mean)));
    const rstd = tf.rsqrt(tf.add(variance, eps)); // [b,g,1]
    const gammaG = tf.reshape(gammaIn, [1, groups, cg]);
    const a = tf.mul(rstd, gammaG); // [b,g,cg]
    const shift = tf.sub(tf.reshape(betaIn, [1, groups, cg]), tf.mul(mean, a));
    const y = tf.add(tf.mul(x4, perChannel(a)), perChannel(shift)) as tf.Tensor4D;
    save([x4, mean, rstd, gammaG]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, r, gG] = saved as [tf.Tensor4D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dy4 = dy as tf.Tensor4D;
        const sdy = tf.reshape(sumPositions(dy4), [b, groups, cg]); // Σ dy
        const sdyx = tf.reshape(sumPositions(tf.mul(dy4, xs)), [b, groups, cg]); // Σ dy·x
        const centred = tf.sub(sdyx, tf.mul(mu, sdy)); // Σ dy·(x − μ)
        const dBeta = tf.reshape(tf.sum(sdy, 0), [c]);
        const dGamma = tf.reshape(tf.sum(tf.mul(r, centred), 0), [c]);
        const m1 = tf.div(tf.sum(tf.mul(gG, sdy), 2, true), n); // mean(dx̂)      [b,g,1]
        const m2 = tf.div(tf.sum(tf.mul(tf.mul(gG, r), centred), 2, true), n); // mean(dx̂·x̂) [b,g,1]
        const coefC = tf.neg(tf.mul(tf.square(r), m2));
        const coefD = tf.sub(tf.neg(tf.mul(r, m1)), tf.mul(coefC, mu));
        const ones = tf.ones([1, 1, cg]);
        const aC = perChannel(tf.mul(r, gG));
        const cC = perChannel(tf.mul(coefC, ones));
        const dC = perChannel(tf.mul(coefD, ones));
        const dx = tf.add(tf.add(tf.mul(dy4, aC), tf.mul(xs, cC)), dC);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}
