/**
 * The 2D lab's side of the engine (issue 17): its data set, MLP denoiser, training and sampling
 * runs, fields, densities and quality sweeps, answering the messages of src/protocol/lab-messages.ts.
 * Long work (training, sampling, quality) starts a run and returns, so the worker keeps answering
 * while it goes on; fields and densities are answered at once. Nothing is read back synchronously,
 * so the lab runs on every backend (WebGPU included): see lab-trainer, lab-sampling, lab-fields.
 */
import type { LabSampleRequest, LabToPage, LabToWorker, LabTraining } from '../../protocol/lab-messages';
import type { WorkerToPage } from '../../protocol/messages';
import { createLabContext, disposeLabContext, type LabContext } from './lab-context';
import { densityOnGrid, exactField, gridPoints, learnedField } from './lab-fields';
import { LabQualityRun } from './lab-quality';
import { LabSampleRun } from './lab-sample-run';
import { labRunProblem } from './lab-sampling';
import { LabTrainingRun } from './lab-training-run';

/** Sampling runs that may go on at once. */
export const MAX_SAMPLE_RUNS = 2;

export class LabEngine {
  private ctx: LabContext | null = null;
  private training: LabTrainingRun | null = null;
  /** Sampling runs in flight, oldest first: at most MAX_SAMPLE_RUNS (the two panes of a comparison). */
  private sampling: Array<{ run: number; job: LabSampleRun }> = [];
  private quality: LabQualityRun | null = null;

  constructor(private readonly post: (message: WorkerToPage) => void) {}

  async handle(message: LabToWorker): Promise<void> {
    switch (message.type) {
      case 'lab/setup':
        return this.setup(() => createLabContext(message.setup));
      case 'lab/train/reset':
        return this.setup(() => createLabContext(this.need().setup));
      case 'lab/train/start':
        return this.startTraining(message.training);
      case 'lab/train/pause':
        return this.training?.pause();
      case 'lab/sample':
        return this.startSampling(message.request);
      case 'lab/sample/cancel':
        return this.cancelSampling(() => true);
      case 'lab/field': {
        const ctx = this.need();
        const points = gridPoints(message.grid);
        const { id, t, kind, grid } = message;
        const exact = exactField(ctx, t, kind, points);
        return this.reply({ type: 'lab/field', id, t, kind, grid, learned: await learnedField(ctx, t, kind, points), exact });
      }
      case 'lab/density': {
        const { id, t, grid } = message;
        return this.reply({ type: 'lab/density', id, t, grid, density: densityOnGrid(this.need(), t, gridPoints(grid)) });
      }
      case 'lab/quality':
        await this.quality?.cancel();
        this.quality = new LabQualityRun(this.need(), message.request, (m) => this.reply(m));
        return this.quality.start();
      case 'lab/quality/cancel':
        return this.quality?.cancel();
      default:
        throw new Error(`Unknown lab message "${(message as { type: string }).type}".`);
    }
  }

  private need(): LabContext {
    if (!this.ctx) throw new Error('Set up the 2D lab first (choose a data set and a model).');
    return this.ctx;
  }

  /** Stops every run, frees the old context and installs the new one (fresh weights). */
  private async setup(make: () => LabContext): Promise<void> {
    const next = make();
    await this.stopRuns();
    if (this.ctx) disposeLabContext(this.ctx);
    this.ctx = next;
    this.reply({ type: 'lab/data', points: next.points.slice(), exact: next.mixture !== null, components: next.mixture });
    this.reply({ type: 'lab/model', paramCount: next.model.paramCount, step: 0 });
    this.reply({ type: 'lab/train/state', state: 'idle', step: 0 });
  }

  private async startTraining(training: LabTraining): Promise<void> {
    const ctx = this.need();
    if (this.training?.active && this.training.control.state !== 'cancelled') {
      this.training.update(training);
      return;
    }
    this.training = new LabTrainingRun(ctx, training, (m) => this.reply(m));
    this.training.start();
  }

  private async startSampling(request: LabSampleRequest): Promise<void> {
    const ctx = this.need();
    const problem = labRunProblem(ctx, request);
    if (problem) return this.reply({ type: 'lab/error', message: problem });
    // A run id asked again replaces its run; beyond MAX_SAMPLE_RUNS the oldest run is cancelled.
    const others = this.sampling.filter((r) => r.run !== request.run);
    const oldest = new Set(others.slice(0, Math.max(others.length - MAX_SAMPLE_RUNS + 1, 0)));
    await this.cancelSampling((r) => r.run === request.run || oldest.has(r));
    const job = new LabSampleRun(ctx, request.run, request, (m) => this.reply(m));
    const entry = { run: request.run, job };
    this.sampling.push(entry);
    job.start();
    void job.done.then(() => {
      this.sampling = this.sampling.filter((r) => r !== entry);
    });
  }

  private async cancelSampling(which: (run: { run: number; job: LabSampleRun }) => boolean): Promise<void> {
    const stopping = this.sampling.filter(which);
    this.sampling = this.sampling.filter((r) => !which(r));
    await Promise.all(stopping.map((r) => r.job.cancel()));
  }

  private async stopRuns(): Promise<void> {
    await Promise.all([this.training?.cancel(), this.cancelSampling(() => true), this.quality?.cancel()]);
    this.training = this.quality = null;
  }

  private reply(message: LabToPage): void {
    this.post(message);
  }

  async dispose(): Promise<void> {
    await this.stopRuns();
    if (this.ctx) disposeLabContext(this.ctx);
    this.ctx = null;
  }
}
