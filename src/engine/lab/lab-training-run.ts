/**
 * The lab's training loop: Adam steps on the MLP in slices of a few milliseconds, with a macrotask
 * between slices (../run-control's stepBoundary) so that the worker answers 'lab/train/pause',
 * 'lab/sample', 'lab/field' … while it runs. `start()` returns at once; the loop posts
 * 'lab/train/progress' a few times a second and 'lab/train/state' / 'lab/model' at its end.
 *
 * Losses are read asynchronously (LabTrainer.readLosses) every READ_MS or every MAX_QUEUED steps,
 * whichever comes first: on a GPU backend the steps are queued without waiting, and the read is
 * where the loop waits for the device, so at most MAX_QUEUED steps are ever in flight.
 */
import type { LabToPage, LabTraining } from '../../protocol/lab-messages';
import { RunCancelled, RunControl } from '../run-control';
import type { LabContext } from './lab-context';

/** Work between two yields to the event loop, ms. */
const SLICE_MS = 8;
/** Interval of progress messages, ms. */
const PROGRESS_MS = 250;
/** Steps queued on the device before the loop waits for their losses. */
const MAX_QUEUED = 16;
/** Losses are read at least this often, ms. */
const READ_MS = 100;
/** Per-item losses sent with a progress message, at most. */
const MAX_ITEMS = 4096;

export function checkLabTraining(training: LabTraining): void {
  if (!Number.isInteger(training.steps) || training.steps < 1 || training.steps > 1_000_000) throw new Error(`Training steps must be an integer from 1 to 1,000,000, got ${training.steps}.`);
  if (!Number.isInteger(training.batch) || training.batch < 1 || training.batch > 8192) throw new Error(`Batch must be an integer from 1 to 8192, got ${training.batch}.`);
  if (!(training.learningRate > 0 && training.learningRate < 1)) throw new Error(`Learning rate must be in (0, 1), got ${training.learningRate}.`);
}

export class LabTrainingRun {
  readonly control = new RunControl();
  private finished: Promise<void> = Promise.resolve();
  private window = { start: 0, steps: [] as number[], losses: [] as number[] };
  private items: Array<{ t: Int32Array; loss: Float32Array }> = [];
  /** The latest loss read (reads are chained, so their results arrive in step order). */
  private reads: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: LabContext,
    private training: LabTraining,
    private readonly post: (message: LabToPage) => void,
  ) {
    checkLabTraining(training);
  }

  /** Whether the loop is still going (running or paused). */
  active = false;

  /** Starts the loop and returns; `done` resolves when it has stopped. */
  start(): void {
    this.active = true;
    this.finished = this.loop().finally(() => {
      this.active = false;
    });
  }

  get done(): Promise<void> {
    return this.finished;
  }

  /** New steps / batch / learning rate for the running loop (and resumes it if paused). */
  update(training: LabTraining): void {
    checkLabTraining(training);
    this.training = training;
    this.resume();
  }

  pause(): void {
    if (this.control.state !== 'running') return;
    this.control.pause();
    this.post({ type: 'lab/train/state', state: 'paused', step: this.ctx.trainer.step });
    // The loop waits at its step boundary now: the steps it queued before are read and shown.
    void this.readLosses().then(
      () => this.postProgress(),
      () => undefined,
    );
  }

  resume(): void {
    if (this.control.state !== 'paused') return;
    this.window.start = performance.now();
    this.control.resume();
    this.post({ type: 'lab/train/state', state: 'running', step: this.ctx.trainer.step });
  }

  /** Stops the loop at its next step boundary and waits for it. */
  async cancel(): Promise<void> {
    this.control.cancel();
    await this.finished;
  }

  private async loop(): Promise<void> {
    const trainer = this.ctx.trainer;
    this.post({ type: 'lab/train/state', state: 'running', step: trainer.step });
    this.window.start = performance.now();
    let lastProgress = this.window.start;
    let lastRead = this.window.start;
    try {
      while (trainer.step < this.training.steps) {
        const sliceStart = performance.now();
        do trainer.trainStep(this.training.batch, this.training.learningRate);
        while (trainer.step < this.training.steps && trainer.pending < MAX_QUEUED && performance.now() - sliceStart < SLICE_MS);
        if (trainer.pending >= MAX_QUEUED || performance.now() - lastRead >= READ_MS) {
          await this.readLosses();
          lastRead = performance.now();
        }
        if (performance.now() - lastProgress >= PROGRESS_MS) {
          this.postProgress();
          lastProgress = performance.now();
        }
        await this.control.stepBoundary();
      }
      await this.readLosses();
      this.postProgress();
      this.post({ type: 'lab/train/state', state: 'done', step: trainer.step });
      this.post({ type: 'lab/model', paramCount: this.ctx.model.paramCount, step: trainer.step });
    } catch (err) {
      if (err instanceof RunCancelled) {
        // The steps taken count; their losses are read so nothing stays queued.
        await this.readLosses().catch(() => undefined);
        return;
      }
      this.post({ type: 'lab/train/state', state: 'paused', step: trainer.step });
      this.post({ type: 'lab/error', message: `Training stopped: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** Reads the queued steps' losses into the window and the per-item history, one read at a time. */
  private readLosses(): Promise<void> {
    const read = () => this.readNow();
    this.reads = this.reads.then(read, read);
    return this.reads;
  }

  private async readNow(): Promise<void> {
    for (const r of await this.ctx.trainer.readLosses()) {
      this.window.steps.push(r.step);
      this.window.losses.push(r.loss);
      this.items.push({ t: r.itemTimesteps, loss: r.itemLosses });
      if (this.items.length > 8) this.items.shift();
    }
  }

  private postProgress(): void {
    const { steps, losses, start } = this.window;
    if (steps.length === 0) return;
    const now = performance.now();
    const stepsPerSec = (steps.length * 1000) / Math.max(now - start, 1);
    const left = Math.max(this.training.steps - this.ctx.trainer.step, 0);
    // The most recent steps' items, newest last, at most MAX_ITEMS.
    const recent: Array<{ t: Int32Array; loss: Float32Array }> = [];
    let count = 0;
    for (let i = this.items.length - 1; i >= 0 && count + this.items[i].t.length <= MAX_ITEMS; i--) {
      recent.unshift(this.items[i]);
      count += this.items[i].t.length;
    }
    const itemTimesteps = new Int32Array(count);
    const itemLosses = new Float32Array(count);
    let o = 0;
    for (const r of recent) {
      itemTimesteps.set(r.t, o);
      itemLosses.set(r.loss, o);
      o += r.t.length;
    }
    this.post({
      type: 'lab/train/progress',
      step: this.ctx.trainer.step,
      totalSteps: this.training.steps,
      steps: Int32Array.from(steps),
      losses: Float32Array.from(losses),
      stepsPerSec,
      etaSec: stepsPerSec > 0 ? left / stepsPerSec : 0,
      itemTimesteps,
      itemLosses,
    });
    this.window = { start: now, steps: [], losses: [] };
  }
}
