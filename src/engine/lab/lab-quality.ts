/**
 * The lab's quality sweep: for every denoiser × sampler × step count that fits the setup, a full
 * sampling run from one shared x_T, then the unbiased energy distance of its samples to a fresh data
 * sample of the same size, the floor (the same statistic between independent data samples: its
 * spread when nothing is wrong) and, for mixtures, the share of samples nearest each component.
 * Rows are posted as they are measured; a macrotask after every sampler step keeps it cancellable.
 * Exact rows are left out where the data set has no closed form, and samplers of the other
 * objective are left out.
 */
import { deriveSeed } from '../../data/random';
import { sampleToy2D } from '../../data/toy2d';
import { energyDistance, energyDistanceFloor, modeShares } from '../../eval/sample-distance';
import type { LabQualityRequest, LabQualityRow, LabToPage } from '../../protocol/lab-messages';
import { RunCancelled, RunControl } from '../run-control';
import type { LabContext } from './lab-context';
import { isFlowSampler, labRunProblem, labSampleRun, MAX_LAB_PARTICLES, type LabRunSpec } from './lab-sampling';

/** Pairs of data samples behind the floor. */
export const FLOOR_PAIRS = 3;

/** The runs a request asks for that fit the setup, in order: denoiser, sampler, steps. */
export function qualityPlan(ctx: LabContext, request: LabQualityRequest, seed: number): LabRunSpec[] {
  const flow = ctx.setup.objective === 'flow';
  const plan: LabRunSpec[] = [];
  for (const denoiser of request.denoisers) {
    if (denoiser === 'exact' && !ctx.mixture) continue;
    for (const sampler of request.samplers) {
      if (isFlowSampler(sampler) !== flow) continue;
      for (const steps of request.steps) {
        const spec: LabRunSpec = { sampler, steps, count: request.count, seed, denoiser };
        const problem = labRunProblem(ctx, spec);
        if (problem) throw new Error(problem);
        plan.push(spec);
      }
    }
  }
  return plan;
}

/** A fresh data sample (never the training set's seed) of `count` points. */
function dataSample(ctx: LabContext, count: number, k: number): Float32Array {
  return sampleToy2D(ctx.setup.data, count, deriveSeed(ctx.setup.data.seed, 0x7175 + k));
}

export class LabQualityRun {
  readonly control = new RunControl();
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: LabContext,
    private readonly request: LabQualityRequest,
    private readonly post: (message: LabToPage) => void,
  ) {
    const n = request.count;
    if (!Number.isInteger(n) || n < 2 || n > MAX_LAB_PARTICLES) throw new Error(`Samples per measurement must be an integer from 2 to ${MAX_LAB_PARTICLES}, got ${n}.`);
  }

  start(): void {
    this.finished = this.loop();
  }

  async cancel(): Promise<void> {
    this.control.cancel();
    await this.finished;
  }

  private async loop(): Promise<void> {
    const { id, count } = this.request;
    const state = (s: 'running' | 'done' | 'cancelled') => this.post({ type: 'lab/quality/state', id, state: s });
    state('running');
    try {
      const plan = qualityPlan(this.ctx, this.request, deriveSeed(id, 0x5eed));
      const pairs: Array<[Float32Array, Float32Array]> = [];
      for (let k = 0; k < FLOOR_PAIRS; k++) {
        pairs.push([dataSample(this.ctx, count, 2 * k + 1), dataSample(this.ctx, count, 2 * k + 2)]);
        await this.control.stepBoundary();
      }
      const floor = energyDistanceFloor(pairs);
      const reference = dataSample(this.ctx, count, 0);
      const means = this.ctx.mixture?.map((c) => c.mean) ?? null;
      for (let r = 0; r < plan.length; r++) {
        const spec = plan[r];
        let last: Float32Array | null = null;
        let evaluations = 0;
        for await (const position of labSampleRun(this.ctx, spec, { between: () => this.control.stepBoundary(), onlyLast: true })) {
          last = position.points;
          evaluations = position.evaluations;
        }
        const samples = last as Float32Array;
        const row: LabQualityRow = {
          sampler: spec.sampler,
          denoiser: spec.denoiser,
          steps: spec.steps,
          evaluations,
          distance: energyDistance(samples, reference),
          floor,
          modeShares: means ? modeShares(samples, means) : null,
        };
        this.post({ type: 'lab/quality/row', id, row, done: r + 1, total: plan.length });
      }
      state('done');
    } catch (err) {
      state('cancelled');
      if (!(err instanceof RunCancelled)) this.post({ type: 'lab/error', message: `Quality sweep stopped: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}
