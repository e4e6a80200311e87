/**
 * The engine's side of the Compare panel: loads the pretrained pixel DDPM, the LDM and the
 * evaluation classifier (models/<kind>/ on the site, validated like an import), measures every case
 * (./compare.ts) and posts a row per case, with progress (steps/s, time left) as it goes. The models
 * are loaded for the run and freed after it, so the engine's own model is never touched.
 *
 * Every reverse step and every classifier batch is a step boundary (RunControl), so Stop, and the
 * page's training or sampling, which stop a comparison first, wait for one model step at most.
 */
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../diffusion';
import { SAMPLER_KINDS, samplerStepsLabel } from '../diffusion/config';
import type { MnistDataset } from '../data/mnist';
import type { Classifier } from '../models/classifier';
import type { CompareSettings } from '../eval/compare-report';
import type { ModelKind } from '../models/setup/model-setup';
import type { WorkerToPage } from '../protocol/messages';
import { caseSteps, measureCase, SCORE_BATCH, sweepCases, type CompareCase, type CompareModel, type QualityContext } from '../eval/compare';
import { loadClassifier } from '../io/classifier-files';
import { makeReference, realDigits, scoreImages, type EvalReference } from '../eval/evaluate';
import { loadModel } from '../io/model-files';
import { PretrainedError, readPretrainedFiles, type PretrainedReader } from '../io/pretrained';
import { RunCancelled, RunControl } from './run-control';
import { runEvaluations, validateEvaluations, type EvaluationsProgress } from './compare-evaluations';
import { Throttle } from './throttle';

export interface CompareDeps {
  post: (message: WorkerToPage) => void;
  read: PretrainedReader | undefined;
  loadData: () => Promise<MnistDataset>;
}

export const COMPARE_LIMITS = { maxSteps: 1000, maxBatch: 256, maxReps: 20, maxQualityImages: 1000, minReference: 100, maxReference: 9000, maxSweepSteps: 12 } as const;

/** Throws a message naming the first bad setting. */
export function validateCompareSettings(s: CompareSettings): void {
  const int = (name: string, x: number, lo: number, hi: number) => {
    if (!(Number.isInteger(x) && x >= lo && x <= hi)) throw new Error(`Compare: ${name} must be a whole number from ${lo} to ${hi}, got ${x}.`);
  };
  if (!(SAMPLER_KINDS as readonly string[]).includes(s.sampler)) throw new Error(`Compare: unknown sampler '${String(s.sampler)}'.`);
  int('steps', s.steps, 1, COMPARE_LIMITS.maxSteps);
  int('batch', s.batch, 1, COMPARE_LIMITS.maxBatch);
  int('repeats', s.reps, 1, COMPARE_LIMITS.maxReps);
  int('quality samples', s.qualityImages, 0, COMPARE_LIMITS.maxQualityImages);
  if (s.qualityImages === 1) throw new Error('Compare: quality needs at least 2 samples (or 0 for timing only).');
  int('FD reference digits', s.referenceDigits, COMPARE_LIMITS.minReference, COMPARE_LIMITS.maxReference);
  int('seed', s.seed, 0, 2 ** 31 - 1);
  if (!(Number.isFinite(s.guidance) && s.guidance >= 0 && s.guidance <= 20)) throw new Error(`Compare: guidance must be a number from 0 to 20, got ${s.guidance}.`);
  if (!Array.isArray(s.sweepSteps) || s.sweepSteps.length > COMPARE_LIMITS.maxSweepSteps) throw new Error(`Compare: at most ${COMPARE_LIMITS.maxSweepSteps} sweep step counts.`);
  s.sweepSteps.forEach((x) => int('a sweep step count', x, 1, COMPARE_LIMITS.maxSteps));
  if (s.evaluations != null) validateEvaluations(s.evaluations);
}

/** Starts a phase counting `total` of `unit` from zero; `label` renames it, `total` re-estimates it. */
type Progress = EvaluationsProgress;

