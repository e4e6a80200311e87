/**
 * The adaptive solver and early stopping as the app streams them: the player's predicted noise at
 * fractional timesteps, the step record of a run that ends before the steps it was laid out for
 * (worker's StepRecorder → page's DenoisingRecord), the run's summary, and the URL keys.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLER,
  DEFAULT_SCHEDULE,
  adaptiveDpmSolver,
  continuousSchedule,
  createSampler,
  makeSchedule,
  mixturePosteriorMeans,
  sampleLoop,
  type DenoiseFn,
  type SampleFrame,
} from '../../src/diffusion';
import { withPredictedNoise } from '../../src/sampling/sample';
import { maxRunSteps } from '../../src/sampling/config';
import { StepRecorder } from '../../src/engine/step-record';
import { DenoisingRecord } from '../../src/state/denoising-record';
import { applyValues, buildQuery, decodeShare, encodeShare, type Settings } from '../../src/state/share';
import { DEFAULT_SAMPLING, DEFAULT_SETUP, DEFAULT_TRAINING } from '../../src/state/store';
import { runCaption } from '../../src/state/run-caption';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const schedule = makeSchedule(DEFAULT_SCHEDULE);
const cs = continuousSchedule(schedule);
const MIX = [
  { weight: 0.4, mean: -0.4, std: 0.2 },
  { weight: 0.6, mean: 0.5, std: 0.2 },
];
const model: DenoiseFn = (xt, t) => tf.tidy(() => mixturePosteriorMeans(MIX, xt, cs.alphaBar(t)).eps);
const shape: [number, number, number, number] = [2, 3, 3, 1];

/** Records a run as the engine does (planned steps, the last frame flagged) and hands every message to a page record. */
function record(frames: Generator<SampleFrame, void, void>, xT: tf.Tensor4D, planned: number) {
  const page = new DenoisingRecord();
  page.begin(1);
  const recorder = new StepRecorder(1, planned, { n: shape[0], h: shape[1], w: shape[2], c: shape[3] }, null);
  recorder.start(xT.dataSync());
  let steps = 0;
  let maxResidual = 0;
  for (const f of withPredictedNoise(frames, xT, schedule, 'epsilon')) {
    steps++;
    // x_t = √ᾱ·x̂0 + √(1−ᾱ)·ε̂ at the step's (possibly fractional) t.
    const ab = cs.alphaBar(f.t);
    const r = tf.tidy(() => tf.max(tf.abs(tf.sub(f.input, tf.add(tf.mul(f.x0, Math.sqrt(ab)), tf.mul(f.eps, Math.sqrt(1 - ab)))))).dataSync()[0]);
    maxResidual = Math.max(maxResidual, r);
    recorder.add({ t: Math.round(f.t), xNext: f.xt.dataSync(), x0: f.x0.dataSync(), eps: f.eps.dataSync() }, f.index === f.total - 1);
    const m = recorder.flush();
    if (m) page.add(m);
  }
  return { page, steps, maxResidual };
}

describe('adaptive and early-stopped runs in the player', () => {
  it('an adaptive run fills the record up to its own step count, with the final sample last', () => {
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const planned = maxRunSteps({ adaptive: '12', steps: 20 });
    expect(planned).toBe(250);
    expect(maxRunSteps({ adaptive: '23', steps: 20 })).toBe(166);
    expect(maxRunSteps({ adaptive: 'sde', steps: 20 })).toBe(250);
    expect(maxRunSteps({ adaptive: 'off', steps: 20 })).toBe(20);
    const { page, steps, maxResidual } = record(adaptiveDpmSolver(model, schedule, 'epsilon', xT, { order: 2, rtol: 0.01, atol: 0.01 }), xT, planned);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxResidual).toBeLessThan(1e-3);
    const s = page.store.getState();
    expect(steps).toBeGreaterThan(3);
    expect(s.steps).toBe(steps);
    expect(s.capacity).toBe(steps + 1);
    expect(s.filled).toBe(steps + 1);
    expect(page.frame(steps)?.t).toBe(-1);
    expect(page.frame(steps)?.position).toBe(steps);
    xT.dispose();
  });

  it('an early-stopped run ends at the stop, and its summary reaches the record', () => {
    const xT = tf.randomNormal(shape, 0, 1, 'float32', 4) as tf.Tensor4D;
    const integerModel: DenoiseFn = (x, t) => tf.tidy(() => mixturePosteriorMeans(MIX, x, schedule.alphasCumprod[t]).eps);
    const sampler = createSampler(schedule, { ...DEFAULT_SAMPLER, kind: 'ddim', steps: 30, spacing: 'trailing', clipping: 'none' }, 'epsilon');
    const { page, steps } = record(sampleLoop(integerModel, sampler, xT, undefined, { earlyStop: { criterion: 'noise', threshold: 0.3 } }), xT, 30);
    expect(steps).toBeLessThan(30);
    expect(page.store.getState().steps).toBe(steps);
    expect(page.frame(page.store.getState().filled - 1)?.t).toBe(-1);
    page.add({ type: 'sample/summary', run: 1, steps, evaluations: steps, plannedSteps: 30, earlyStop: { index: steps - 1, value: 0.2, saved: 30 - steps }, attempts: null });
    expect(page.store.getState().summary?.earlyStop?.saved).toBe(30 - steps);
    page.add({ type: 'sample/summary', run: 0, steps: 1, evaluations: 1, plannedSteps: 1, earlyStop: null, attempts: null });
    expect(page.store.getState().summary?.steps, "an old run's summary is dropped").toBe(steps);
    xT.dispose();
  });
});

describe('sampling settings in the URL and the caption', () => {
  const DEFAULTS: Settings = { setup: DEFAULT_SETUP, training: DEFAULT_TRAINING, sampling: DEFAULT_SAMPLING };

  it('adaptive and early-stop settings survive a link, and the defaults write nothing', () => {
    expect(encodeShare(DEFAULTS, DEFAULTS)).toEqual([]);
    const sampling = { ...DEFAULT_SAMPLING, adaptive: '23' as const, rtol: 0.01, atol: 0.002, earlyStop: 'change' as const, earlyStopThreshold: 0.05 };
    const query = buildQuery('', encodeShare({ ...DEFAULTS, sampling }, DEFAULTS), false);
    expect(query).toContain('adaptive=23');
    expect(query).toContain('estop=change');
    const link = decodeShare(query);
    expect(link.notes).toEqual([]);
    expect(applyValues(DEFAULTS, link.values).sampling).toEqual(sampling);
    // Back to 'off' leaves no key (and no field) behind.
    const off = applyValues({ ...DEFAULTS, sampling }, decodeShare('?adaptive=off&estop=off').values).sampling;
    expect(off.adaptive).toBeUndefined();
    expect(off.earlyStop).toBeUndefined();
  });

  it('the caption names the adaptive solver and the early stop', () => {
    const caption = runCaption(DEFAULT_SETUP, { ...DEFAULT_SAMPLING, adaptive: '12', rtol: 0.05, atol: 0.0078, earlyStop: 'noise', earlyStopThreshold: 0.1 });
    expect(caption).toContain('Adaptive DPM-Solver-12 (rtol 0.05, atol 0.0078)');
    expect(caption).toContain('early stop (noise ≤ 0.1)');
  });
});
