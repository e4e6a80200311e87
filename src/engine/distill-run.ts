/**
 * The worker's host of the Training panel's Distill stage (issue 20): one distillation at a time
 * (./distill-rounds.ts), paused, resumed and stopped at step boundaries. When the last round is done
 * its student becomes the engine's model, as an imported one would: the page's autoencoder and
 * latent normalization with the student as the denoiser (EMA off: the student is sampled as
 * trained), to be sampled with DDIM at its step count, trailing spacing, guidance 1. Stopped or
 * failed, the page's model stays the teacher, untouched.
 */
import type { NoiseSchedule } from '../diffusion';
import type { DataState } from '../data/mnist';
import type { ModelSetup } from '../models/setup/model-setup';
import type { DiffusionModel } from '../models/diffusion-model';
import { buildModel } from '../models/factory';
import type { UNet } from '../models/unet';
import { assignWeights } from '../io/weights-file';
import type { SavedModelInfo } from '../io/model-files';
import type { WorkerToPage } from '../protocol/messages';
import { distillProblem, type DistillSettings, type DistillToWorker } from '../protocol/distill-messages';
import { RunCancelled, RunControl } from './run-control';
import { runDistillRounds, type DistillTarget } from './distill-rounds';

/** A training session's step counts (./training-session.ts). */
export interface StepCounts {
  readonly autoencoderSteps: number;
  readonly denoiserSteps: number;
}

export interface DistillHostDeps {
  post: (message: WorkerToPage) => void;
  /** The engine's model and data now; throws, in words, when there is no trained model to distil. */
  target(): Promise<DistillTarget>;
  /** Frees the device for the run: training paused; sampling, edits and comparisons stopped. */
  prepare(): Promise<void>;
  /** Makes `model` the engine's model (the teacher is freed), says so with `announce`, then describes the new model. */
  adopt(model: DiffusionModel, info: SavedModelInfo, announce: WorkerToPage): Promise<void>;
}

/** The engine's model to distil with its data and step counts; throws, in words, when it is not trained. */
export function distillTarget(model: DiffusionModel | null, setup: ModelSetup, schedule: NoiseSchedule, steps: StepCounts | null, data: DataState): DistillTarget {
  if (model == null || steps == null || steps.denoiserSteps === 0) {
    throw new Error('There is no trained denoiser to distil: load a pretrained model (Model panel) or train the denoiser first.');
  }
  if (model.kind === 'latent' && model.latent == null) throw new Error('The autoencoder is not trained: train stage 1, then the latent denoiser, then distil.');
  return { model, setup, schedule, data, autoencoderSteps: steps.autoencoderSteps, denoiserSteps: steps.denoiserSteps };
}

/** The student as a whole model: the teacher's setup (EMA off), autoencoder and latent normalization. */
function studentModel(target: DistillTarget, student: UNet, settings: DistillSettings, rounds: number): { model: DiffusionModel; info: SavedModelInfo } {
  const setup: ModelSetup = { ...target.setup, emaDecay: 0 };
  const model = buildModel(setup, 0);
  try {
    assignWeights(model.denoiser.weights, student.weights);
    if (model.autoencoder && target.model.autoencoder) assignWeights(model.autoencoder.weights, target.model.autoencoder.weights);
    model.latent = target.model.latent;
  } catch (err) {
    model.dispose();
    throw err;
  }
  const denoiserSteps = target.denoiserSteps + rounds * settings.stepsPerRound;
  return { model, info: { setup, latent: model.latent, autoencoderSteps: target.autoencoderSteps, denoiserSteps, history: null } };
}

export class DistillHost {
  private control: RunControl | null = null;
  /** Settles when the run in progress has freed its tensors (never rejects). */
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DistillHostDeps) {}

  /** Whether a distillation is in progress (running or paused). */
  get running(): boolean {
    return this.control !== null;
  }

  handle(message: DistillToWorker): Promise<void> | void {
    switch (message.type) {
      case 'distill/start':
        return this.start(message.settings);
      case 'distill/pause':
        if (this.control?.state !== 'running') return;
        this.control.pause();
        return this.deps.post({ type: 'distill/state', state: 'paused', message: null });
      case 'distill/resume':
        if (this.control?.state !== 'paused') return;
        this.control.resume();
        return this.deps.post({ type: 'distill/state', state: 'running', message: null });
      case 'distill/stop':
        return this.stop();
    }
  }

  /** Cancels the run in progress, if any, and waits until it has freed its tensors (the model stays the teacher). */
  async stop(): Promise<void> {
    this.control?.cancel();
    await this.done;
  }

  /** Starts a distillation of the engine's model; throws (nothing started) on bad settings or an untrained model. */
  private async start(settings: DistillSettings): Promise<void> {
    if (this.control) throw new Error('A distillation is already running: stop it first.');
    const target = await this.deps.target();
    const problem = distillProblem(settings, target.schedule.T);
    if (problem) throw new Error(problem);
    await this.deps.prepare();
    const control = new RunControl();
    this.control = control;
    const { post } = this.deps;
    post({ type: 'distill/state', state: 'running', message: null });
    const run = runDistillRounds({ target, settings, control, post });
    this.done = run.then(
      () => undefined,
      () => undefined,
    );
    // Installing the student stops the engine's runs (this one among them): it happens after `done` has settled.
    void run
      .then(
        async (student) => {
          const rounds = Math.log2(settings.fromSteps / settings.toSteps);
          if (this.control === control) this.control = null;
          let made: { model: DiffusionModel; info: SavedModelInfo };
          try {
            made = studentModel(target, student, settings, rounds);
          } finally {
            student.dispose();
          }
          await this.deps.adopt(made.model, made.info, { type: 'distill/done', setup: made.info.setup, teacherSteps: settings.fromSteps, studentSteps: settings.toSteps });
          post({ type: 'distill/state', state: 'done', message: null });
        },
        (err: unknown) => {
          if (this.control === control) this.control = null;
          if (err instanceof RunCancelled) return post({ type: 'distill/state', state: 'stopped', message: null });
          throw err;
        },
      )
      .catch((err: unknown) => {
        if (this.control === control) this.control = null;
        const message = err instanceof Error ? err.message : String(err);
        post({ type: 'distill/state', state: 'failed', message });
        post({ type: 'error', source: 'distill', message });
      });
  }
}
