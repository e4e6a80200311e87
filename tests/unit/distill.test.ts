/**
 * Progressive distillation (Salimans & Ho 2022): the grids nest, the target x̃ is the x̂ whose one
 * DDIM step lands on the teacher's two (an identity, and with the exact denoiser of a point mass,
 * x̃ is the point itself), the truncated-SNR weight, and two rounds on a tiny U-Net in which the
 * student's one step comes closer to its guided teacher's two, leaving no tensor behind.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { makeSchedule, mixtureDenoiser } from '../../src/diffusion';
import { DEFAULT_SCHEDULE, type PredictionType } from '../../src/diffusion/config';
import {
  CLEAN_T,
  alphaSigma,
  ddimStepFromOutput,
  ddimStepFromX0,
  distillationGrid,
  distillationTarget,
  studentTeacherSteps,
  truncatedSnrWeight,
  type DistillationWeighting,
} from '../../src/diffusion/progressive-distillation';
import { Distiller, copyUNet } from '../../src/engine/distill';
import { createUNet, type UNet } from '../../src/models/unet';
import { latentUNetConfig } from '../../src/models/setup/unet-config';

const schedule = makeSchedule(DEFAULT_SCHEDULE);
const shape: [number, number, number, number] = [24, 7, 7, 4];

async function values(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

describe('progressive distillation: the math', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('lays out nested trailing grids that end at clean data', () => {
    expect(Array.from(distillationGrid(1000, 4))).toEqual([999, 749, 499, 249, CLEAN_T]);
    for (const n of [1, 2, 4, 8, 16, 32]) {
      const steps = studentTeacherSteps(1000, n);
      expect(steps).toHaveLength(n);
      for (const s of steps) expect(s.t > s.tMid && s.tMid > s.tNext).toBe(true);
      expect(steps.at(-1)?.tNext).toBe(CLEAN_T);
    }
  });

  it('x̃ is the x̂ whose one DDIM step lands on the teacher’s z_t″, also when t″ is clean data', async () => {
    for (const [t, tNext] of [[999, 749], [499, 249], [249, CLEAN_T]]) {
      const zt = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
      const zNext = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
      const at = alphaSigma(schedule, Array(shape[0]).fill(t));
      const aNext = alphaSigma(schedule, Array(shape[0]).fill(tNext));
      const target = distillationTarget(zt, zNext, at, aNext);
      const landed = await values(ddimStepFromX0(zt, target, at, aNext));
      expect(maxAbsDiff(landed, await values(zNext.clone()))).toBeLessThan(2e-4);
      tf.dispose([zt, zNext, target, at.alpha, at.sigma, at.alphaBar, aNext.alpha, aNext.sigma, aNext.alphaBar]);
    }
  });

  it('with the exact denoiser of a point mass, two teacher steps give x̃ = the point', async () => {
    const mu = 0.7;
    const exact = mixtureDenoiser([{ weight: 1, mean: mu, std: 0 }], schedule, 'epsilon');
    for (const { t, tMid, tNext } of studentTeacherSteps(1000, 4)) {
      const n = shape[0];
      const [at, aMid, aNext] = [t, tMid, tNext].map((s) => alphaSigma(schedule, Array(n).fill(s)));
      const zt = tf.tidy(() => tf.add(tf.mul(at.alpha, mu), tf.mul(at.sigma, tf.randomNormal(shape, 0, 1, 'float32', 3)))) as tf.Tensor4D;
      const zMid = tf.tidy(() => ddimStepFromOutput('epsilon', exact(zt, t), zt, at.alphaBar, aMid));
      const zNext = tf.tidy(() => ddimStepFromOutput('epsilon', exact(zMid, tMid), zMid, aMid.alphaBar, aNext));
      const target = await values(distillationTarget(zt, zNext, at, aNext));
      expect(maxAbsDiff(target, new Float32Array(target.length).fill(mu))).toBeLessThan(5e-3);
      tf.dispose([zt, zMid, zNext, ...[at, aMid, aNext].flatMap((a) => [a.alpha, a.sigma, a.alphaBar])]);
    }
  });

  it('weights the x-space loss by max(SNR, 1)', async () => {
    const level = alphaSigma(schedule, [0, 249, 499, 999]);
    const w = await values(truncatedSnrWeight(level));
    const snr = [0, 249, 499, 999].map((t) => schedule.alphasCumprod[t] / (1 - schedule.alphasCumprod[t]));
    snr.forEach((s, i) => expect(w[i]).toBeCloseTo(Math.max(s, 1), 2));
    expect(w[3]).toBe(1);
    tf.dispose([level.alpha, level.sigma, level.alphaBar]);
  });
});

/** A tiny class-conditional latent U-Net with every weight random (so its output is far from 0). */
function randomTeacher(): UNet {
  const unet = createUNet(latentUNetConfig('latent-tiny', 4), 5);
  let k = 0;
  for (const v of unet.weights.values()) {
    const r = tf.randomNormal(v.shape, 0, v.shape.length > 1 ? 0.5 / Math.sqrt(v.shape.slice(0, -1).reduce((a, b) => a * b, 1)) : 0.05, 'float32', 100 + k++);
    v.assign(tf.tidy(() => tf.add(v, r)));
    r.dispose();
  }
  return unet;
}

