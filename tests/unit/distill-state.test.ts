/**
 * The Distill stage on the page (src/state/distill-client.ts, the message reducer's 'distill/done'),
 * with a fake worker: the settings' problems in words, a start sends the form, progress and rounds
 * fill the store, a refused start says why, and the student taking the teacher's place sets
 * Sampling to DDIM at its step count, trailing spacing, guidance 1.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../src/state/engine-client';
import { distillProblem, distillRounds } from '../../src/protocol/distill-messages';
import type { WorkerToPage } from '../../src/protocol/messages';
import { FakeWorker } from './fake-worker';

const READY: WorkerToPage = { type: 'ready', backend: 'wasm', requested: null, fallbackNote: null, adapter: null };
const ok = { fromSteps: 8, toSteps: 4, stepsPerRound: 2, batchSize: 2, learningRate: 3e-4, guidance: 1.3, seed: 1 };

function started(): { client: EngineClient; worker: FakeWorker } {
  const worker = new FakeWorker();
  const client = new EngineClient({ search: '?pretrained=0', createWorker: () => worker as unknown as Worker });
  client.start();
  worker.answer(READY);
  return { client, worker };
}

describe('distill settings', () => {
  it('halve from-steps round by round and say in words what is wrong', () => {
    expect(distillRounds(32, 4)).toEqual([16, 8, 4]);
    expect(distillRounds(8, 3)).toBeNull();
    expect(distillRounds(4, 4)).toBeNull();
    expect(distillProblem(ok, 1000)).toBeNull();
    expect(distillProblem({ ...ok, toSteps: 3 }, 1000)).toBe('To steps must be from steps halved a whole number of times (each round halves the steps): from 8, to can be 4, 2 or 1; 3 is not one of them.');
    expect(distillProblem({ ...ok, toSteps: 8 }, 1000)).toMatch(/from 1 to 7/);
    expect(distillProblem({ ...ok, fromSteps: 2000 }, 1000)).toMatch(/from 2 to 1000/);
    expect(distillProblem({ ...ok, learningRate: 0 }, 1000)).toMatch(/learning rate/);
    expect(distillProblem({ ...ok, batchSize: 1.5 }, 1000)).toMatch(/Batch/);
  });
});

describe('distill client', () => {
  it('starts with the form, follows progress and rounds, and adopts the student with its sampling', () => {
    const { client, worker } = started();
    client.distill.setForm({ ...ok, toSteps: 3 });
    expect(client.distill.start(1000)).toBe(false);
    expect(client.distill.store.getState().message).toMatch(/halved/);
    client.distill.setForm({ toSteps: 4 });
    expect(client.distill.start(1000)).toBe(true);
    expect(worker.last('distill/start').settings).toEqual(ok);
    worker.answer({ type: 'distill/state', state: 'running', message: null });
    worker.answer({ type: 'distill/progress', round: 1, rounds: 1, teacherSteps: 8, studentSteps: 4, steps: Int32Array.of(1, 2), losses: Float32Array.of(0.5, 0.25), step: 2, stepsPerRound: 2, stepsPerSec: 3, etaSec: 0 });
    const images = { pixels: new Float32Array(10 * 28 * 28), n: 10, h: 28, w: 28, c: 1 };
    worker.answer({ type: 'distill/round', round: 1, rounds: 1, teacherSteps: 8, studentSteps: 4, steps: 2, seconds: 1.5, lossStart: 0.5, lossEnd: 0.25, gapBefore: 0.01, gapAfter: 0.005, images });
    const s = client.distill.store.getState();
    expect(s.progress).toMatchObject({ round: 1, rounds: 1, step: 2 });
    expect(s.losses).toEqual([
      { round: 1, step: 1, loss: 0.5 },
      { round: 1, step: 2, loss: 0.25 },
    ]);
    expect(s.results).toHaveLength(1);

    const setup = { ...client.store.getState().setup, emaDecay: 0 };
    worker.answer({ type: 'distill/done', setup, teacherSteps: 8, studentSteps: 4 });
    worker.answer({ type: 'distill/state', state: 'done', message: null });
    const app = client.store.getState();
    expect(app.sampling).toMatchObject({ kind: 'ddim', steps: 4, spacing: 'trailing', eta: 0, guidance: 1, adaptive: 'off', earlyStop: 'off' });
    expect(app.pretrained.source).toBe('imported');
    expect(client.distill.store.getState()).toMatchObject({ status: 'done', adopted: { teacherSteps: 8, studentSteps: 4 }, form: { fromSteps: 4, toSteps: 2 } });
    // Another model replaces the student: the note that the student is the model goes, and the rounds (another model's) with it.
    worker.answer({ type: 'model/imported', setup });
    expect(client.distill.store.getState()).toMatchObject({ adopted: null, status: 'idle', results: [], losses: [], progress: null, form: { fromSteps: 4, toSteps: 2 } });
    client.dispose();
  });

  it('says why the engine refused a start, and forgets a run lost with a restarted engine', () => {
    const { client, worker } = started();
    client.distill.setForm(ok);
    client.distill.start(1000);
    worker.answer({ type: 'error', source: 'distill', message: 'There is no trained denoiser to distil.' });
    expect(client.distill.store.getState()).toMatchObject({ status: 'failed', message: 'There is no trained denoiser to distil.' });
    expect(client.store.getState().errors.map((e) => e.message)).toContain('There is no trained denoiser to distil.');
    client.distill.start(1000);
    worker.answer({ type: 'distill/state', state: 'running', message: null });
    worker.answer(READY);
    expect(client.distill.store.getState().status).toBe('failed');
    client.dispose();
  });
});
