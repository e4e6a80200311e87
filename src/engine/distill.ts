/**
 * One round of progressive distillation (Salimans & Ho 2022, Algorithm 2; the math is in
 * src/diffusion/progressive-distillation.ts): a student of N steps, initialised from its teacher of
 * 2N steps, learns to land in one DDIM step where the teacher lands in two.
 *
 * Guidance (Meng et al. 2023, "On Distillation of Guided Diffusion Models", stage one folded in):
 * the teacher's output may be the classifier-free guidance combination ε_u + w·(ε_c − ε_u) at a
 * fixed w; the student is then run conditional only (w = 1), so one network pass per step gives
 * the guided teacher's samples. Later rounds distil a student that is already guided at w = 1.
 *
 * The student's parameterization: it reads its network's output as `studentPrediction`, and its
 * loss is on the implied x̂. The paper recommends v or x0 students; its teachers were trained that
 * way. Ours (the pretrained LDM) predicts ε, and a student must start as a copy of its teacher: no v
 * or x0 reading of an ε network equals the teacher at initialisation (v = (ε − σ·z)/α would need a
 * per-t rescaling of the output layer), and re-training the parameterization costs more than the
 * whole distillation budget on this machine. So the CLI's student keeps ε (x̂ = (z − σ·ε̂)/α).
 *
 * The weighting follows from that. The paper's truncated SNR, max(SNR, 1) on ‖x̃ − x̂‖², is in ε-space
 * a weight max(1, 1/SNR), 24,800 at t = 999 of the linear schedule: an ε student's loss is then all
 * the near-noise items, where x̂ barely moves z_t'' (the paper's "ε-prediction breaks" in another
 * form). Measured on the pretrained LDM (8 → 4 steps, 40 steps at batch 32, lr 2e-4), the one-step
 * gap (mean ‖z_t''(student) − z_t''(teacher)‖²) went from 8.70e-3 to 1.02e-2 (worse) with it, and to
 * 7.19e-3 with the 'one-step' weighting, (α_t'' − (σ_t''/σ_t)·α_t)² on ‖x̃ − x̂‖², which is exactly
 * that squared distance. So ε students use 'one-step' and x0 / v students the paper's weighting
 * (`npm run distill -- --weighting auto`); the unit tests train both.
 */
import * as tf from '@tensorflow/tfjs';
import { combineGuidance, toX0AndEps, type NoiseSchedule } from '../diffusion';
import {
  alphaSigma,
  ddimStepFromOutput,
  distillationLossPerItem,
  distillationTarget,
  studentTeacherSteps,
  type DistillationWeighting,
} from '../diffusion/progressive-distillation';
import type { PredictionType } from '../diffusion/config';
import { createRandom, deriveSeed, type RandomState } from '../data/random';
import { nullLabel } from '../models/setup/unet-config';
import { createUNet, type UNet } from '../models/unet';

export interface DistillOptions {
  /** The frozen teacher (never trained here). */
  teacher: UNet;
  teacherPrediction: PredictionType;
  /** The teacher's classifier-free guidance w (1 = conditional only; ignored for unconditional models). */
  teacherGuidance: number;
  /** The student being trained (initialise it from the teacher with {@link copyUNet}). */
  student: UNet;
  studentPrediction: PredictionType;
  schedule: NoiseSchedule;
  /** N, the student's steps; its teacher samples with 2N. */
  studentSteps: number;
  learningRate: number;
  seed: number;
  /** The loss weighting (default 'truncated-snr', the paper's; see progressive-distillation.ts). */
  weighting?: DistillationWeighting;
}

export interface DistillState {
  step: number;
  rng: RandomState;
}

/** A new U-Net holding a copy of `source`'s weights. */
export function copyUNet(source: UNet): UNet {
  const copy = createUNet(source.config, 0);
  for (const [name, v] of copy.weights) v.assign(source.weights.get(name) as tf.Variable);
  return copy;
}

/** A U-Net's raw output at per-item timesteps, guided at w when it is class-conditional and given labels. */
export function guidedOutput(unet: UNet, z: tf.Tensor4D, t: tf.Tensor1D, labels: tf.Tensor1D | null, w: number, training = false): tf.Tensor4D {
  return tf.tidy(() => {
    if (!unet.config.numClasses || labels == null || w === 1) return unet.apply(z, t, { labels: labels ?? undefined, training });
    const nulls = tf.fill([z.shape[0]], nullLabel(unet.config), 'int32') as tf.Tensor1D;
    if (w === 0) return unet.apply(z, t, { labels: nulls, training });
    const n = z.shape[0];
    const both = unet.apply(tf.concat([z, z], 0), tf.concat([t, t], 0), { labels: tf.concat([labels, nulls], 0), training });
    const [cond, uncond] = tf.split(both, [n, n], 0) as [tf.Tensor4D, tf.Tensor4D];
    return combineGuidance(cond, uncond, w);
  });
}

export class Distiller {
  readonly optimizer: tf.AdamOptimizer;
  /** Per student step i: (t, t', t''). */
  readonly steps: { t: number; tMid: number; tNext: number }[];
  step = 0;
  private readonly rng;
  private readonly variables: tf.Variable[];

  constructor(readonly options: DistillOptions) {
    this.steps = studentTeacherSteps(options.schedule.T, options.studentSteps);
    this.optimizer = tf.train.adam(options.learningRate);
    this.rng = createRandom(deriveSeed(options.seed, 71));
    this.variables = [...options.student.weights.values()];
  }

