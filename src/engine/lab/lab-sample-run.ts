/**
 * Drives one 'lab/sample' run: positions from ./lab-sampling (read asynchronously, in batches)
 * streamed to the page as 'lab/sample/steps' chunks (every position, batched a few times a second),
 * a macrotask after every step so that 'lab/sample/cancel' takes effect within one step, and
 * 'lab/sample/state' at the start and the end.
 */
import type { LabToPage } from '../../protocol/lab-messages';
import { RunCancelled, RunControl } from '../run-control';
import type { LabContext } from './lab-context';
import { labSampleRun, type LabPosition, type LabRunSpec } from './lab-sampling';

/** Positions are sent at least this often, ms. */
const CHUNK_MS = 100;

export class LabSampleRun {
  readonly control = new RunControl();
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: LabContext,
    private readonly run: number,
    private readonly spec: LabRunSpec,
    private readonly post: (message: LabToPage) => void,
  ) {}

  start(): void {
    this.finished = this.loop();
  }

  /** Resolves when the run has ended (done, cancelled or failed). */
  get done(): Promise<void> {
    return this.finished;
  }

  async cancel(): Promise<void> {
    this.control.cancel();
    await this.finished;
  }

  private flush(chunk: LabPosition[]): void {
    if (chunk.length === 0) return;
    const n = this.spec.count;
    const points = new Float32Array(chunk.length * n * 2);
    chunk.forEach((p, i) => points.set(p.points, i * n * 2));
    this.post({
      type: 'lab/sample/steps',
      run: this.run,
      total: chunk[0].total,
      first: chunk[0].index,
      count: chunk.length,
      n,
      t: Float32Array.from(chunk, (p) => p.t),
      points,
      evaluations: chunk[chunk.length - 1].evaluations,
    });
    chunk.length = 0;
  }

  private async loop(): Promise<void> {
    const start = performance.now();
    const state = (s: 'running' | 'done' | 'cancelled') => this.post({ type: 'lab/sample/state', run: this.run, state: s, elapsedMs: performance.now() - start });
    state('running');
    const chunk: LabPosition[] = [];
    let lastFlush = start;
    try {
      for await (const position of labSampleRun(this.ctx, this.spec, { between: () => this.control.stepBoundary() })) {
        chunk.push(position);
        if (performance.now() - lastFlush >= CHUNK_MS) {
          this.flush(chunk);
          lastFlush = performance.now();
        }
      }
      this.flush(chunk);
      state('done');
    } catch (err) {
      if (err instanceof RunCancelled) {
        this.flush(chunk);
        state('cancelled');
        return;
      }
      state('cancelled');
      this.post({ type: 'lab/error', message: `Sampling stopped: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}
