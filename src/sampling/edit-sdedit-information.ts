/**
 * How much of an input's class survives SDEdit's noising (issue 21's SDEdit target), measured at
 * the start x_{t0} = √ᾱ·x0 + √(1 − ᾱ)·ε before any reverse step runs:
 *
 * - the model's own first estimate x̂0(x_{t0}) (Tweedie's formula: what one denoising step sees),
 *   as images a classifier can label;
 * - the label the training digits give x_{t0} under the forward process: the Bayes posterior when
 *   the data are the training digits (the empirical distribution), x_{t0} | x_j ~ N(√ᾱ·x_j, (1 − ᾱ)·I),
 *     p(c | x_{t0}) ∝ Σ_{j: label c} exp(−‖x_{t0} − √ᾱ·x_j‖² / (2(1 − ᾱ))),
 *   the most likely class: what a perfect denoiser of the training set would keep (the exact score
 *   of the empirical distribution; Karras et al. 2022, App. B.3 use it the same way).
 */
import type { NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import { unitToPixel } from '../data/mnist';
import type { DiffusionModel } from '../models/diffusion-model';
import { editSteps } from './edit';
import type { EditRequest } from './edit-config';

export interface SdeditStart {
  /** x_{t0} in the denoiser's space, as float32 [n, …]. */
  xt: Float32Array;
  /** The model's x̂0 at t0, decoded to uint8 images [n, 28, 28]. */
  x0Hat: Uint8Array;
}

/** x_{t0} and x̂0(x_{t0}) of an SDEdit request (its first reverse step's input and estimate), with the run's own noise. */
export async function sdeditStartEstimates(model: DiffusionModel, schedule: NoiseSchedule, prediction: PredictionType, request: EditRequest): Promise<SdeditStart> {
  if (request.mode !== 'sdedit' || !(request.strength > 0)) throw new Error('sdeditStartEstimates needs an SDEdit request of strength > 0.');
  for (const step of editSteps(model, schedule, prediction, request)) {
    const xt = (await step.input.data()) as Float32Array;
    const images = model.decode(step.x0);
    try {
      const values = await images.data();
      return { xt: Float32Array.from(xt), x0Hat: Uint8Array.from(values, (v) => unitToPixel(v)) };
    } finally {
      images.dispose();
    }
  }
  throw new Error('sdeditStartEstimates: no reverse step ran.');
}

/**
 * The most likely class of each x_t (float32 [n, d], noise level ᾱ) under the training digits
 * `train` (float32 [m, d] in the denoiser's space) with labels `labels` (module doc).
 */
export function noisedPosteriorLabels(xt: Float32Array, n: number, train: Float32Array, labels: ArrayLike<number>, alphaBar: number, classes = 10): Int32Array {
  const d = xt.length / n;
  const m = train.length / d;
  if (!Number.isInteger(d) || !Number.isInteger(m) || labels.length !== m) throw new Error('noisedPosteriorLabels: shapes do not match.');
  if (!(alphaBar > 0 && alphaBar < 1)) throw new Error(`ᾱ must be in (0, 1), got ${alphaBar}.`);
  const sa = Math.sqrt(alphaBar);
  const scale = 1 / (2 * (1 - alphaBar));
  const out = new Int32Array(n);
  const logw = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const a = i * d;
    let best = -Infinity;
    for (let j = 0; j < m; j++) {
      const b = j * d;
      let s = 0;
      for (let p = 0; p < d; p++) {
        const e = xt[a + p] - sa * train[b + p];
        s += e * e;
      }
      logw[j] = -s * scale;
      if (logw[j] > best) best = logw[j];
    }
    const mass = new Float64Array(classes);
    for (let j = 0; j < m; j++) mass[labels[j]] += Math.exp(logw[j] - best);
    let arg = 0;
    for (let c = 1; c < classes; c++) if (mass[c] > mass[arg]) arg = c;
    out[i] = arg;
  }
  return out;
}