  /** Draws each item's student step uniformly (the paper's t = i/N). */
  drawSteps(n: number): Int32Array {
    return Int32Array.from({ length: n }, () => this.rng.int(this.options.studentSteps));
  }

  /** The teacher's two DDIM steps z_t → z_t' → z_t'' for items at student steps `idx`. */
  teacherTwoSteps(zt: tf.Tensor4D, idx: Int32Array, labels: tf.Tensor1D | null): tf.Tensor4D {
    const { teacher, teacherPrediction, teacherGuidance, schedule } = this.options;
    const pick = (key: 't' | 'tMid' | 'tNext') => Array.from(idx, (i) => this.steps[i][key]);
    return tf.tidy(() => {
      const [t, tMid, tNext] = [pick('t'), pick('tMid'), pick('tNext')];
      const at = alphaSigma(schedule, t);
      const aMid = alphaSigma(schedule, tMid);
      const aNext = alphaSigma(schedule, tNext);
      const out1 = guidedOutput(teacher, zt, tf.tensor1d(t, 'float32'), labels, teacherGuidance);
      const zMid = ddimStepFromOutput(teacherPrediction, out1, zt, at.alphaBar, aMid);
      const out2 = guidedOutput(teacher, zMid, tf.tensor1d(tMid, 'float32'), labels, teacherGuidance);
      return ddimStepFromOutput(teacherPrediction, out2, zMid, aMid.alphaBar, aNext);
    });
  }

  /** The student's one DDIM step z_t → z_t'' (conditional only). */
  studentOneStep(zt: tf.Tensor4D, idx: Int32Array, labels: tf.Tensor1D | null): tf.Tensor4D {
    const { student, studentPrediction, schedule } = this.options;
    return tf.tidy(() => {
      const t = Array.from(idx, (i) => this.steps[i].t);
      const at = alphaSigma(schedule, t);
      const aNext = alphaSigma(schedule, Array.from(idx, (i) => this.steps[i].tNext));
      const out = guidedOutput(student, zt, tf.tensor1d(t, 'float32'), labels, 1);
      return ddimStepFromOutput(studentPrediction, out, zt, at.alphaBar, aNext);
    });
  }

  /** z_t = α_t·x + σ_t·ε for items at student steps `idx`, ε seeded by `noiseSeed`. */
  noised(x0: tf.Tensor4D, idx: Int32Array, noiseSeed: number): tf.Tensor4D {
    return tf.tidy(() => {
      const { alpha, sigma } = alphaSigma(this.options.schedule, Array.from(idx, (i) => this.steps[i].t));
      const eps = tf.randomNormal(x0.shape, 0, 1, 'float32', noiseSeed);
      return tf.add(tf.mul(alpha, x0), tf.mul(sigma, eps)) as tf.Tensor4D;
    });
  }

  /**
   * One optimisation step on clean samples x0 (the denoiser's space; not disposed) and their labels.
   * Returns the batch's mean weighted loss (caller disposes).
   */
  trainStep(x0: tf.Tensor4D, labels: Int32Array | null): tf.Scalar {
    const { student, studentPrediction, schedule, seed } = this.options;
    const n = x0.shape[0];
    const idx = this.drawSteps(n);
    const noiseSeed = deriveSeed(deriveSeed(seed, 72), this.step);
    const loss = tf.tidy(() => {
      const labelTensor = labels ? tf.tensor1d(labels, 'int32') : null;
      const zt = this.noised(x0, idx, noiseSeed);
      const t = Array.from(idx, (i) => this.steps[i].t);
      const at = alphaSigma(schedule, t);
      const aNext = alphaSigma(schedule, Array.from(idx, (i) => this.steps[i].tNext));
      const target = distillationTarget(zt, this.teacherTwoSteps(zt, idx, labelTensor), at, aNext);
      const tTensor = tf.tensor1d(t, 'float32');
      const { value, grads } = tf.variableGrads(() => {
        const out = guidedOutput(student, zt, tTensor, labelTensor, 1, true);
        const { x0: xHat } = toX0AndEps(studentPrediction, out, zt, at.alphaBar);
        return tf.mean(distillationLossPerItem(target, xHat, at, aNext, this.options.weighting)) as tf.Scalar;
      }, this.variables);
      this.optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      return value;
    });
    this.step += 1;
    return loss;
  }

  /**
   * How far the student's one step lands from the teacher's two: mean squared difference of z_t''
   * over fixed items (x0, labels, steps `idx`, noise seed). A number; leaves no tensor behind.
   */
  async oneStepGap(x0: tf.Tensor4D, labels: Int32Array | null, idx: Int32Array, noiseSeed: number): Promise<number> {
    const gap = tf.tidy(() => {
      const labelTensor = labels ? tf.tensor1d(labels, 'int32') : null;
      const zt = this.noised(x0, idx, noiseSeed);
      return tf.mean(tf.square(tf.sub(this.studentOneStep(zt, idx, labelTensor), this.teacherTwoSteps(zt, idx, labelTensor))));
    });
    const value = (await gap.data())[0];
    gap.dispose();
    return value;
  }

  getState(): DistillState {
    return { step: this.step, rng: this.rng.getState() };
  }

  setState(state: DistillState): void {
    this.step = state.step;
    this.rng.setState(state.rng);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
