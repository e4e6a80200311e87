/**
 * The 2D lab's messages (issue 17): a point-cloud diffusion model (a small MLP denoiser) trained and
 * sampled in the same worker as the image models. Points cross as transferred Float32Arrays laid out
 * [n, 2] (x, y interleaved). Every request carries an `id` where the page may issue several and
 * keep only the latest answer (fields, densities). The engine side is src/engine/lab/, the page side
 * src/state/lab/ and src/ui/lab/.
 */
import type { ScheduleConfig } from '../diffusion/config';

export const LAB_DATASETS = ['gaussians8', 'moons', 'swissroll', 'checkerboard', 'rings', 'mixture', 'drawn'] as const;
export type LabDatasetKind = (typeof LAB_DATASETS)[number];

/** One component of a user-edited 2D Gaussian mixture N(mean, std² I) with weight `weight`. */
export interface LabComponent {
  mean: [number, number];
  std: number;
  weight: number;
}

export interface LabDataSpec {
  kind: LabDatasetKind;
  /** Training points drawn from the data set (for 'drawn', the drawn points are the data set). */
  count: number;
  seed: number;
  /** 'mixture' only: the components (weights need not sum to 1; they are normalized). */
  components?: LabComponent[];
  /** 'drawn' only: the sprayed points, [n, 2]. */
  points?: Float32Array;
}

/** What the network is trained for: DDPM (noise schedule, ε / x0 / v) or flow matching (rectified flow). */
export const LAB_OBJECTIVES = ['diffusion', 'flow'] as const;
export type LabObjective = (typeof LAB_OBJECTIVES)[number];

export interface LabSetup {
  data: LabDataSpec;
  objective: LabObjective;
  /** Diffusion objective only. */
  schedule: ScheduleConfig;
  prediction: 'epsilon' | 'x0' | 'v';
  /** Min-SNR-γ loss weighting (diffusion objective), null for none. */
  minSnrGamma: number | null;
  /** Hidden width and number of hidden layers of the MLP. */
  width: number;
  depth: number;
  seed: number;
}

export interface LabTraining {
  /** Steps to run in all (a run continues from the model's current step up to this). */
  steps: number;
  batch: number;
  learningRate: number;
}

/** Samplers of the lab: the image samplers for the diffusion objective, Euler / Heun for flow matching. */
export const LAB_SAMPLERS = ['ddpm', 'ddim', 'dpmpp', 'euler', 'heun'] as const;
export type LabSamplerKind = (typeof LAB_SAMPLERS)[number];

/** Which denoiser drives a sampling run or a field: the trained MLP, or the closed form (mixtures only). */
export type LabDenoiser = 'learned' | 'exact';

export interface LabSampleRequest {
  /** The page's id of this run, echoed in its answers. */
  run: number;
  sampler: LabSamplerKind;
  steps: number;
  /** Particles (up to 5,000). */
  count: number;
  /** The starting noise's seed: two runs with the same seed start from the same x_T. */
  seed: number;
  denoiser: LabDenoiser;
}

/** A regular grid over [xMin, xMax] × [yMin, yMax] with nx × ny points, row-major from (xMin, yMin). */
export interface LabGrid {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  nx: number;
  ny: number;
}

/** What a field shows: the predicted noise ε̂, the score −ε̂/√(1−ᾱ_t), or the flow's velocity. */
export type LabFieldKind = 'eps' | 'score' | 'velocity';

export interface LabQualityRequest {
  id: number;
  samplers: LabSamplerKind[];
  /** Step counts to sweep for each sampler. */
  steps: number[];
  denoisers: LabDenoiser[];
  /** Samples per measurement (and of each of the two data samples of the floor). */
  count: number;
}

export type LabToWorker =
  /** Sets the data set, objective and MLP; starts from fresh weights. Answered by 'lab/data' and 'lab/model'. */
  | { type: 'lab/setup'; setup: LabSetup }
  | { type: 'lab/train/start'; training: LabTraining }
  | { type: 'lab/train/pause' }
  /** Fresh weights, same setup. */
  | { type: 'lab/train/reset' }
  | { type: 'lab/sample'; request: LabSampleRequest }
  | { type: 'lab/sample/cancel' }
  /** The field at t (integer timestep 0..T−1 for diffusion, t in [0, 1] for flow) on a grid: learned, and exact for mixtures. */
  | { type: 'lab/field'; id: number; t: number; kind: LabFieldKind; grid: LabGrid }
  /** The density of q(x_t) on a grid (exact: the data set's mixture, or its training points as a mixture of deltas). */
  | { type: 'lab/density'; id: number; t: number; grid: LabGrid }
  | { type: 'lab/quality'; request: LabQualityRequest }
  | { type: 'lab/quality/cancel' };

