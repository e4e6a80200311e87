/**
 * `npm run pretrain`: trains the models the app starts with (pixel DDPM, latent diffusion) and the
 * classifier `npm run eval` scores samples with, on the wasm backend in Node, and writes them to
 * public/models/<job>/ (model.json, weights.bin, manifest.json). Killed, it resumes from its last
 * checkpoint (.pretrain/<job>/) when run again with the same arguments.
 *
 *   npm run pretrain -- [--jobs classifier,pixel,latent] [--quick] [--out public/models] [--state .pretrain]
 *                       [--latent-denoiser latent-tiny|latent-lite|latent-mid|latent-small] [--denoiser-steps N]
 *                       [--autoencoder-from public/models/latent]
 *
 * --latent-denoiser swaps the latent job's denoiser preset (an experiment: the app's LDM is
 * latent-lite); write such a model elsewhere with --out and --state, and score it with
 * `npm run eval -- --model latent --model-dir DIR/latent ...`. --denoiser-steps sets the latent denoiser's
 * step count; --autoencoder-from starts the latent job from a saved latent model's trained autoencoder
 * (and latent normalization) and trains only the denoiser, as issue 19's design candidates were.
 *
 * The jobs run one after another in one process; to use both cores of a 2-core machine run two
 * processes with different --jobs (e.g. `--jobs pixel` and `--jobs classifier,latent`).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnistNode } from '../data/load-node';
import { initNodeBackend } from '../backends/node';
import { parseArgs, UsageError } from './args';
import { runClassifierJob, runDiffusionJob, type JobContext } from './pretrain-jobs';
import { FULL_PLAN, JOB_NAMES, QUICK_PLAN, type JobName, type PretrainPlan } from './pretrain-plan';
import { LATENT_UNET_PRESETS, type LatentUNetPreset } from '../models/setup/unet-config';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export interface PretrainOptions {
  jobs: JobName[];
  quick: boolean;
  outDir: string;
  stateDir: string;
  stopAfter?: number;
  log?: (line: string) => void;
  /** The latent job's denoiser preset instead of the plan's. */
  latentDenoiser?: LatentUNetPreset;
  /** The latent denoiser's step count instead of the plan's. */
  denoiserSteps?: number;
  /** Start the latent job from this saved latent model's autoencoder (JobContext.autoencoderFrom). */
  autoencoderFrom?: string;
}

/** The plan with the latent job's denoiser preset swapped. */
export function withLatentDenoiser(plan: PretrainPlan, denoiser: LatentUNetPreset): PretrainPlan {
  const setup = plan.latent.setup;
  if (setup.latent == null) throw new Error('the latent job has no latent setup');
  return { ...plan, latent: { ...plan.latent, setup: { ...setup, latent: { ...setup.latent, denoiser } } } };
}

export function parseJobs(list: string): JobName[] {
  const jobs = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (jobs.length === 0) throw new UsageError('--jobs needs at least one of classifier, pixel, latent');
  for (const job of jobs) {
    if (!(JOB_NAMES as readonly string[]).includes(job)) throw new UsageError(`--jobs: unknown job '${job}' (choose from ${JOB_NAMES.join(', ')})`);
  }
  return jobs as JobName[];
}

/** Runs the jobs in order; returns false when a job stopped early (stopAfter). */
export async function pretrain(options: PretrainOptions): Promise<boolean> {
  const data = await loadMnistNode();
  let plan = options.quick ? QUICK_PLAN : FULL_PLAN;
  if (options.latentDenoiser) plan = withLatentDenoiser(plan, options.latentDenoiser);
  if (options.denoiserSteps) plan = { ...plan, latent: { ...plan.latent, denoiser: { ...plan.latent.denoiser, steps: options.denoiserSteps } } };
  const ctx: JobContext = {
    plan,
    autoencoderFrom: options.autoencoderFrom,
    data,
    outDir: options.outDir,
    stateDir: options.stateDir,
    stopAfter: options.stopAfter,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  for (const job of options.jobs) {
    const finished = job === 'classifier' ? await runClassifierJob(ctx) : await runDiffusionJob(ctx, job);
    if (!finished) return false;
  }
  return true;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    jobs: JOB_NAMES.join(','),
    quick: false,
    out: join(ROOT, 'public', 'models'),
    state: join(ROOT, '.pretrain'),
    'latent-denoiser': '',
    'denoiser-steps': 0,
    'autoencoder-from': '',
  });
  const denoiserSteps = args['denoiser-steps'];
  if (!(Number.isInteger(denoiserSteps) && denoiserSteps >= 0 && denoiserSteps <= 100_000)) {
    throw new UsageError(`--denoiser-steps must be an integer from 1 to 100000, got ${denoiserSteps}`);
  }
  const jobs = parseJobs(args.jobs);
  const latentDenoiser = args['latent-denoiser'] === '' ? undefined : args['latent-denoiser'];
  if (latentDenoiser !== undefined && !(LATENT_UNET_PRESETS as readonly string[]).includes(latentDenoiser)) {
    throw new UsageError(`--latent-denoiser must be one of ${LATENT_UNET_PRESETS.join(', ')}, got '${latentDenoiser}'`);
  }
  const backend = await initNodeBackend('wasm');
  process.stderr.write(`pretrain: ${args.quick ? 'quick' : 'full'} plan, jobs ${jobs.join(', ')}, backend ${backend}\n`);
  const stateDir = args.quick ? `${args.state}-quick` : args.state;
  await pretrain({ jobs, quick: args.quick, outDir: args.out, stateDir, latentDenoiser: latentDenoiser as LatentUNetPreset | undefined,
    denoiserSteps: denoiserSteps || undefined, autoencoderFrom: args['autoencoder-from'] || undefined,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`pretrain: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`pretrain: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
