/** The engine's model in words, and whether (and how) it can be kept before a change replaces it. */
import type { ModelKind } from '../models/setup/model-setup';
import { modelIsTrained, stageSteps, type AppState, type KeptModel } from './store';
import { fineTuned } from './setup-sync';

export const KIND_WORDS: Record<ModelKind, string> = { pixel: 'pixel DDPM', latent: 'latent diffusion model (LDM)' };

function steps(n: number): string {
  return `${n.toLocaleString('en-US')} step${n === 1 ? '' : 's'}`;
}

/**
 * How the engine's model would be kept: by its pretrained kind (untouched pretrained files, which
 * can be loaded again), by its files (trained here, fine-tuned or imported), or not at all (fresh
 * weights never trained, a pretrained model still loading, no engine).
 */
export function keepableAs(s: AppState): KeptModel['via'] | null {
  if (s.engine.status !== 'ready' || s.pretrained.status === 'loading') return null;
  if (s.pretrained.source === 'pretrained' && s.pretrained.status === 'ready' && !fineTuned(s)) return 'pretrained';
  return modelIsTrained(s) ? 'files' : null;
}

/** The engine's model in words: a long label ("the pretrained pixel DDPM fine-tuned for 120 steps") and a short name for a button. */
export function describeModel(s: AppState): { label: string; name: string } {
  const kind = KIND_WORDS[s.setup.kind];
  const done = stageSteps(s);
  const info = s.pretrained.source === 'pretrained' ? s.pretrained.info : null;
  if (info) {
    const more = Math.max(0, done.denoiser - info.denoiserSteps) + Math.max(0, done.autoencoder - info.autoencoderSteps);
    if (more === 0) return { label: `the pretrained ${kind}`, name: `the pretrained ${kind}` };
    return { label: `the pretrained ${kind} fine-tuned for ${steps(more)}`, name: `the fine-tuned ${kind}` };
  }
  const trained = s.setup.kind === 'latent' ? `${done.autoencoder.toLocaleString('en-US')} autoencoder + ${steps(done.denoiser).replace('step', 'denoiser step')}` : steps(done.denoiser);
  const { kind: schedule, T } = s.setup.schedule;
  const where = s.pretrained.source === 'imported' ? 'imported' : 'trained here';
  return { label: `the ${kind} ${where} for ${trained} (${schedule} schedule, T = ${T})`, name: `${where === 'imported' ? 'the imported' : 'your'} ${kind} (${schedule}, T = ${T})` };
}

