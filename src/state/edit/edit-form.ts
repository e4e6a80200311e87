/**
 * The Edit panel's settings and their place in the URL (`edit.*` keys, src/state/section-url.ts):
 * only what differs from the defaults is written; a value out of range or unreadable is ignored.
 */
import type { EditMode, InterpolationKind } from '../../sampling/edit-config';
import { DEFAULT_DPS_SCALE, DEFAULT_INPAINT_METHOD, INPAINT_METHODS, type InpaintMethodKind } from '../../diffusion/inpaint-methods';

export type BrushTool = 'brush' | 'eraser';
/** Inpainting: what the pointer paints on the mask. */
export type MaskTool = 'regenerate' | 'keep';

export interface EditForm {
  mode: EditMode;
  /** SDEdit's strength s in [0, 1] (the slider shows it as t0 = s·T). */
  strength: number;
  /** Reverse steps of the whole trajectory. */
  steps: number;
  /** Seeds at once (images per run). */
  seeds: number;
  seed: number;
  /** The class to steer toward, null = unknown (unconditional). */
  digit: number | null;
  guidance: number;
  jump: number;
  resample: number;
  /** Inpainting: how the known part is kept (replacement, DDNM, DPS), and DPS's step ζ. */
  inpaintMethod: InpaintMethodKind;
  dpsScale: number;
  interpolation: InterpolationKind;
  frames: number;
  seed2: number;
  digit2: number | null;
}

export const DEFAULT_EDIT_FORM: EditForm = {
  mode: 'sdedit',
  strength: 0.5,
  steps: 20,
  seeds: 4,
  seed: 0,
  digit: null,
  guidance: 1.3,
  jump: 5,
  resample: 1,
  inpaintMethod: DEFAULT_INPAINT_METHOD,
  dpsScale: DEFAULT_DPS_SCALE,
  interpolation: 'seeds',
  frames: 8,
  seed2: 1,
  digit2: 7,
};

export const EDIT_URL_PREFIX = 'edit.';

type Field = keyof EditForm;
interface KeySpec {
  key: string;
  field: Field;
  read: (v: string) => EditForm[Field] | undefined;
}

const int = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  return Number.isInteger(n) && n >= lo && n <= hi ? n : undefined;
};
const num = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n >= lo && n <= hi ? n : undefined;
};
const digitOrAny = (v: string) => (v === 'any' ? null : int(0, 9)(v));
const oneOf = <T extends string>(values: readonly T[]) => (v: string) => (values as readonly string[]).includes(v) ? (v as T) : undefined;

const KEYS: KeySpec[] = [
  { key: 'mode', field: 'mode', read: oneOf(['sdedit', 'inpaint', 'interpolate'] as const) },
  { key: 's', field: 'strength', read: num(0, 1) },
  { key: 'steps', field: 'steps', read: int(1, 1000) },
  { key: 'n', field: 'seeds', read: int(1, 16) },
  { key: 'seed', field: 'seed', read: int(0, 2 ** 31 - 1) },
  { key: 'digit', field: 'digit', read: digitOrAny },
  { key: 'w', field: 'guidance', read: num(0, 20) },
  { key: 'jump', field: 'jump', read: int(1, 100) },
  { key: 'r', field: 'resample', read: int(1, 20) },
  { key: 'method', field: 'inpaintMethod', read: oneOf(INPAINT_METHODS) },
  { key: 'zeta', field: 'dpsScale', read: num(0, 100) },
  { key: 'interp', field: 'interpolation', read: oneOf(['seeds', 'inputs', 'classes'] as const) },
  { key: 'frames', field: 'frames', read: int(8, 16) },
  { key: 'seed2', field: 'seed2', read: int(0, 2 ** 31 - 1) },
  { key: 'digit2', field: 'digit2', read: digitOrAny },
];

const write = (v: EditForm[Field]) => (v === null ? 'any' : String(v));

/** The form a section's keys describe (readSection's map), starting from the defaults. */
export function formFromUrl(keys: Map<string, string>): EditForm {
  const form: EditForm = { ...DEFAULT_EDIT_FORM };
  for (const spec of KEYS) {
    const raw = keys.get(spec.key);
    if (raw === undefined) continue;
    const value = spec.read(raw);
    if (value !== undefined) (form as unknown as Record<string, unknown>)[spec.field] = value;
  }
  return form;
}

/** The keys that differ from the defaults, for withSection / writeSection. */
export function formToUrl(form: EditForm): [string, string][] {
  return KEYS.filter((s) => form[s.field] !== DEFAULT_EDIT_FORM[s.field]).map((s) => [s.key, write(form[s.field])]);
}

/** Why a form cannot run, or null: each number in its range. */
export function formProblem(form: EditForm, T: number): string | null {
  if (!(Number.isInteger(form.steps) && form.steps >= 1 && form.steps <= T)) return `Steps must be an integer in 1..${T}.`;
  if (!(Number.isInteger(form.seeds) && form.seeds >= 1 && form.seeds <= 16)) return 'Seeds at once must be an integer in 1..16.';
  if (!(Number.isInteger(form.seed) && form.seed >= 0)) return 'The seed must be an integer ≥ 0.';
  if (!(form.guidance >= 0 && form.guidance <= 20)) return 'Guidance must be in 0..20.';
  if (!(Number.isInteger(form.jump) && form.jump >= 1)) return 'The jump length must be an integer ≥ 1.';
  if (!(Number.isInteger(form.resample) && form.resample >= 1 && form.resample <= 20)) return 'Resample count must be an integer in 1..20.';
  if (!(form.dpsScale >= 0 && form.dpsScale <= 100)) return 'The DPS step ζ must be in 0..100.';
  if (!(Number.isInteger(form.frames) && form.frames >= 8 && form.frames <= 16)) return 'Frames must be an integer in 8..16.';
  return null;
}

/** The inpainting method as a run's caption names it. */
export function inpaintWords(form: Pick<EditForm, 'inpaintMethod' | 'dpsScale'>): string {
  return form.inpaintMethod === 'ddnm' ? 'DDNM' : form.inpaintMethod === 'dps' ? `DPS (ζ = ${form.dpsScale})` : 'replacement';
}
