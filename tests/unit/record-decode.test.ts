/**
 * The LDM's denoising record decodes only the steps it shows (src/engine/sampling-run.ts): x_T, the
 * steps shown live and the final sample come decoded, the rest as latents only, marked in
 * `decoded`; those decodings are the ones a run that decodes every step gives. The player asks for
 * the others ('sample/decode', src/engine/record-decode.ts; src/state/denoising-record.ts), which
 * come back within a few gray levels of the run's own (the latents travel as bytes) and leave no
 * tensor behind. On the pretrained LDM (public/models/latent).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initNodeBackend } from '../../src/backends/node';
import { readPretrainedModel } from '../../src/engine/model-sources';
import { dirReader } from '../../src/io/pretrained-node';
import { runSampling } from '../../src/engine/sampling-run';
import { RunControl } from '../../src/engine/run-control';
import { decodeRecorded } from '../../src/engine/record-decode';
import { DenoisingRecord } from '../../src/state/denoising-record';
import { makeSchedule } from '../../src/diffusion';
import { DEFAULT_SAMPLER } from '../../src/diffusion/config';
import type { DiffusionModel } from '../../src/models/diffusion-model';
import type { PageToWorker, SampleSteps, WorkerToPage } from '../../src/protocol/messages';
import type { SamplingConfig } from '../../src/sampling/config';
import type { NoiseSchedule } from '../../src/diffusion';
import type { ModelSetup } from '../../src/models/setup/model-setup';

const STEPS = 8;
const N = 3;
const config: SamplingConfig = { ...DEFAULT_SAMPLER, kind: 'ddim', steps: STEPS, numImages: N, seed: 3, digit: null, guidance: 1, useEma: true };

interface Recorded {
  record: DenoisingRecord;
  steps: SampleSteps[];
}

async function record(model: DiffusionModel, schedule: NoiseSchedule, prediction: ModelSetup['prediction'], decodeAll: boolean): Promise<Recorded> {
  const messages: WorkerToPage[] = [];
  // framesPerSecond 0: only the last step is shown live, so the run decodes x_T, the last step and the final sample.
  await runSampling({ model, schedule, prediction, config, control: new RunControl(), post: (m) => messages.push(m), run: 1, framesPerSecond: 0, decodeAll });
  const rec = new DenoisingRecord();
  rec.begin(1);
  const steps = messages.filter((m): m is SampleSteps => m.type === 'sample/steps');
  for (const m of steps) rec.add(m);
  return { record: rec, steps };
}

const grayDiff = (a: Uint8Array, b: Uint8Array) => {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
};

describe('LDM player: decode on demand', () => {
  let model: DiffusionModel;
  let schedule: NoiseSchedule;
  let prediction: ModelSetup['prediction'];
  let sparse: Recorded;
  let full: Recorded;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    const loaded = await readPretrainedModel(dirReader(join(__dirname, '../../public/models')), 'latent', () => undefined);
    model = loaded.model;
    schedule = makeSchedule(loaded.info.setup.schedule);
    prediction = loaded.info.setup.prediction;
    sparse = await record(model, schedule, prediction, false);
    full = await record(model, schedule, prediction, true);
  }, 120_000);

  it('decodes x_T, the steps shown and the final sample during the run, the same as decoding every step', () => {
    const flags = sparse.steps.flatMap((m) => [...(m.decoded ?? [])]);
    expect(flags).toHaveLength(STEPS + 1);
    // Position 0 (x_T), STEPS − 1 (the last step's x_t, decoded with it) and STEPS (the final sample).
    expect(flags.map((f, i) => (f ? i : -1)).filter((i) => i >= 0)).toEqual([0, STEPS - 1, STEPS]);
    expect(full.steps.flatMap((m) => [...(m.decoded ?? [])]).every((f) => f === 1)).toBe(true);
    for (const slot of [0, STEPS - 1, STEPS]) {
      const a = sparse.record.frame(slot)!;
      const b = full.record.frame(slot)!;
      expect(a.decoded).toBe(true);
      expect(grayDiff(a.x.pixels, b.x.pixels).max, `x at ${slot}`).toBeLessThanOrEqual(1);
      expect(grayDiff(a.x0.pixels, b.x0.pixels).max, `x0 at ${slot}`).toBeLessThanOrEqual(1);
      expect(Array.from(a.latents!.x.pixels)).toEqual(Array.from(b.latents!.x.pixels));
    }
    expect(sparse.record.frame(3)!.decoded).toBe(false);
    expect(sparse.record.nearestDecoded(3)!.position).toBe(0);
  });

  it('decodes the other positions on request, close to the run\'s own decodings, leaving no tensor', async () => {
    const sent: PageToWorker[] = [];
    sparse.record.send = (m) => sent.push(m);
    sparse.record.requestDecode([2, 3, 3, 0]); // 0 is decoded already, 3 asked twice
    sparse.record.requestDecode([5]);
    sparse.record.requestDecode([6]); // a third request waits: two are in flight
    expect(sent.map((m) => (m.type === 'sample/decode' ? m.positions : null))).toEqual([[2, 3], [5]]);
    const before = tf.memory().numTensors;
    for (const m of sent) {
      if (m.type !== 'sample/decode') throw new Error('not a decode request');
      sparse.record.add(await decodeRecorded(model, m));
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(sparse.record.store.getState().decodedSeq).toBe(2);
    const diffs = [2, 3, 5].flatMap((slot) => {
      const a = sparse.record.frame(slot)!;
      const b = full.record.frame(slot)!;
      expect(a.decoded).toBe(true);
      return [grayDiff(a.x.pixels, b.x.pixels), grayDiff(a.x0.pixels, b.x0.pixels)];
    });
    const mean = diffs.reduce((s, d) => s + d.mean, 0) / diffs.length;
    const max = Math.max(...diffs.map((d) => d.max));
    console.log(`decoded from byte latents: mean ${mean.toFixed(3)}, max ${max} gray levels`);
    expect(mean).toBeLessThan(1);
    expect(max).toBeLessThanOrEqual(16);
    sparse.record.requestDecode([6]);
    expect(sent).toHaveLength(3);
  });

  it('answers without bytes when the model cannot decode, and the page does not ask again', async () => {
    const sent: PageToWorker[] = [];
    const rec = new DenoisingRecord();
    rec.begin(1);
    for (const m of sparse.steps) rec.add(m);
    rec.send = (m) => sent.push(m);
    rec.requestDecode([4]);
    const answer = await decodeRecorded(null, sent[0] as Extract<PageToWorker, { type: 'sample/decode' }>);
    expect(answer.x.length).toBe(0);
    rec.add(answer);
    expect(rec.frame(4)!.decoded).toBe(false);
    rec.requestDecode([4]);
    expect(sent).toHaveLength(1);
  });

  it('after a worker restart, requests the old worker never answered are asked again', () => {
    const sent: PageToWorker[] = [];
    const rec = new DenoisingRecord();
    rec.begin(1);
    for (const m of sparse.steps) rec.add(m);
    rec.send = (m) => sent.push(m);
    rec.requestDecode([2]);
    rec.requestDecode([3]);
    rec.requestDecode([4]); // capped: two in flight, never answered (the worker crashed)
    expect(sent).toHaveLength(2);
    rec.forgetRequests();
    rec.requestDecode([2, 4]);
    expect(sent.map((m) => (m.type === 'sample/decode' ? m.positions : null))).toEqual([[2], [3], [2, 4]]);
  });
});
