/**
 * Measuring pixel DDPM against LDM (the Compare panel and `npm run bench`): for one model and one
 * sampler case, the wall time per image, the peak tensor memory and the FLOPs per image, and the
 * evaluation classifier's quality figures (confidence, FD with its real-digit floor at the same N).
 *
 * Timing is sampling as a user gets it, not the denoising player's recorded run: one batch is
 * `generateImages` (every reverse step, the decoder for LDM, and one read of the final images back
 * from the device), with no per-step readback. The first batch warms the kernels up (shader
 * compilation on WebGPU) and measures the peak under tf.profile; the timed batches run without the
 * profiler, and the figure is their median.
 *
 * The peak is profiled over the warm-up's first two steps and its last step with the decode, not the
 * whole batch: the steps between hold the same tensors (x_t, and DPM-Solver++'s previous x0 from the
 * second step on), and profiling 1000 steps records every kernel (half a million records: tf.profile
 * then overflows the stack computing the maximum, and timing each kernel slows the run).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SAMPLER, SAMPLER_KINDS, type SamplerKind } from '../diffusion/config';
import type { NoiseSchedule } from '../diffusion';
import type { Classifier } from '../models/classifier';
import type { CompareRow, CompareSettings } from './compare-report';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import type { DiffusionModel } from '../models/diffusion-model';
import { generateImages, type GenerateRequest } from '../sampling/generate';
import { measurePeak } from './peak-memory';
import { median } from './stats';
import { sampleFrames } from '../sampling/sample';
import { setupStats } from '../models/factory';
import { compareToReference, scoreImages, type EvalReference } from './evaluate';

/** A loaded model with what sampling it needs. */
export interface CompareModel {
  kind: ModelKind;
  model: DiffusionModel;
  setup: ModelSetup;
  schedule: NoiseSchedule;
}

/** One sampler case of a comparison. */
export interface CompareCase {
  sampler: SamplerKind;
  steps: number;
}

/** The evaluation's fixed parts: the classifier, the reference features and the held-out real digits. */
export interface QualityContext {
  classifier: Classifier;
  reference: EvalReference;
  /** Held-out real digits (uint8 [n, 28, 28]), the floor's first N. */
  floor: { n: number; pixels: Uint8Array };
  /** FD of the floor by N, filled as needed (it depends only on N). */
  floorFd: Map<number, number>;
}

/** Hooks of a measurement: progress after every reverse step, and a cancel point after every one. */
export interface MeasureHooks {
  onStep?: () => void;
  /**
   * Awaited after every reverse step (timed batches included: a yield costs far less than a step)
   * and between the classifier's batches; throws (e.g. RunCancelled) to stop the measurement.
   */
  stepBoundary?: () => Promise<void>;
}

/** Images per classifier batch while scoring in a comparison: small, so a cancel waits for little. */
export const SCORE_BATCH = 50;

/** Denoiser passes per step: two with classifier-free guidance (w ∉ {0, 1}) on a conditional model. */
export function passesPerStep(setup: ModelSetup, guidance: number): number {
  return setup.classConditional && guidance !== 0 && guidance !== 1 ? 2 : 1;
}

/** Forward FLOPs per image: denoiser FLOPs × passes × steps, plus one decode for LDM. */
export function flopsPerImage(setup: ModelSetup, steps: number, guidance: number): number {
  const stats = setupStats(setup);
  return stats.flopsPerStep * passesPerStep(setup, guidance) * steps + stats.decodeFlops;
}

/** The reverse steps one case runs (for progress): warm-up + reps timed batches + quality batches. */
export function caseSteps(c: CompareCase, settings: CompareSettings, quality: boolean): number {
  const qualityBatches = quality && settings.qualityImages > 0 ? Math.ceil(settings.qualityImages / settings.batch) : 0;
  return c.steps * (1 + settings.reps + qualityBatches);
}

/** The sweep's cases: every sampler at every step count of the list (DDPM too: it respaces). */
export function sweepCases(stepCounts: number[], T: number): CompareCase[] {
  const steps = [...new Set(stepCounts.filter((s) => Number.isInteger(s) && s >= 1 && s <= T))].sort((a, b) => a - b);
  return SAMPLER_KINDS.flatMap((sampler) => steps.map((s) => ({ sampler, steps: s })));
}

