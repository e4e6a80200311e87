import type { SamplingConfig } from './config';
import { INPAINT_METHODS, type InpaintMethodKind } from '../diffusion/inpaint-methods';

/** SDEdit (Meng et al. 2022), inpainting (replacement, RePaint resampling) or interpolation. */
export const EDIT_MODES = ['sdedit', 'inpaint', 'interpolate'] as const;
export type EditMode = (typeof EDIT_MODES)[number];

export { DEFAULT_DPS_SCALE, DEFAULT_INPAINT_METHOD, INPAINT_METHODS, type InpaintMethodKind } from '../diffusion/inpaint-methods';

/** Interpolation between two noise seeds (slerp), two inputs (DDIM inversion + slerp) or two class labels. */
export const INTERPOLATIONS = ['seeds', 'inputs', 'classes'] as const;
export type InterpolationKind = (typeof INTERPOLATIONS)[number];

/** Pixels of an edit's input: one 28×28 grey digit. */
export const EDIT_PIXELS = 28 * 28;

/**
 * An edit of one input: the sampler's settings, `numImages` seeds (seed, seed + 1, … as one batch
 * drawn from `seed`), the class (`digit`, null = unknown) and guidance, plus the mode's own settings.
 */
export interface EditRequest extends SamplingConfig {
  mode: EditMode;
  /** The input, 784 values in [−1, 1] (row-major 28×28); or one input per image, numImages × 784 (SDEdit, inpainting: for scoring many digits at once). */
  input: Float32Array;
  /** Inpainting: 784 values, 1 = keep the input there, 0 = regenerate. */
  mask: Float32Array | null;
  /** SDEdit: the strength s in [0, 1] (the share of the trajectory that runs; ./sdedit-plan.ts). */
  strength: number;
  /** Inpainting: RePaint's jump length and resample count (resample 1 = plain replacement). */
  jump: number;
  resample: number;
  /** Inpainting: the method, and DPS's step ζ (used by 'dps' only). */
  inpaintMethod: InpaintMethodKind;
  dpsScale: number;
  /** Interpolation: what is interpolated, into how many frames (8–16). */
  interpolation: InterpolationKind;
  frames: number;
  /** Interpolation between inputs: the second input (784 values in [−1, 1]). */
  input2: Float32Array | null;
  /** Interpolation between seeds: the second seed; between classes: the second class. */
  seed2: number;
  digit2: number | null;
}

/** Images an edit makes in one batch: the seeds, or the interpolation's frames. */
export function editBatch(request: Pick<EditRequest, 'mode' | 'numImages' | 'frames'>): number {
  return request.mode === 'interpolate' ? request.frames : request.numImages;
}

/** Throws an Error naming the first setting out of range. */
export function validateEditRequest(r: EditRequest): void {
  if (!(EDIT_MODES as readonly string[]).includes(r.mode)) throw new Error(`edit mode must be one of ${EDIT_MODES.join(', ')}, got ${String(r.mode)}.`);
  if (!(Number.isInteger(r.numImages) && r.numImages >= 1)) throw new Error(`seeds must be an integer ≥ 1, got ${r.numImages}.`);
  const perImage = r.mode !== 'interpolate' && r.input instanceof Float32Array && r.input.length === r.numImages * EDIT_PIXELS;
  if (!(r.input instanceof Float32Array) || (r.input.length !== EDIT_PIXELS && !perImage)) throw new Error(`the edit's input must be ${EDIT_PIXELS} values (28×28).`);
  if (r.mode === 'sdedit' && !(r.strength >= 0 && r.strength <= 1)) throw new Error(`strength must be in [0, 1], got ${r.strength}.`);
  if (r.mode === 'inpaint') {
    if (!(r.mask instanceof Float32Array) || r.mask.length !== EDIT_PIXELS) throw new Error('inpainting needs a mask of 28×28 values.');
    if (!(Number.isInteger(r.jump) && r.jump >= 1)) throw new Error(`jump length must be an integer ≥ 1, got ${r.jump}.`);
    if (!(Number.isInteger(r.resample) && r.resample >= 1 && r.resample <= 20)) throw new Error(`resample count must be an integer in 1..20, got ${r.resample}.`);
    if (!(INPAINT_METHODS as readonly string[]).includes(r.inpaintMethod)) throw new Error(`inpainting method must be one of ${INPAINT_METHODS.join(', ')}, got ${String(r.inpaintMethod)}.`);
    if (!(Number.isFinite(r.dpsScale) && r.dpsScale >= 0)) throw new Error(`DPS step ζ must be a finite number ≥ 0, got ${r.dpsScale}.`);
  }
  if (r.mode === 'interpolate') {
    if (!(INTERPOLATIONS as readonly string[]).includes(r.interpolation)) throw new Error(`interpolation must be one of ${INTERPOLATIONS.join(', ')}, got ${String(r.interpolation)}.`);
    if (!(Number.isInteger(r.frames) && r.frames >= 2 && r.frames <= 16)) throw new Error(`frames must be an integer in 2..16, got ${r.frames}.`);
    if (r.interpolation === 'inputs' && (!(r.input2 instanceof Float32Array) || r.input2.length !== EDIT_PIXELS)) throw new Error('interpolating between inputs needs a second input (28×28).');
    if (r.interpolation === 'classes' && (r.digit === null || r.digit2 === null)) throw new Error('interpolating between classes needs two digits.');
  }
}