const MODEL_NAMES: Record<ModelKind, string> = { pixel: 'pixel DDPM', latent: 'LDM' };

export class CompareSession {
  private control: RunControl | null = null;
  private finished: Promise<void> = Promise.resolve();
  /** The FD reference of the last run (plain numbers, no tensors): the same classifier and digits give the same one. */
  private reference: EvalReference | null = null;

  constructor(private readonly deps: CompareDeps) {}

  get running(): boolean {
    return this.control != null;
  }

  /** Starts a comparison (after cancelling one in progress); it runs on after this returns. */
  async start(settings: CompareSettings): Promise<void> {
    validateCompareSettings(settings);
    await this.stop();
    const control = new RunControl();
    this.control = control;
    this.deps.post({ type: 'compare/state', state: 'running', message: null, backend: tf.getBackend() });
    this.finished = this.run(settings, control)
      .then(
        () => this.deps.post({ type: 'compare/state', state: 'done', message: null, backend: tf.getBackend() }),
        (err: unknown) => {
          const cancelled = err instanceof RunCancelled;
          const message = cancelled ? null : err instanceof Error ? err.message : String(err);
          this.deps.post({ type: 'compare/state', state: cancelled ? 'cancelled' : 'failed', message, backend: tf.getBackend() });
        },
      )
      .finally(() => {
        if (this.control === control) this.control = null;
      });
  }

  /** Resolves when the comparison in progress (if any) has ended. */
  whenDone(): Promise<void> {
    return this.finished;
  }

  /** Cancels the comparison in progress (at its next step boundary) and waits for it to end. */
  async stop(): Promise<void> {
    this.control?.cancel();
    await this.finished;
  }

  private async loadModel(kind: ModelKind): Promise<CompareModel> {
    if (this.deps.read == null) throw new PretrainedError('This engine cannot fetch pretrained models.', 'unreadable');
    const files = await readPretrainedFiles(this.deps.read, kind);
    const { model, info } = loadModel(files.modelJson, files.weightsBin);
    if (info.setup.kind !== kind) {
      model.dispose();
      throw new PretrainedError(`The pretrained ${kind} model is damaged: its model.json holds a ${info.setup.kind} model.`, 'damaged');
    }
    return { kind, model, setup: info.setup, schedule: makeSchedule(info.setup.schedule) };
  }

  private async loadClassifier(): Promise<Classifier> {
    const read = this.deps.read;
    if (read == null) throw new PretrainedError('This engine cannot fetch pretrained models.', 'unreadable');
    const [json, bin] = await Promise.all([read('classifier/model.json'), read('classifier/weights.bin')]);
    if (json == null || bin == null) throw new PretrainedError('There is no evaluation classifier (models/classifier/): quality needs it; set quality samples to 0 to time only.', 'missing');
    return loadClassifier(JSON.parse(new TextDecoder().decode(json)), bin).model;
  }

  /** The classifier, the held-out floor and the FD reference (scored with progress, or the cached one). */
  private async qualityContext(classifier: Classifier, settings: CompareSettings, progress: Progress, control: RunControl): Promise<QualityContext> {
    const real = realDigits(await this.deps.loadData(), settings.qualityImages, settings.referenceDigits);
    if (this.reference?.n !== real.reference.n) {
      this.reference = null;
      progress.phase(`scoring ${real.reference.n} real digits (FD reference)`, 'digits', real.reference.n);
      const onBatch = (done: number) => {
        progress.set(done);
        return control.stepBoundary();
      };
      const features = (await scoreImages(classifier, real.reference.pixels, real.reference.n, SCORE_BATCH, onBatch)).features;
      this.reference = makeReference(features, { subsets: 1, subsetSize: Math.min(1000, real.reference.n) });
    }
    return { classifier, reference: this.reference, floor: real.floor, floorFd: new Map() };
  }

