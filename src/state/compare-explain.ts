/**
 * Why the Compare panel's LDM is as much faster as it is: the FLOPs of each model's image (its
 * denoiser's steps and, for the LDM, the decoder), the speed-up those FLOPs allow against the one
 * measured, and the rate each model ran at. On tfjs each op has a fixed cost besides its arithmetic
 * (dispatch, memory traffic), so a model of many small ops — the LDM's denoiser on 7×7 latents —
 * runs at a lower FLOP rate than one of few large ops; the share of the LDM's time that its FLOPs at
 * the pixel model's rate do not explain is reported as its per-op overhead.
 */
import type { CompareRow } from '../eval/compare-report';
import type { ModelKind } from '../models/setup/model-setup';
import { pretrainedFlopParts } from './compare-flops';

export interface ModelCost {
  model: ModelKind;
  steps: number;
  /** Denoiser FLOPs per step and image (both guidance passes). */
  stepFlops: number;
  /** Decoder FLOPs per image (0: pixel). */
  decodeFlops: number;
  flopsPerImage: number;
  msPerImage: number;
  /** msPerImage / steps: the step's share of the time, decode included. */
  msPerStep: number;
  /** FLOP per second reached. */
  flopsPerSec: number;
}

export interface CompareExplanation {
  pixel: ModelCost;
  latent: ModelCost;
  /** The pixel model's FLOPs per image over the LDM's: the speed-up with equal FLOP rates. */
  flopsSpeedup: number;
  /** Measured: pixel ms per image over the LDM's. */
  measuredSpeedup: number;
  /** The decoder's share of the LDM's FLOPs per image. */
  decodeShare: number;
  /** The share of the LDM's time its FLOPs at the pixel model's rate leave unexplained (0 when it ran as fast or faster). */
  overheadShare: number;
}

function costOf(row: CompareRow, guidance: number): ModelCost {
  const parts = pretrainedFlopParts(row.model, guidance);
  const stepFlops = parts.perPass * parts.passes;
  const flopsPerImage = stepFlops * row.steps + parts.decode;
  return {
    model: row.model,
    steps: row.steps,
    stepFlops,
    decodeFlops: parts.decode,
    flopsPerImage,
    msPerImage: row.msPerImage,
    msPerStep: row.msPerImage / row.steps,
    flopsPerSec: (flopsPerImage / row.msPerImage) * 1000,
  };
}

/** The explanation of a comparison's main rows (both models measured), else null. */
export function explainCompare(rows: CompareRow[], guidance: number): CompareExplanation | null {
  const main = rows.filter((r) => !r.sweep && !r.evaluation);
  const p = main.find((r) => r.model === 'pixel');
  const l = main.find((r) => r.model === 'latent');
  if (!p || !l || !(p.msPerImage > 0) || !(l.msPerImage > 0)) return null;
  const pixel = costOf(p, guidance);
  const latent = costOf(l, guidance);
  return {
    pixel,
    latent,
    flopsSpeedup: pixel.flopsPerImage / latent.flopsPerImage,
    measuredSpeedup: pixel.msPerImage / latent.msPerImage,
    decodeShare: latent.decodeFlops / latent.flopsPerImage,
    overheadShare: Math.max(0, 1 - latent.flopsPerSec / pixel.flopsPerSec),
  };
}
