/**
 * The live quality curve (src/engine/quality-curve.ts): its budget keeps the checks' share of the
 * time at or under the limit (a fake clock); checks interleaved with training leave the tensor
 * count unchanged once the classifier is loaded, and disposing the curve frees it; a check's
 * figures are src/eval's (`evaluate`) for the same samples; a pause ends a check within one slice.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../src/backends/node';
import { loadMnistNode } from '../../src/data/load-node';
import { splitTrainHeldOut, type MnistDataset } from '../../src/data/mnist';
import { createBatchProvider } from '../../src/data/batches';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { DiffusionModel } from '../../src/models/diffusion-model';
import { createUNet } from '../../src/models/unet';
import { UNET_CONFIGS } from '../../src/models/setup/unet-config';
import { Trainer } from '../../src/engine/trainer';
import { runTraining } from '../../src/engine/training-run';
import { RunControl } from '../../src/engine/run-control';
import { WorkBudget } from '../../src/engine/throttle';
import { QUALITY_REFERENCE_DIGITS, QualityCurve, qualityRequest } from '../../src/engine/quality-curve';
import { dirReader } from '../../src/io/pretrained-node';
import { loadClassifier } from '../../src/io/classifier-files';
import { evaluate } from '../../src/eval/evaluate';
import { generateImages } from '../../src/sampling/generate';
import type { WorkerToPage } from '../../src/protocol/messages';
import type { QualityPoint, QualitySettings } from '../../src/protocol/quality-messages';

const schedule = makeSchedule({ ...DEFAULT_SCHEDULE, T: 100 });
const read = dirReader(join(process.cwd(), 'public/models'));
const settings: QualitySettings = { samples: 20, steps: 2, share: 0.5 };
let data: MnistDataset;

beforeAll(async () => {
  await initNodeBackend('wasm');
  data = await loadMnistNode();
});

/** `now`: the curve's clock (a clock that stands still makes every step's check due). */
function setup(share = settings.share, now?: () => number) {
  const model = new DiffusionModel('pixel', createUNet({ ...UNET_CONFIGS.tiny, numClasses: 10 }, 1), null);
  const trainer = new Trainer({ model, schedule, prediction: 'epsilon', learningRate: 1e-3, seed: 0 });
  const messages: WorkerToPage[] = [];
  const quality = new QualityCurve({ post: (m) => messages.push(m), read, loadData: async () => data, now });
  quality.set({ ...settings, share });
  const points = () => messages.flatMap((m) => (m.type === 'quality/point' ? [m.point] : []));
  const at = (control: RunControl) => ({ model, schedule, prediction: 'epsilon' as const, control, step: trainer.step, trainingMs: 0 });
  const dispose = () => {
    quality.dispose();
    trainer.dispose();
    model.dispose();
  };
  return { model, trainer, quality, messages, points, at, dispose };
}

describe('the quality budget', () => {
  it('keeps the checks under their share of the time, whatever they cost (fake clock)', () => {
    let now = 0;
    const share = 0.08;
    const budget = new WorkBudget(share, () => now);
    let work = 0;
    const costs = [3000, 500, 12000, 800, 4000];
    for (let step = 0, k = 0; now < 3_600_000; step++) {
      now += 150; // a training step
      if (budget.ready()) {
        const d = costs[k++ % costs.length];
        now += d; // a check, booked when it ends
        work += d;
        budget.book(d);
      }
    }
    // Over an hour the checks' share is the limit at most (the last check may end the hour early).
    expect(work / now).toBeLessThanOrEqual(share + 12000 / 3_600_000);
    expect(work / now).toBeGreaterThan(share * 0.9);
  });
});

describe('QualityCurve', () => {
  it('checks interleaved with training leave the tensor count unchanged; dispose frees the classifier', async () => {
    const { trainer, quality, points, at, dispose, model } = setup(settings.share, () => 0);
    const provider = createBatchProvider(data, splitTrainHeldOut(data).train, 4, 0);
    const step = () => {
      const b = provider.next();
      return trainer.trainStep(b.x, [4, 28, 28, 1], b.labels);
    };
    const before = tf.memory().numTensors;
    const result = step(); // Adam's slots exist from here on
    tf.dispose([result.loss, result.itemLosses]);
    const trained = tf.memory().numTensors;
    await quality.afterStep(at(new RunControl())); // loads the classifier
    expect(points()).toHaveLength(1);
    const withClassifier = tf.memory().numTensors;
    const control = new RunControl();
    const counts: number[] = [];
    await runTraining({
      stage: 'denoiser',
      totalSteps: trainer.step + 4,
      takeStep: step,
      stepCount: () => trainer.step,
      control,
      post: () => {},
      previewEvery: 0,
      preview: async () => {},
      afterStep: async (s, ms) => {
        await quality.afterStep({ model, schedule, prediction: 'epsilon', control, step: s, trainingMs: ms });
        counts.push(tf.memory().numTensors);
      },
    });
    expect(points()).toHaveLength(5); // the clock stands still: a check after every step
    expect(new Set(counts)).toEqual(new Set([withClassifier]));
    quality.dispose();
    expect(tf.memory().numTensors).toBe(trained);
    dispose();
    expect(tf.memory().numTensors).toBeLessThan(before); // the model's own tensors were counted in `before`
  }, 240_000);

  it("a check's figures are src/eval's for the same samples", async () => {
    const { quality, points, at, dispose, model } = setup();
    await quality.afterStep(at(new RunControl()));
    const [p] = points() as [QualityPoint];
    const samples = await generateImages(model, schedule, 'epsilon', qualityRequest(settings));
    const [json, bin] = await Promise.all([read('classifier/model.json'), read('classifier/weights.bin')]);
    const { model: classifier } = loadClassifier(JSON.parse(new TextDecoder().decode(json!)), bin!);
    const report = await evaluate(classifier, data, { n: settings.samples, pixels: samples }, settings.samples, { referenceCount: QUALITY_REFERENCE_DIGITS, kid: { subsets: 1, subsetSize: 20 } });
    classifier.dispose();
    expect(p.n).toBe(settings.samples);
    expect(p.confidence).toBeCloseTo(report.samples!.meanConfidence, 10);
    expect(p.labelEntropy).toBeCloseTo(report.samples!.labelEntropy, 10);
    expect(p.histogram).toEqual(report.samples!.histogram);
    expect(p.fd).toBeCloseTo(report.samples!.fd, 6);
    expect(p.floorFd).toBeCloseTo(report.floor.fd, 6);
    dispose();
  }, 240_000);

  it('a pause ends a check at its next slice: no point, nothing left allocated', async () => {
    const { quality, points, at, dispose, messages } = setup();
    await quality.afterStep(at(new RunControl())); // classifier and reference ready
    const held = tf.memory().numTensors;
    quality.set({ samples: 200, steps: 10, share: 0.49 }); // a new share: a new budget, so the check is due at once
    const control = new RunControl();
    const check = quality.afterStep(at(control));
    setTimeout(() => control.pause(), 0); // lands at the check's first slice boundary
    const t0 = performance.now();
    await check;
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(quality.counts.interrupted).toBe(1);
    expect(points()).toHaveLength(1);
    expect(messages.some((m) => m.type === 'quality/status' && m.status === 'failed')).toBe(false);
    expect(tf.memory().numTensors).toBe(held);
    dispose();
  }, 240_000);
});
