/** A 'same' conv2d plus bias as one fused op (tf.customGrad) with per-backend gradients. */
import * as tf from '@tensorflow/tfjs';
import { convGradChoice } from './conv-grad-strategy';
import { filterGradByConv, inputGradByConv, tfConvGradOps, type ConvGradGeometry } from './conv-gradients';
import { customOp } from './custom-op';
import { matMulT, sumBatchPositions } from './sums';

/**
 * 'same' conv (kernel [kh,kw,ci,co], stride 1 or 2) plus bias, forward through tf.fused.conv2d's
 * kernel. Backward: a 1x1 stride-1 conv as two plain matMuls; otherwise dW and dx each either by the
 * backend's kernels (on wasm, ours: src/backends/wasm/conv-gradients.ts) or as one forward conv with
 * plain tf ops (./conv-gradients.ts), per {@link convGradChoice}; the bias gradient as a sum over
 * examples and positions. Saves x and the kernel only (tfjs's fused conv also copies its output).
 */
export function conv2dFast(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor, stride: 1 | 2 = 1): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const op = customOp<tf.Tensor4D>(([xIn, wIn, bIn], save) => {
    save([xIn, wIn]);
    const value = tf.fused.conv2d({ x: xIn as tf.Tensor4D, filter: wIn as tf.Tensor4D, bias: bIn, strides: stride, pad: 'same' });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        const [nb, ho, wo] = dy4.shape;
        const dy2 = tf.reshape(dy4, [nb * ho * wo, co]) as tf.Tensor2D;
        const db = sumBatchPositions(dy4);
        if (kh === 1 && kw === 1 && stride === 1) {
          const x2 = tf.reshape(xs, [nb * ho * wo, ci]) as tf.Tensor2D;
          const w2 = tf.reshape(ws, [ci, co]) as tf.Tensor2D;
          const dx = tf.reshape(matMulT(dy2, w2, false, true), xs.shape);
          const dw = tf.reshape(matMulT(x2, dy2, true, false), ws.shape);
          return [dx, dw, db];
        }
        const choice = convGradChoice();
        const { top, left } = tf.backend_util.computeConv2DInfo(xs.shape, ws.shape, stride, 1, 'same').padInfo;
        const g: ConvGradGeometry = { kh, kw, strideH: stride, strideW: stride, top, left };
        const dx = choice.input === 'forward-conv'
          ? inputGradByConv(tfConvGradOps, dy4, ws, xs.shape, g)
          : tf.conv2dTranspose(dy4, ws, xs.shape, stride, 'same');
        const dw = choice.filter === 'forward-conv'
          ? filterGradByConv(tfConvGradOps, xs, dy4, g)
          : tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: dy4 }, {
            strides: stride,
            pad: 'same',
            dataFormat: 'NHWC',
            dimRoundingMode: undefined,
            filterShape: ws.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dx, dw, db];
      },
    };
  });
  return op(x, w, b);
}
