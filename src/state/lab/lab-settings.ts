/**
 * The 2D lab's settings: everything a user (or a link, or a preset) sets, as one flat record, its
 * defaults, and how it becomes the worker's LabSetup / LabTraining / sampling requests.
 *
 * The view's time is one number `tView` in [0, 1], 0 clean data and 1 pure noise, for both
 * objectives: the diffusion timestep is round(tView·(T − 1)), flow matching's t is tView itself.
 */
import type { ScheduleConfig, ScheduleKind } from '../../diffusion/config';
import { DEFAULT_LAB_SETUP, DEFAULT_LAB_TRAINING } from '../../protocol/lab-messages';
import type {
  LabComponent,
  LabDatasetKind,
  LabDenoiser,
  LabFieldKind,
  LabGrid,
  LabObjective,
  LabSamplerKind,
  LabSetup,
  LabTraining,
} from '../../protocol/lab-messages';

export type LabPrediction = LabSetup['prediction'];

/** One side of the particle view: a sampler, its steps, and the denoiser that drives it. */
export interface LabPane {
  sampler: LabSamplerKind;
  steps: number;
  denoiser: LabDenoiser;
}

export interface LabSettings {
  data: LabDatasetKind;
  /** Training points drawn from the data set. */
  count: number;
  dataSeed: number;
  /** The editable mixture's components ('mixture' only). */
  components: LabComponent[];
  objective: LabObjective;
  prediction: LabPrediction;
  /** Min-SNR-γ, 0 for none. */
  minSnr: number;
  schedule: ScheduleKind;
  T: number;
  width: number;
  depth: number;
  modelSeed: number;
  trainSteps: number;
  batch: number;
  learningRate: number;
  /** The two particle panes, sampled from the same starting noise. */
  a: LabPane;
  b: LabPane;
  particles: number;
  sampleSeed: number;
  /** The forward view's and the field's time, 0 (data) .. 1 (noise). */
  tView: number;
  field: LabFieldKind;
}

export const DIFFUSION_SAMPLERS: readonly LabSamplerKind[] = ['ddpm', 'ddim', 'dpmpp'];
export const FLOW_SAMPLERS: readonly LabSamplerKind[] = ['euler', 'heun'];

export const LAB_SAMPLER_LABELS: Readonly<Record<LabSamplerKind, string>> = {
  ddpm: 'DDPM',
  ddim: 'DDIM',
  dpmpp: 'DPM-Solver++',
  euler: 'Euler (flow)',
  heun: 'Heun (flow)',
};

export const LAB_DATASET_LABELS: Readonly<Record<LabDatasetKind, string>> = {
  gaussians8: '8 Gaussians',
  moons: 'Two moons',
  swissroll: 'Swiss roll',
  checkerboard: 'Checkerboard',
  rings: 'Concentric rings',
  mixture: 'Gaussian mixture (edit it)',
  drawn: 'Draw your own',
};

/** The objective a sampler belongs to. */
export function samplerObjective(kind: LabSamplerKind): LabObjective {
  return FLOW_SAMPLERS.includes(kind) ? 'flow' : 'diffusion';
}

/** Three components, a starting point for the mixture editor. */
export const DEFAULT_COMPONENTS: LabComponent[] = [
  { mean: [-1.5, -1], std: 0.35, weight: 1 },
  { mean: [1.5, -1], std: 0.35, weight: 1 },
  { mean: [0, 1.6], std: 0.5, weight: 1 },
];

/** The engine's measured defaults (DEFAULT_LAB_SETUP / DEFAULT_LAB_TRAINING), and the views' own. */
export const DEFAULT_LAB: LabSettings = {
  data: DEFAULT_LAB_SETUP.data.kind,
  count: DEFAULT_LAB_SETUP.data.count,
  dataSeed: DEFAULT_LAB_SETUP.data.seed,
  components: DEFAULT_COMPONENTS,
  objective: DEFAULT_LAB_SETUP.objective,
  prediction: DEFAULT_LAB_SETUP.prediction,
  minSnr: DEFAULT_LAB_SETUP.minSnrGamma ?? 0,
  schedule: DEFAULT_LAB_SETUP.schedule.kind,
  T: DEFAULT_LAB_SETUP.schedule.T,
  width: DEFAULT_LAB_SETUP.width,
  depth: DEFAULT_LAB_SETUP.depth,
  modelSeed: DEFAULT_LAB_SETUP.seed,
  trainSteps: DEFAULT_LAB_TRAINING.steps,
  batch: DEFAULT_LAB_TRAINING.batch,
  learningRate: DEFAULT_LAB_TRAINING.learningRate,
  a: { sampler: 'ddpm', steps: 100, denoiser: 'learned' },
  b: { sampler: 'ddim', steps: 20, denoiser: 'learned' },
  particles: 2000,
  sampleSeed: 1,
  tView: 0.3,
  field: 'score',
};