export interface LabQualityRow {
  sampler: LabSamplerKind;
  denoiser: LabDenoiser;
  steps: number;
  /** Model evaluations the run took (Heun: 2 per step but the last). */
  evaluations: number;
  /** Unbiased squared MMD (or energy distance) against fresh data samples, and the two-data-sample floor. */
  distance: number;
  floor: number;
  /** Mixtures: the share of samples nearest each component, else null. */
  modeShares: number[] | null;
}

export type LabToPage =
  /** The training set drawn from the spec, [n, 2]; `exact` says whether closed-form fields exist (mixtures). */
  | { type: 'lab/data'; points: Float32Array; exact: boolean; components: LabComponent[] | null }
  | { type: 'lab/model'; paramCount: number; step: number }
  | { type: 'lab/train/state'; state: 'idle' | 'running' | 'paused' | 'done'; step: number }
  | {
      type: 'lab/train/progress';
      step: number;
      totalSteps: number;
      /** Steps and raw losses since the previous progress message. */
      steps: Int32Array;
      losses: Float32Array;
      stepsPerSec: number;
      etaSec: number;
      /** Timesteps (diffusion: 0..T−1; flow: t·1000) and per-item losses of recent steps, for the loss by timestep. */
      itemTimesteps: Int32Array;
      itemLosses: Float32Array;
    }
  /**
   * Particles of a sampling run, positions `first`..`first + count − 1` of `total` (= steps + 1:
   * x_T first, the final samples last), layout [count, n, 2]; `t` is each position's time
   * (diffusion: the timestep, −1 at the end; flow: t in [0, 1]).
   */
  | { type: 'lab/sample/steps'; run: number; total: number; first: number; count: number; n: number; t: Float32Array; points: Float32Array; evaluations: number }
  | { type: 'lab/sample/state'; run: number; state: 'running' | 'done' | 'cancelled'; elapsedMs: number }
  /** Learned field, [ny·nx, 2]; exact field (or null: no closed form); both in the request's kind. */
  | { type: 'lab/field'; id: number; t: number; kind: LabFieldKind; grid: LabGrid; learned: Float32Array | null; exact: Float32Array | null }
  | { type: 'lab/density'; id: number; t: number; grid: LabGrid; density: Float32Array }
  | { type: 'lab/quality/row'; id: number; row: LabQualityRow; done: number; total: number }
  | { type: 'lab/quality/state'; id: number; state: 'running' | 'done' | 'cancelled' }
  | { type: 'lab/error'; message: string };

/** Whether a worker message is the 2D lab's. */
export function isLabMessage<M extends { type: string }>(message: M | LabToPage): message is LabToPage {
  return message.type.startsWith('lab/');
}

/** The buffers a lab message carries, for postMessage's transfer list. */
export function labTransferables(message: LabToPage): ArrayBuffer[] {
  switch (message.type) {
    case 'lab/data':
      return [message.points.buffer as ArrayBuffer];
    case 'lab/train/progress':
      return [message.steps, message.losses, message.itemTimesteps, message.itemLosses].map((a) => a.buffer as ArrayBuffer);
    case 'lab/sample/steps':
      return [message.t.buffer as ArrayBuffer, message.points.buffer as ArrayBuffer];
    case 'lab/field':
      return [message.learned, message.exact].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
    case 'lab/density':
      return [message.density.buffer as ArrayBuffer];
    default:
      return [];
  }
}

/**
 * The lab's defaults, chosen with src/cli/bench-lab.ts (Node, wasm, 1 thread, on the 2-core
 * machine): an MLP of 3 hidden layers of 64 (9,666 parameters) costs about 4-5 ms of CPU a training
 * step at batch 512, and with Adam at 1e-2 (and the weights' moving average for sampling) it brought
 * 8 Gaussians within 2× of the energy-distance floor, every mode covered, after about 1,250 steps
 * (about 5 s of CPU). The schedule is DDPM's linear one (Ho et al. 2020), written out here because
 * the protocol imports no values.
 */
export const DEFAULT_LAB_SETUP: LabSetup = {
  data: { kind: 'gaussians8', count: 2000, seed: 1 },
  objective: 'diffusion',
  schedule: { kind: 'linear', T: 1000, betaStart: 1e-4, betaEnd: 0.02, rescaleZeroTerminalSnr: false },
  prediction: 'epsilon',
  minSnrGamma: null,
  width: 64,
  depth: 3,
  seed: 1,
};

export const DEFAULT_LAB_TRAINING: LabTraining = { steps: 2500, batch: 512, learningRate: 1e-2 };
