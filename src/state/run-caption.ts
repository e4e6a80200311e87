/**
 * Captions written from the run that made the images, never from the current form: a grid keeps
 * saying which model, sampler, steps, digit and guidance produced it after the form has changed.
 */
import { adaptiveLabel, DEFAULT_ATOL, DEFAULT_EARLY_STOP_THRESHOLD, DEFAULT_RTOL, samplerStepsLabel } from '../diffusion/config';
import type { ModelSetup } from '../models/setup/model-setup';
import type { SamplingConfig } from '../sampling/config';
import type { SampleRun } from './store';

/** "LDM (latent-small) · DDIM-50 · digit 3 · w = 1.3": what a sampling run was asked for. */
export function runCaption(setup: ModelSetup, sampling: SamplingConfig): string {
  const model = setup.kind === 'latent' ? `LDM (${setup.latent.denoiser})` : `pixel DDPM (${setup.preset})`;
  const adaptive = sampling.adaptive && sampling.adaptive !== 'off' ? sampling.adaptive : null;
  const parts = [model, adaptive ? adaptiveLabel(adaptive, sampling.rtol ?? DEFAULT_RTOL, sampling.atol ?? DEFAULT_ATOL) : samplerStepsLabel(sampling.kind, sampling.steps)];
  if (sampling.earlyStop && sampling.earlyStop !== 'off' && adaptive !== 'sde') parts.push(`early stop (${sampling.earlyStop} ≤ ${sampling.earlyStopThreshold ?? DEFAULT_EARLY_STOP_THRESHOLD})`);
  if (setup.classConditional) {
    parts.push(sampling.digit === null ? 'digits 0-9' : `digit ${sampling.digit}`);
    parts.push(`w = ${Number(sampling.guidance.toFixed(2))}`);
  } else {
    parts.push('unconditional');
  }
  return parts.join(' · ');
}

/** Where the run is: running, paused, finished, or stopped before its last step. */
export function runStatus(run: Pick<SampleRun, 'state' | 'index' | 'total' | 'elapsedMs'>): string {
  if (run.state === 'running') return run.elapsedMs === null ? 'starting' : 'running';
  if (run.state === 'paused') return 'paused';
  if (run.state === 'done' || (run.total > 0 && run.index + 1 >= run.total)) return 'finished';
  return 'stopped';
}

/** Steps per second and seconds left of a sampling run, from its last frame (null before the first). */
export function samplingSpeed(run: Pick<SampleRun, 'index' | 'total' | 'elapsedMs'>): { stepsPerSec: number; etaSec: number } | null {
  if (run.elapsedMs === null || run.elapsedMs <= 0) return null;
  const done = run.index + 1;
  const stepsPerSec = done / (run.elapsedMs / 1000);
  return { stepsPerSec, etaSec: Math.max(0, run.total - done) / stepsPerSec };
}
