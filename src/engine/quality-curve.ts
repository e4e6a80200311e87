/**
 * The live quality curve (issue 18): between training steps, now and then, the model samples a few
 * hundred digits at few DDIM steps (EMA weights when it keeps them, digits cycling 0..9 as
 * ../sampling/generate.ts does) and the evaluation classifier scores them as `npm run eval` does
 * (../eval/evaluate.ts): mean confidence, label entropy, and FD to a reference of real training
 * digits beside the floor, N held-out digits against the same reference.
 *
 * Cost: a check runs only when its WorkBudget (./throttle.ts) allows, so that checks take at most
 * `share` of the wall time and training keeps the rest of its steps/s. A check is done in slices
 * (one reverse step of one batch, or one classifier batch); between slices the worker handles its
 * messages, and a pause, a stop or turning the curve off ends the check there (the training loop
 * then pauses or stops as usual; a later check starts over). The classifier is loaded once, on the
 * first check, and the reference and floor features are kept as plain numbers.
 */
import type { NoiseSchedule } from '../diffusion';
import type { PredictionType } from '../diffusion/config';
import type { MnistDataset } from '../data/mnist';
import type { Classifier } from '../models/classifier';
import type { DiffusionModel } from '../models/diffusion-model';
import type { WorkerToPage } from '../protocol/messages';
import { clampQuality, type QualitySettings } from '../protocol/quality-messages';
import { generateImages, type GenerateRequest } from '../sampling/generate';
import { realDigits, scoreImages } from '../eval/evaluate';
import { featureStats, frechetDistance, type FeatureStats } from '../eval/frechet';
import { loadClassifier } from '../io/classifier-files';
import type { PretrainedReader } from '../io/pretrained';
import { yieldToEventLoop, type RunControl } from './run-control';
import { WorkBudget } from './throttle';

/** Training digits in the FD reference (the Compare panel's quick run uses 200, `npm run eval` 9,000). */
export const QUALITY_REFERENCE_DIGITS = 1000;
/** Images per sampling batch and per classifier batch (a multiple of 10: digits cycle 0..9 within each). */
export const QUALITY_BATCH = 50;
/** The checks' samples are the same noise every time (seed), so the curve moves with the model, not the draw. */
export const QUALITY_SEED = 0;

/** The sampling request of a check: DDIM (η = 0) at `steps`, guidance 1 (conditional only), every digit. */
export function qualityRequest(settings: QualitySettings): GenerateRequest {
  return {
    kind: 'ddim',
    steps: settings.steps,
    eta: 0,
    spacing: 'leading',
    ddpmVariance: 'betaTilde',
    clipping: 'clip',
    guidance: 1,
    numImages: settings.samples,
    seed: QUALITY_SEED,
    digit: null,
    batch: Math.min(QUALITY_BATCH, settings.samples),
  };
}

export interface QualityCurveDeps {
  post: (message: WorkerToPage) => void;
  /** Reads the site's model files (the classifier is models/classifier/). */
  read: PretrainedReader | undefined;
  loadData: () => Promise<MnistDataset>;
  now?: () => number;
}

/** What a check needs from the training run it interrupts. */
export interface QualityStep {
  model: DiffusionModel;
  schedule: NoiseSchedule;
  prediction: PredictionType;
  control: RunControl;
  step: number;
  /** Training time so far, ms (this check not included). */
  trainingMs: number;
}

/** A check ended early (pause, stop, curve turned off); nothing is posted. */
class CheckInterrupted extends Error {}

export class QualityCurve {
  private settings: QualitySettings | null = null;
  private budget: WorkBudget | null = null;
  private classifier: Classifier | null = null;
  private reference: FeatureStats | null = null;
  private readonly floorFd = new Map<number, number>();
  private readonly now: () => number;
  /** Checks completed and interrupted (for tests and the benchmark). */
  readonly counts = { done: 0, interrupted: 0, ms: 0 };