function request(c: CompareCase, settings: CompareSettings, numImages: number): GenerateRequest {
  return { ...DEFAULT_SAMPLER, kind: c.sampler, steps: c.steps, guidance: settings.guidance, seed: settings.seed, digit: null, numImages, batch: settings.batch };
}

/**
 * The warm-up batch: `generateImages`' first batch, step by step, with the peak tensor bytes (weights
 * included) of its first two steps and of its last step with the decode, each under tf.profile.
 */
async function warmUp(m: CompareModel, req: GenerateRequest, hooks: MeasureHooks): Promise<number> {
  let peak = 0;
  let total = Infinity;
  const frames = sampleFrames(m.model, m.schedule, m.setup.prediction, req, true);
  try {
    for (let i = 0; ; i++) {
      let images: tf.Tensor | null = null;
      const step = () => {
        const r = frames.next();
        // The final x_0: decode it before the generator resumes and disposes it.
        if (!r.done && r.value.index === r.value.total - 1) images = m.model.decode(r.value.xt);
        return r;
      };
      const r = i < 2 || i === total - 1 ? await measurePeak(step, (bytes) => (peak = Math.max(peak, bytes))) : step();
      if (r.done) break;
      total = r.value.total;
      hooks.onStep?.();
      if (images != null) {
        const decoded: tf.Tensor = images;
        await decoded.data().finally(() => decoded.dispose());
      }
      await hooks.stepBoundary?.();
    }
  } finally {
    frames.return(undefined);
  }
  return peak;
}

/** Times one case: a warm-up batch (measures the peak), then `reps` timed batches. */
export async function timeCase(m: CompareModel, c: CompareCase, settings: CompareSettings, hooks: MeasureHooks = {}): Promise<{ msPerImage: number; peakBytes: number }> {
  const req = request(c, settings, settings.batch);
  const batch = () => generateImages(m.model, m.schedule, m.setup.prediction, req, () => hooks.onStep?.(), hooks.stepBoundary);
  const peakBytes = await warmUp(m, req, hooks);
  const times: number[] = [];
  for (let r = 0; r < settings.reps; r++) {
    const t0 = performance.now();
    await batch();
    times.push(performance.now() - t0);
  }
  return { msPerImage: median(times) / settings.batch, peakBytes };
}

/** Generates `settings.qualityImages` samples and scores them; the floor at the same N comes along. */
export async function qualityOfCase(m: CompareModel, c: CompareCase, settings: CompareSettings, q: QualityContext, hooks: MeasureHooks = {}): Promise<NonNullable<CompareRow['quality']>> {
  const n = Math.min(settings.qualityImages, q.floor.n);
  if (n < 2) throw new Error(`Quality needs at least 2 samples, got ${settings.qualityImages}.`);
  const pixels = await generateImages(m.model, m.schedule, m.setup.prediction, request(c, settings, n), () => hooks.onStep?.(), hooks.stepBoundary);
  const score = (images: Uint8Array) => scoreImages(q.classifier, images, n, SCORE_BATCH, hooks.stepBoundary);
  const samples = compareToReference(await score(pixels), q.reference);
  let floorFd = q.floorFd.get(n);
  if (floorFd == null) {
    floorFd = compareToReference(await score(q.floor.pixels), q.reference).fd;
    q.floorFd.set(n, floorFd);
  }
  return { n, meanConfidence: samples.meanConfidence, labelEntropy: samples.labelEntropy, fd: samples.fd, floorFd, referenceDigits: q.reference.n };
}

/** Everything the Compare table shows for one model and one case. */
export async function measureCase(
  m: CompareModel,
  c: CompareCase,
  settings: CompareSettings,
  quality: QualityContext | null,
  sweep: boolean,
  hooks: MeasureHooks = {},
): Promise<CompareRow> {
  const { msPerImage, peakBytes } = await timeCase(m, c, settings, hooks);
  const q = quality && settings.qualityImages > 0 ? await qualityOfCase(m, c, settings, quality, hooks) : null;
  return {
    model: m.kind,
    sampler: c.sampler,
    steps: c.steps,
    batch: settings.batch,
    msPerImage,
    imagesPerSec: 1000 / msPerImage,
    peakBytes,
    flopsPerImage: flopsPerImage(m.setup, c.steps, settings.guidance),
    quality: q,
    sweep,
  };
}
