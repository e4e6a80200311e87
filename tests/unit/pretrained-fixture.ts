/**
 * Small stand-ins for the pretrained models (tests only): a tiny pixel DDPM and a tiny LDM trained
 * a couple of steps through the Engine in Node, exported exactly as the app exports them and laid
 * out like public/models/ (<root>/<kind>/model.json, weights.bin, manifest.json). The unit tests
 * read them from the folder; the browser tests serve them with page.route (see
 * tests/browser/make-pretrained.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeNodeEngine } from './engine-helpers';
import { DEFAULT_SCHEDULE } from '../../src/diffusion/config';
import { DEFAULT_MODEL_SETUP, type ModelKind, type ModelSetup } from '../../src/models/setup/model-setup';
import type { TrainingConfig } from '../../src/engine/run-config';
import type { WorkerToPage } from '../../src/protocol/messages';

export const FIXTURE_STEPS = 2;

export const FIXTURE_SETUPS: Record<ModelKind, ModelSetup> = {
  pixel: { ...DEFAULT_MODEL_SETUP, schedule: { ...DEFAULT_SCHEDULE, T: 100 }, emaDecay: 0.99 },
  latent: {
    ...DEFAULT_MODEL_SETUP,
    schedule: { ...DEFAULT_SCHEDULE, T: 100 },
    kind: 'latent',
    latent: { autoencoder: 'ae-tiny', latentChannels: 4, denoiser: 'latent-tiny', klWeight: 1e-5 },
    emaDecay: 0.99,
  },
};

/** What the test manifests say (the real ones, from npm run pretrain, say more). */
export const FIXTURE_MANIFEST = { trainingSeconds: 754, finalLoss: 0.0421, plan: 'test-fixture' };

/** Trains and writes the fixture models of `kinds` under `root`; returns the folder of each. */
export async function writePretrainedFixture(root: string, kinds: readonly ModelKind[] = ['pixel', 'latent']): Promise<Record<string, string>> {
  const { engine, messages, until } = makeNodeEngine();
  const dirs: Record<string, string> = {};
  try {
    await engine.handle({ type: 'init', backend: null });
    for (const kind of kinds) {
      const setup = FIXTURE_SETUPS[kind];
      await engine.handle({ type: 'setup', setup });
      const stages: TrainingConfig['stage'][] = kind === 'latent' ? ['autoencoder', 'denoiser'] : ['denoiser'];
      for (const stage of stages) {
        messages.length = 0;
        await engine.handle({ type: 'train/start', training: { stage, learningRate: 2e-3, batchSize: 4, steps: FIXTURE_STEPS, previewEvery: 0, seed: 3 } });
        await until((m) => m.type === 'train/state' && (m.state === 'done' || m.state === 'idle') && m.step === FIXTURE_STEPS);
        const failed = messages.find((m) => m.type === 'error');
        if (failed) throw new Error(`fixture ${kind} ${stage}: ${JSON.stringify(failed)}`);
      }
      messages.length = 0;
      await engine.handle({ type: 'model/export' });
      const exported = messages.find((m): m is Extract<WorkerToPage, { type: 'model/exported' }> => m.type === 'model/exported');
      if (!exported) throw new Error(`fixture ${kind}: no export`);
      const dir = join(root, kind);
      await mkdir(dir, { recursive: true });
      for (const f of exported.files) await writeFile(join(dir, f.name), new Uint8Array(f.data));
      const manifest = { name: `${kind} (test fixture)`, kind, setup, steps: FIXTURE_STEPS, ...FIXTURE_MANIFEST, createdAt: '2026-11-26T12:00:00.000Z' };
      await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      dirs[kind] = dir;
    }
  } finally {
    await engine.dispose();
  }
  return dirs;
}