  constructor(private readonly deps: QualityCurveDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  get enabled(): boolean {
    return this.settings != null;
  }

  /** Whether a check would run after the next training step. */
  get due(): boolean {
    return this.settings != null && (this.budget?.ready() ?? false);
  }

  /** Turns the curve on (settings) or off (null); a new share starts a new budget. */
  set(settings: QualitySettings | null): void {
    const next = settings ? clampQuality(settings) : null;
    if (next && (this.budget == null || next.share !== this.settings?.share)) this.budget = new WorkBudget(next.share, this.now);
    this.settings = next;
  }

  /** Called after every training step: runs a check when the curve is on and the budget allows. */
  async afterStep(at: QualityStep): Promise<void> {
    const settings = this.settings;
    if (settings == null || !this.due || at.control.state !== 'running') return;
    const start = this.now();
    const boundary = async () => {
      await yieldToEventLoop();
      if (at.control.state !== 'running' || this.settings == null) throw new CheckInterrupted();
    };
    try {
      const { classifier, reference, floorFd } = await this.prepare(settings.samples, boundary);
      const pixels = await generateImages(at.model, at.schedule, at.prediction, qualityRequest(settings), undefined, boundary);
      const scores = await scoreImages(classifier, pixels, settings.samples, QUALITY_BATCH, boundary);
      const fd = frechetDistance(featureStats(scores.features), reference);
      const checkMs = this.now() - start;
      this.counts.done++;
      this.deps.post({
        type: 'quality/point',
        point: { step: at.step, trainingSec: (at.trainingMs + checkMs) / 1000, n: scores.n, confidence: scores.meanConfidence, labelEntropy: scores.labelEntropy, histogram: scores.histogram, fd, floorFd, checkMs },
      });
    } catch (err) {
      if (!(err instanceof CheckInterrupted)) {
        // The curve stops (a missing classifier would fail every time); training goes on.
        this.settings = null;
        this.deps.post({ type: 'quality/status', status: 'failed', message: `The quality curve stopped: ${err instanceof Error ? err.message : String(err)}` });
      } else this.counts.interrupted++;
    } finally {
      const ms = this.now() - start;
      this.counts.ms += ms;
      this.budget?.book(ms);
    }
  }

  /** The classifier (loaded once), the reference's feature statistics and the floor at N (computed once each). */
  private async prepare(n: number, boundary: () => Promise<void>): Promise<{ classifier: Classifier; reference: FeatureStats; floorFd: number }> {
    if (this.classifier == null) {
      this.deps.post({ type: 'quality/status', status: 'loading', message: null });
      this.classifier = await this.loadClassifier();
    }
    const classifier = this.classifier;
    let floorFd = this.floorFd.get(n);
    if (this.reference == null || floorFd == null) {
      const real = realDigits(await this.deps.loadData(), n, QUALITY_REFERENCE_DIGITS);
      if (real.floor.n < n) throw new Error(`the floor needs ${n} held-out digits; there are ${real.floor.n}.`);
      this.reference ??= featureStats((await scoreImages(classifier, real.reference.pixels, real.reference.n, QUALITY_BATCH, boundary)).features);
      floorFd = frechetDistance(featureStats((await scoreImages(classifier, real.floor.pixels, n, QUALITY_BATCH, boundary)).features), this.reference);
      this.floorFd.set(n, floorFd);
      this.deps.post({ type: 'quality/status', status: 'ready', message: null });
    }
    return { classifier, reference: this.reference, floorFd };
  }

  private async loadClassifier(): Promise<Classifier> {
    const read = this.deps.read;
    if (read == null) throw new Error('this engine cannot read the evaluation classifier.');
    const [json, bin] = await Promise.all([read('classifier/model.json'), read('classifier/weights.bin')]);
    if (json == null || bin == null) throw new Error('there is no evaluation classifier (models/classifier/).');
    return loadClassifier(JSON.parse(new TextDecoder().decode(json)), bin).model;
  }

  /** Frees the classifier (the next check loads it again). */
  dispose(): void {
    this.classifier?.dispose();
    this.classifier = null; // the reference and floor are plain numbers
  }
}
