/**
 * `npm run pretrain` resumes exactly: a job killed after some steps (simulated with stopAfter, after
 * its last checkpoint) and run again ends with the same bytes as a job that ran straight through:
 * weights, EMA, Adam moments, random streams and batch order all come back from the checkpoint.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../src/backends/node';
import { parseJobs, pretrain, withLatentDenoiser } from '../../src/cli/pretrain';
import { UsageError } from '../../src/cli/args';
import { FULL_PLAN, learningRateAt } from '../../src/cli/pretrain-plan';
import { loadFromDir } from '../../src/io/weights-file-node';
import { loadModel } from '../../src/io/model-files';
import { maxDiff } from './gradient-helpers';

let root = '';
const quiet = () => undefined;

beforeAll(async () => {
  await initNodeBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'pretrain-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function weightsOf(dir: string, job: string): Promise<Buffer> {
  return readFile(join(dir, job, 'weights.bin'));
}

describe('pretrain', () => {
  it.each(['classifier', 'pixel', 'latent'] as const)('%s: killed mid-run and resumed gives the bytes of an uninterrupted run', async (job) => {
    const straight = join(root, `${job}-straight`);
    const resumed = join(root, `${job}-resumed`);
    const before = tf.memory().numTensors;
    expect(await pretrain({ jobs: [job], quick: true, outDir: join(straight, 'out'), stateDir: join(straight, 'state'), log: quiet })).toBe(true);
    // Quick plan: checkpoints every 3 steps, 6 steps per stage. Stop after 4 steps: step 4 is lost
    // and redone. The latent job is stopped twice: in the autoencoder stage, then in the denoiser's.
    const opts = { jobs: [job], quick: true, outDir: join(resumed, 'out'), stateDir: join(resumed, 'state'), log: quiet };
    expect(await pretrain({ ...opts, stopAfter: 4 })).toBe(false);
    // The checkpoint holds the model at step 3, which differs from the end result: a resume that
    // skipped or repeated steps would not give the straight run's bytes.
    const atStep3 = await readFile(join(resumed, 'state', job, 'model', 'weights.bin'));
    expect(Buffer.compare(atStep3, await weightsOf(join(straight, 'out'), job))).not.toBe(0);
    if (job === 'latent') expect(await pretrain({ ...opts, stopAfter: 4 })).toBe(false);
    expect(await pretrain(opts)).toBe(true);
    const a = await weightsOf(join(straight, 'out'), job);
    const b = await weightsOf(join(resumed, 'out'), job);
    expect(b.length).toBe(a.length);
    expect(Buffer.compare(a, b)).toBe(0);
    const manifest = JSON.parse(await readFile(join(resumed, 'out', job, 'manifest.json'), 'utf8'));
    expect(manifest.plan).toBe('quick');
    expect(manifest.dataSplit.train).toBe(500);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('--autoencoder-from: a new latent denoiser on a saved model\'s autoencoder, which stays as it was', async () => {
    // The source: the quick latent job's output from the test above.
    const source = join(root, 'latent-straight', 'out', 'latent');
    const dir = join(root, 'latent-adopted');
    const before = tf.memory().numTensors;
    const opts = { jobs: ['latent' as const], quick: true, outDir: join(dir, 'out'), stateDir: join(dir, 'state'), log: quiet, autoencoderFrom: source };
    expect(await pretrain({ ...opts, latentDenoiser: 'latent-lite', denoiserSteps: 4 })).toBe(true);
    const load = async (d: string) => {
      const files = await loadFromDir(d);
      return loadModel(files.modelJson, files.weightsBin);
    };
    const [a, b] = [await load(source), await load(join(dir, 'out', 'latent'))];
    try {
      expect(b.info.setup.latent?.denoiser).toBe('latent-lite');
      expect(b.info.denoiserSteps).toBe(4);
      expect(b.info.autoencoderSteps).toBe(a.info.autoencoderSteps);
      expect(b.model.latent).toEqual(a.model.latent);
      for (const [name, v] of a.model.autoencoder!.weights) {
        expect(maxDiff((await v.data()) as Float32Array, (await b.model.autoencoder!.weights.get(name)!.data()) as Float32Array)).toBe(0);
      }
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
    const manifest = JSON.parse(await readFile(join(dir, 'out', 'latent', 'manifest.json'), 'utf8'));
    expect(manifest.autoencoderFrom).toBe(source);
    expect(manifest.stages.denoiser.steps).toBe(4);
    // A pixel model has no autoencoder to adopt: a clear error, nothing left allocated.
    const pixel = join(root, 'pixel-straight', 'out', 'pixel');
    await expect(pretrain({ ...opts, stateDir: join(dir, 'state2'), autoencoderFrom: pixel })).rejects.toThrow(/holds no trained latent model/);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('rejects unknown jobs with a usage message naming them', () => {
    expect(() => parseJobs('pixel,ldm')).toThrow(UsageError);
    expect(() => parseJobs('pixel,ldm')).toThrow(/unknown job 'ldm'/);
    expect(parseJobs('latent, pixel')).toEqual(['latent', 'pixel']);
  });

  it('decays the learning rate from the peak to 10 % by a cosine', () => {
    const stage = { steps: 100, batchSize: 1, learningRate: 1e-3 };
    expect(learningRateAt(stage, 0)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(stage, 50)).toBeCloseTo(0.55e-3, 12);
    expect(learningRateAt(stage, 100)).toBeCloseTo(1e-4, 12);
  });
});

describe('withLatentDenoiser', () => {
  it('swaps only the latent job\'s denoiser preset and leaves the plan itself alone', () => {
    const plan = withLatentDenoiser(FULL_PLAN, 'latent-tiny');
    expect(plan.latent.setup.latent?.denoiser).toBe('latent-tiny');
    expect(FULL_PLAN.latent.setup.latent?.denoiser).toBe('latent-lite');
    expect({ ...plan.latent.setup.latent, denoiser: 'latent-lite' }).toEqual(FULL_PLAN.latent.setup.latent);
    expect(plan.pixel).toBe(FULL_PLAN.pixel);
    expect(plan.latent.denoiser).toEqual(FULL_PLAN.latent.denoiser);
  });
});