/** Limits of the numeric settings (inclusive), for the forms and the URL. */
export const LAB_LIMITS = {
  count: [50, 20000],
  T: [10, 1000],
  width: [8, 512],
  depth: [1, 8],
  trainSteps: [1, 100000],
  batch: [8, 4096],
  learningRate: [1e-5, 0.1],
  steps: [1, 1000],
  particles: [10, 5000],
  minSnr: [0, 20],
} as const satisfies Record<string, readonly [number, number]>;

/** Drawn data sets need at least this many points to train. */
export const MIN_DRAWN_POINTS = 10;

export function scheduleOf(s: Pick<LabSettings, 'schedule' | 'T'>): ScheduleConfig {
  return { ...DEFAULT_LAB_SETUP.schedule, kind: s.schedule, T: s.T };
}

/** The worker's setup for these settings (the drawn points, if any, from the store). */
export function setupOf(s: LabSettings, drawn: Float32Array | null): LabSetup {
  const data: LabSetup['data'] = { kind: s.data, count: s.count, seed: s.dataSeed };
  if (s.data === 'mixture') data.components = s.components.map((c) => ({ mean: [c.mean[0], c.mean[1]], std: c.std, weight: c.weight }));
  if (s.data === 'drawn') data.points = drawn ? Float32Array.from(drawn) : new Float32Array(0);
  return {
    data,
    objective: s.objective,
    schedule: scheduleOf(s),
    prediction: s.prediction,
    minSnrGamma: s.minSnr > 0 ? s.minSnr : null,
    width: s.width,
    depth: s.depth,
    seed: s.modelSeed,
  };
}

export function trainingOf(s: LabSettings): LabTraining {
  return { steps: s.trainSteps, batch: s.batch, learningRate: s.learningRate };
}

/** The time the worker takes for the view's t: a timestep for diffusion, t in [0, 1] for flow. */
export function workerTime(s: Pick<LabSettings, 'objective' | 'T'>, tView: number): number {
  const f = Math.min(1, Math.max(0, tView));
  return s.objective === 'flow' ? f : Math.round(f * (s.T - 1));
}

/** The field kind a request asks for: flow matching has only its velocity; diffusion ε̂ or the score. */
export function fieldKindOf(s: Pick<LabSettings, 'objective' | 'field'>): LabFieldKind {
  if (s.objective === 'flow') return 'velocity';
  return s.field === 'velocity' ? 'score' : s.field;
}

/** A square grid centred on 0 that holds the data and the noise (±3.5). */
export function gridOf(extent: number, n: number): LabGrid {
  return { xMin: -extent, xMax: extent, yMin: -extent, yMax: extent, nx: n, ny: n };
}

/** Half the side of the square the views show: the data's reach and the noise's, with a margin. */
export function extentOf(points: Float32Array | null): number {
  let m = 3.5;
  if (points) for (let i = 0; i < points.length; i++) m = Math.max(m, Math.abs(points[i]) * 1.1);
  return Math.ceil(m * 2) / 2;
}

/** Why the settings cannot train as they are, or null. */
export function trainProblem(s: LabSettings, drawn: Float32Array | null): string | null {
  if (s.data === 'drawn' && (!drawn || drawn.length / 2 < MIN_DRAWN_POINTS)) {
    const have = drawn ? drawn.length / 2 : 0;
    return `Draw at least ${MIN_DRAWN_POINTS} points first (you have ${have}), then press "Use these points".`;
  }
  if (s.data === 'mixture' && s.components.length === 0) return 'The mixture has no components: add one.';
  for (const [key, [lo, hi]] of [
    ['width', LAB_LIMITS.width],
    ['depth', LAB_LIMITS.depth],
    ['trainSteps', LAB_LIMITS.trainSteps],
    ['batch', LAB_LIMITS.batch],
    ['count', LAB_LIMITS.count],
    ['T', LAB_LIMITS.T],
  ] as const) {
    const v = s[key];
    if (!Number.isInteger(v) || v < lo || v > hi) return `${key} must be a whole number from ${lo} to ${hi}.`;
  }
  if (!(s.learningRate >= LAB_LIMITS.learningRate[0] && s.learningRate <= LAB_LIMITS.learningRate[1])) return 'The learning rate must be between 0.00001 and 0.1.';
  return null;
}

/** Why a pane cannot sample under these settings, or null. */
export function paneProblem(s: LabSettings, pane: LabPane, exact: boolean): string | null {
  if (samplerObjective(pane.sampler) !== s.objective) {
    return `${LAB_SAMPLER_LABELS[pane.sampler]} belongs to ${s.objective === 'flow' ? 'diffusion' : 'flow matching'}: switch the objective to sample it (its last run stays shown).`;
  }
  if (pane.denoiser === 'exact' && !exact) return 'The exact denoiser needs a Gaussian-mixture data set (8 Gaussians or your own mixture).';
  if (!Number.isInteger(pane.steps) || pane.steps < 1 || pane.steps > Math.min(LAB_LIMITS.steps[1], s.objective === 'diffusion' ? s.T : 1000)) {
    return `Steps must be a whole number from 1 to ${s.objective === 'diffusion' ? s.T : 1000}.`;
  }
  return null;
}
