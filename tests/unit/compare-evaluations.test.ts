/**
 * Compare's quality against model evaluations (issue 20). Pure: the planned configurations (every
 * method's cases, the student only with the LDM), reading a case, the series the chart draws, the
 * page's settings from its form. Engine (tiny stand-in models from ./pretrained-fixture.ts and an
 * untrained classifier): a row per configuration with its evaluations and FD over the floor, the
 * student's rows skipped with a reason until models/latent-distilled/ is there and measured once it
 * is, a stop within a step, and the same tensor count before and after every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePretrainedFixture } from './pretrained-fixture';
import { dirReader } from '../../src/io/pretrained-node';
import { initNodeBackend } from '../../src/backends/node';
import { loadMnistNode } from '../../src/data/load-node';
import { CompareSession } from '../../src/engine/compare-run';
import { createClassifier } from '../../src/models/classifier';
import { saveClassifier } from '../../src/io/classifier-files';
import { evaluationRequest, summarizeCosts } from '../../src/eval/compare-evaluations';
import { expectedSteps } from '../../src/engine/compare-evaluations';
import { EVALUATION_FAMILIES, evaluationBatch, evaluationSeries, FAMILY_CASES, parseEvaluationCase, planEvaluationCases, type EvaluationRowInfo } from '../../src/protocol/compare-evaluations';
import { applyCompareMessage, createCompareStore, DEFAULT_COMPARE, DEFAULT_EVALUATIONS_FORM, estimateEvaluations, evaluationsSettings } from '../../src/state/compare';
import type { CompareRow, CompareSettings } from '../../src/eval/compare-report';
import type { WorkerToPage } from '../../src/protocol/messages';

describe('quality against evaluations: planning and series', () => {
  it('plans every method, the student at 1, 2, 4 and 8 steps only with the LDM', () => {
    const all = planEvaluationCases(EVALUATION_FAMILIES, 'latent');
    expect(all).toEqual(EVALUATION_FAMILIES.flatMap((f) => [...FAMILY_CASES[f]]));
    expect(all.filter((c) => c.startsWith('student-'))).toEqual(['student-1', 'student-2', 'student-4', 'student-8']);
    expect(planEvaluationCases(EVALUATION_FAMILIES, 'pixel').some((c) => c.startsWith('student'))).toBe(false);
    expect(planEvaluationCases(['student', 'ddim'], 'latent')).toEqual(['ddim-5', 'ddim-10', 'ddim-20', 'student-1', 'student-2', 'student-4', 'student-8']);
    expect(planEvaluationCases([], 'latent')).toEqual([]);
    for (const c of all) expect(parseEvaluationCase(c).text).toBe(c);
    expect(evaluationsSettings(DEFAULT_EVALUATIONS_FORM)).toEqual({ model: 'latent', n: 20, guidance: 1.3, cases: all });
    expect([evaluationBatch(4), evaluationBatch(50), evaluationBatch(200)]).toEqual([4, 50, 50]);
  });

  it('reads each kind of case into its method, and refuses what it cannot read', () => {
    expect(parseEvaluationCase('dpmpp-10')).toMatchObject({ family: 'dpmpp', kind: 'dpmpp', steps: 10, student: false, name: 'DPM-Solver++-10' });
    expect(parseEvaluationCase('adaptive12@0.2/0.1')).toMatchObject({ family: 'adaptive', adaptive: '12', rtol: 0.2, atol: 0.1 });
    expect(parseEvaluationCase('dpmpp-20+noise@1')).toMatchObject({ family: 'early-stop', earlyStop: 'noise', earlyStopThreshold: 1, name: 'DPM-Solver++-20 + early stop (noise ≤ 1)' });
    expect(parseEvaluationCase('student-1')).toMatchObject({ family: 'student', kind: 'ddim', steps: 1, student: true, name: 'distilled student, 1 step' });
    for (const bad of ['student-4+noise@1', 'student-0', 'ddpm-10', 'ddim-5+noise@1+change@1', '']) expect(() => parseEvaluationCase(bad), bad).toThrow(/unknown case/);
  });

  it('samples the student with DDIM over trailing steps at guidance 1, the others with the run’s guidance', () => {
    const base = { n: 8, batch: 4, seed: 3, guidance: 1.3 };
    expect(evaluationRequest(parseEvaluationCase('student-4'), base)).toMatchObject({ kind: 'ddim', steps: 4, spacing: 'trailing', eta: 0, guidance: 1, numImages: 8, batch: 4, seed: 3 });
    expect(evaluationRequest(parseEvaluationCase('dpmpp-20+noise@2'), base)).toMatchObject({ kind: 'dpmpp', steps: 20, guidance: 1.3, earlyStop: 'noise', earlyStopThreshold: 2 });
    expect(summarizeCosts([{ steps: 7, evaluations: 14 }, { steps: 8, evaluations: 17 }])).toEqual({ evaluations: 15.5, evaluationsMin: 14, evaluationsMax: 17, steps: 7.5 });
    expect(expectedSteps(parseEvaluationCase('ddim-10'))).toBe(10);
    expect(expectedSteps(parseEvaluationCase('adaptive12@0.05/0.0078'))).toBeGreaterThan(expectedSteps(parseEvaluationCase('adaptive12@0.4/0.2')));
  });

  it('estimates a run from the configurations’ expected evaluations, longer with more samples or methods', () => {
    const all = estimateEvaluations(DEFAULT_EVALUATIONS_FORM, 200, 'wasm', null);
    expect(all.basis).toBe('flops');
    // DDIM 35 + DPM-Solver++ 38 + adaptive 12 + 15 + 35 + early stop 3 × 20 + student 15.
    expect(all.evaluations).toBe(35 + 38 + 62 + 60 + 15);
    expect(estimateEvaluations({ ...DEFAULT_EVALUATIONS_FORM, n: 100 }, 200, 'wasm', null).seconds).toBeGreaterThan(all.seconds);
    expect(estimateEvaluations({ ...DEFAULT_EVALUATIONS_FORM, families: ['ddim'] }, 200, 'wasm', null).seconds).toBeLessThan(all.seconds);
    // After a run, its rows' measured sampling rate is the basis (and the timed Compare's basis is left alone).
    const store = createCompareStore();
    applyCompareMessage(store, { type: 'compare/state', state: 'running', message: null, backend: 'wasm' });
    const evaluation: EvaluationRowInfo = { case: 'ddim-10', name: 'DDIM-10', family: 'ddim', evaluations: 10, evaluationsMin: 10, evaluationsMax: 10, steps: 10, skipped: null };
    const quality = { n: 20, meanConfidence: 0.9, labelEntropy: 2, fd: 50, floorFd: 40, referenceDigits: 200 };
    const row: CompareRow = { model: 'latent', sampler: 'ddim', steps: 10, batch: 20, msPerImage: 1000, imagesPerSec: 1, peakBytes: 0, flopsPerImage: 1e9, quality, sweep: true, evaluation };
    applyCompareMessage(store, { type: 'compare/row', row });
    const speed = store.getState().speed;
    expect(speed).toMatchObject({ backend: 'wasm', rows: {}, referenceDigits: 200, evaluations: { flops: 1e9, ms: 1000 } });
    const after = estimateEvaluations(DEFAULT_EVALUATIONS_FORM, 200, 'wasm', speed);
    expect(after.basis).toBe('measured');
    expect(after.seconds).not.toBeCloseTo(all.seconds, 0);
  });

  it('builds one series per method, points by evaluations, leaving out skipped and unscored rows', () => {
    const row = (c: string, evaluations: number, fd: number, skipped: string | null = null) => {
      const k = parseEvaluationCase(c);
      const evaluation: EvaluationRowInfo = { case: c, name: k.name, family: k.family, evaluations, evaluationsMin: evaluations, evaluationsMax: evaluations, steps: evaluations, skipped };
      return { evaluation, quality: skipped ? null : { fd, floorFd: 40 } };
    };
    const series = evaluationSeries([row('dpmpp-10', 10, 36), row('dpmpp-5', 5, 38), row('student-4', NaN, NaN, 'not there'), row('ddim-5', 5, 46), row('adaptive12@0.2/0.1', 14.5, 41)]);
    expect(series.map((s) => s.family)).toEqual(['ddim', 'dpmpp', 'adaptive']);
    expect(series[1].points).toEqual([
      { evaluations: 5, ratio: 38 / 40, name: 'DPM-Solver++-5' },
      { evaluations: 10, ratio: 36 / 40, name: 'DPM-Solver++-10' },
    ]);
    expect(evaluationSeries([])).toEqual([]);
  });
});

describe('quality against evaluations: the engine run', () => {
  let root = '';
  beforeAll(async () => {
    await initNodeBackend('wasm');
    root = await mkdtemp(join(tmpdir(), 'compare-evals-'));
    await writePretrainedFixture(root, ['latent']);
    const classifier = createClassifier(7);
    const { modelJson, weightsBin } = await saveClassifier(classifier, { steps: 0, heldOutAccuracy: -1 });
    classifier.dispose();
    await mkdir(join(root, 'classifier'), { recursive: true });
    await writeFile(join(root, 'classifier', 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(root, 'classifier', 'weights.bin'), new Uint8Array(weightsBin));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const settings = (cases: string[], n = 4): CompareSettings => ({ ...DEFAULT_COMPARE, referenceDigits: 200, evaluations: { model: 'latent', n, guidance: 1.3, cases } });
  const run = async (s: CompareSettings) => {
    const messages: WorkerToPage[] = [];
    const session = new CompareSession({ post: (m) => messages.push(m), read: dirReader(root), loadData: () => loadMnistNode() });
    await session.start(s);
    await session.whenDone();
    const rows = messages.flatMap((m): CompareRow[] => (m.type === 'compare/row' ? [m.row] : []));
    const states = messages.flatMap((m) => (m.type === 'compare/state' ? [m.state] : []));
    return { messages, rows, states, session };
  };

  it('measures a row per configuration, skips the student until the distilled model is there, and frees every tensor', async () => {
    const cases = ['ddim-2', 'dpmpp-3+noise@1000', 'adaptive12@1/1', 'student-1', 'student-2'];
    const before = tf.memory().numTensors;
    const first = await run(settings(cases));
    expect(first.states).toEqual(['running', 'done']);
    expect(tf.memory().numTensors).toBe(before);
    expect(first.rows.map((r) => r.evaluation?.case)).toEqual(cases);
    const [ddim, stopped, adaptive, s1, s2] = first.rows;
    expect(ddim.evaluation).toMatchObject({ family: 'ddim', evaluations: 2, evaluationsMin: 2, evaluationsMax: 2, steps: 2, skipped: null });
    // A threshold far above any noise left stops after the first step, with x̂0.
    expect(stopped.evaluation).toMatchObject({ family: 'early-stop', evaluations: 1, skipped: null });
    expect(adaptive.evaluation!.evaluations).toBeGreaterThanOrEqual(2);
    for (const r of [ddim, stopped, adaptive]) {
      expect(r).toMatchObject({ model: 'latent', sweep: true, batch: 4 });
      expect(r.quality).toMatchObject({ n: 4, referenceDigits: 200 });
      expect(Number.isFinite(r.quality!.fd / r.quality!.floorFd)).toBe(true);
      expect(r.msPerImage).toBeGreaterThan(0);
    }
    expect(ddim.quality!.floorFd).toBe(adaptive.quality!.floorFd);
    for (const s of [s1, s2]) expect(s.evaluation!.skipped).toMatch(/distilled LDM is not there .*npm run distill/);
    expect(evaluationSeries(first.rows).map((s) => s.family)).toEqual(['ddim', 'adaptive', 'early-stop']);
    const progress = first.messages.flatMap((m) => (m.type === 'compare/progress' && m.unit === 'steps' ? [m] : []));
    expect(progress.at(-1)).toMatchObject({ done: 2 + 1 + adaptive.evaluation!.steps });
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);

    // The distilled model (a copy of the fixture LDM stands in): its rows are measured, one evaluation a step.
    await cp(join(root, 'latent'), join(root, 'latent-distilled'), { recursive: true });
    const second = await run(settings(['student-1', 'student-2']));
    expect(second.rows.map((r) => r.evaluation)).toMatchObject([
      { family: 'student', evaluations: 1, skipped: null },
      { family: 'student', evaluations: 2, skipped: null },
    ]);
    expect(tf.memory().numTensors).toBe(before);
  }, 240_000);

  it('stops within a step, keeping the rows measured before, and frees every tensor', async () => {
    const before = tf.memory().numTensors;
    const messages: WorkerToPage[] = [];
    const session = new CompareSession({ post: (m) => messages.push(m), read: dirReader(root), loadData: () => loadMnistNode() });
    await session.start(settings(['ddim-1', 'ddim-100']));
    for (let i = 0; i < 2000 && !messages.some((m) => m.type === 'compare/progress' && m.unit === 'steps' && m.done > 3); i++) await new Promise((r) => setTimeout(r, 5));
    await session.stop();
    expect(messages.flatMap((m) => (m.type === 'compare/state' ? [m.state] : []))).toEqual(['running', 'cancelled']);
    expect(messages.flatMap((m) => (m.type === 'compare/row' ? [m.row.evaluation?.case] : []))).toEqual(['ddim-1']);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('refuses bad settings with a message that names them', async () => {
    for (const [bad, text] of [
      [settings(['ddim-2'], 1), /samples per configuration/],
      [settings([]), /configurations/],
      [settings(['ddim-x']), /unknown case 'ddim-x'/],
    ] as const) {
      const session = new CompareSession({ post: () => {}, read: dirReader(root), loadData: () => loadMnistNode() });
      await expect(session.start(bad)).rejects.toThrow(text);
    }
  });
});