async function round(
  teacher: UNet,
  studentSteps: number,
  guidance: number,
  prediction: PredictionType,
  weighting: DistillationWeighting,
  learningRate: number,
): Promise<{ student: UNet; before: number; after: number; losses: number[] }> {
  const student = copyUNet(teacher);
  const distiller = new Distiller({
    teacher, teacherPrediction: prediction, teacherGuidance: guidance, student, studentPrediction: prediction,
    schedule, studentSteps, learningRate, seed: 9, weighting,
  });
  const labels = Int32Array.from({ length: shape[0] }, (_, i) => i % 10);
  const x0 = tf.tidy(() => tf.tanh(tf.randomNormal(shape, 0, 1, 'float32', 11))) as tf.Tensor4D;
  const probe = tf.tidy(() => tf.tanh(tf.randomNormal(shape, 0, 1, 'float32', 12))) as tf.Tensor4D;
  const idx = Int32Array.from({ length: shape[0] }, (_, i) => i % studentSteps);
  const before = await distiller.oneStepGap(probe, labels, idx, 13);
  const losses: number[] = [];
  for (let s = 0; s < 60; s++) losses.push((await values(distiller.trainStep(x0, labels)))[0]);
  const after = await distiller.oneStepGap(probe, labels, idx, 13);
  distiller.dispose();
  tf.dispose([x0, probe]);
  return { student, before, after, losses };
}

describe('progressive distillation: two rounds on a tiny U-Net', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('ε student, one-step weighting (the CLI\'s recipe): closer to the teacher’s two steps, round after round, leaving no tensor', async () => {
    const teacher = randomTeacher();
    // Round 1: the guided teacher (w = 1.5) of 8 steps → a conditional student of 4.
    const r1 = await round(teacher, 4, 1.5, 'epsilon', 'one-step', 3e-4);
    teacher.dispose();
    const afterRound1 = tf.memory().numTensors;
    expect(r1.after).toBeLessThan(0.75 * r1.before);
    expect(r1.losses.every(Number.isFinite)).toBe(true);
    // Round 2: that student (conditional, w = 1) of 4 steps → 2.
    const r2 = await round(r1.student, 2, 1, 'epsilon', 'one-step', 3e-4);
    r1.student.dispose();
    expect(r2.after).toBeLessThan(0.75 * r2.before);
    expect(tf.memory().numTensors).toBe(afterRound1);
    r2.student.dispose();
  });

  it('v student, the paper’s truncated-SNR weighting: closer to the teacher’s two steps', async () => {
    const teacher = randomTeacher();
    const r = await round(teacher, 4, 1.5, 'v', 'truncated-snr', 1e-3);
    teacher.dispose();
    expect(r.after).toBeLessThan(0.7 * r.before);
    r.student.dispose();
  });
});