  /** Quality against model evaluations on one model (./compare-evaluations.ts). */
  private async runEvaluations(settings: CompareSettings, control: RunControl): Promise<void> {
    const evaluations = settings.evaluations!;
    const read = this.deps.read;
    if (read == null) throw new PretrainedError('This engine cannot fetch pretrained models.', 'unreadable');
    const progress = this.progress(control);
    progress.phase('loading the evaluation classifier');
    const classifier = await this.loadClassifier();
    try {
      await control.stepBoundary();
      const quality = await this.qualityContext(classifier, { ...settings, qualityImages: evaluations.n }, progress, control);
      await runEvaluations({
        settings: { ...settings, evaluations }, control, progress, read, quality,
        loadPretrained: (kind) => this.loadModel(kind),
        postRow: (row) => this.deps.post({ type: 'compare/row', row }),
      });
    } finally {
      classifier.dispose();
    }
  }

  private async run(settings: CompareSettings, control: RunControl): Promise<void> {
    if (settings.evaluations != null) return this.runEvaluations(settings, control);
    const models: CompareModel[] = [];
    let classifier: Classifier | null = null;
    try {
      const progress = this.progress(control);
      progress.phase('loading the pretrained models');
      for (const kind of ['pixel', 'latent'] as const) {
        models.push(await this.loadModel(kind));
        await control.stepBoundary();
      }
      let quality: QualityContext | null = null;
      if (settings.qualityImages > 0) {
        classifier = await this.loadClassifier();
        await control.stepBoundary();
        quality = await this.qualityContext(classifier, settings, progress, control);
      }
      const T = Math.min(...models.map((m) => m.schedule.T));
      if (settings.steps > T) throw new Error(`Compare: steps must be at most the models' T = ${T}, got ${settings.steps}.`);
      const main: CompareCase = { sampler: settings.sampler, steps: settings.steps };
      const cases = [{ c: main, sweep: false }, ...sweepCases(settings.sweepSteps, T).map((c) => ({ c, sweep: true }))];
      progress.phase('sampling', 'steps', models.length * cases.reduce((sum, { c }) => sum + caseSteps(c, settings, quality != null), 0));
      for (const { c, sweep } of cases) {
        for (const m of models) {
          progress.label(`${MODEL_NAMES[m.kind]}, ${samplerStepsLabel(c.sampler, c.steps)}`);
          const row = await measureCase(m, c, settings, quality, sweep, { onStep: progress.step, stepBoundary: () => control.stepBoundary() });
          this.deps.post({ type: 'compare/row', row });
        }
      }
    } finally {
      for (const m of models) m.model.dispose();
      classifier?.dispose();
    }
  }

  /**
   * Progress messages, at most 10 per second, with a rate and time left. A phase counts its own unit
   * (digits scored for the FD reference, then sampler steps) from its own start; a label renames it.
   */
  private progress(control: RunControl): Progress {
    const throttle = new Throttle(10);
    let t0 = performance.now();
    let unit: 'steps' | 'digits' = 'steps';
    let total = 0;
    let done = 0;
    let phase = '';
    const post = (force: boolean) => {
      if (control.state === 'cancelled' || !throttle.ready(force)) return;
      const seconds = (performance.now() - t0) / 1000;
      const stepsPerSec = seconds > 0 ? done / seconds : 0;
      this.deps.post({ type: 'compare/progress', phase, unit, done, total, stepsPerSec, etaSec: stepsPerSec > 0 ? (total - done) / stepsPerSec : 0 });
    };
    return {
      phase: (p, u = 'steps', n = 0) => {
        [phase, unit, total, done, t0] = [p, u, n, 0, performance.now()];
        post(true);
      },
      label: (p) => {
        phase = p;
        post(true);
      },
      total: (n) => {
        total = n;
        post(done === total);
      },
      set: (n) => {
        done = n;
        post(done === total);
      },
      step: () => {
        done++;
        post(done === total);
      },
    };
  }
}
