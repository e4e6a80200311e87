/**
 * The engine's edit run, one at a time (./edit-run.ts), beside the sampling host: it starts a run
 * (the caller stops the sampling run first), pauses, resumes and cancels it at step boundaries, and
 * turns uploaded images into digits (src/data/digit-image.ts).
 */
import type { NoiseSchedule, PredictionType } from '../diffusion';
import { toMnistDigit } from '../data/digit-image';
import type { DiffusionModel } from '../models/diffusion-model';
import type { WorkerToPage } from '../protocol/messages';
import type { EditRequest } from '../sampling/edit-config';
import { RunControl } from './run-control';
import { runEdit } from './edit-run';
import { controlRun, settleRun } from './sampling-host';

export class EditHost {
  private current: RunControl | null = null;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly post: (message: WorkerToPage) => void) {}

  /** Whether an edit run is in progress (then 'sample/pause' etc. are its). */
  get running(): boolean {
    return this.current !== null;
  }

  /** Cancels the run in progress, if any, and waits until it has freed its tensors. */
  async stop(): Promise<void> {
    this.current?.cancel();
    await this.done;
  }

  start(model: DiffusionModel, schedule: NoiseSchedule, prediction: PredictionType, request: EditRequest, run: number): void {
    if (model.kind === 'latent' && model.latent == null) {
      this.post({ type: 'error', source: 'edit', message: 'This latent model has no trained autoencoder yet: train stage 1 (autoencoder) first, then edit.' });
      this.post({ type: 'sample/state', state: 'idle' });
      return;
    }
    const control = new RunControl();
    this.current = control;
    this.post({ type: 'sample/state', state: 'running' });
    this.done = runEdit({ model, schedule, prediction, request, control, post: this.post, run })
      .then(...settleRun(this.post, 'edit'))
      .finally(() => {
        if (this.current === control) this.current = null;
      });
  }

  control(type: 'sample/pause' | 'sample/resume' | 'sample/cancel'): void {
    controlRun(this.current, type, this.post);
  }

  /** An uploaded image (RGBA) as a 28×28 digit, or a clear error. */
  convert(id: number, width: number, height: number, rgba: Uint8Array): void {
    const { pixels, inverted, blank } = toMnistDigit({ width, height, data: rgba, channels: 4 });
    this.post({ type: 'edit/converted', id, pixels, inverted, blank });
  }
}
