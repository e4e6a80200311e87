import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_SETUP } from '../../src/models/setup/model-setup';
import { DEFAULT_SAMPLING, IDLE_SAMPLE } from '../../src/state/store';
import { runCaption, runStatus, samplingSpeed } from '../../src/state/run-caption';

describe('captions from the run that made the images', () => {
  it('names the model, sampler, steps, digit and guidance of the request', () => {
    const latent = { ...DEFAULT_MODEL_SETUP, kind: 'latent' as const };
    const caption = runCaption(latent, { ...DEFAULT_SAMPLING, kind: 'ddim', steps: 50, digit: 3, guidance: 1.3 });
    expect(caption).toBe(`LDM (${latent.latent.denoiser}) · DDIM-50 · digit 3 · w = 1.3`);
    const pixel = runCaption({ ...DEFAULT_MODEL_SETUP, classConditional: false }, { ...DEFAULT_SAMPLING, kind: 'dpmpp', steps: 20, digit: 7 });
    expect(pixel).toBe(`pixel DDPM (${DEFAULT_MODEL_SETUP.preset}) · DPM-Solver++-20 · unconditional`);
  });

  it('tells running, paused, finished and stopped runs apart', () => {
    const run = { ...IDLE_SAMPLE, total: 10, index: 4, elapsedMs: 1000 };
    expect(runStatus({ ...run, state: 'running', elapsedMs: null })).toBe('starting');
    expect(runStatus({ ...run, state: 'running' })).toBe('running');
    expect(runStatus({ ...run, state: 'paused' })).toBe('paused');
    expect(runStatus({ ...run, state: 'done' })).toBe('finished');
    expect(runStatus({ ...run, state: 'idle' })).toBe('stopped');
    expect(runStatus({ ...run, state: 'idle', index: 9 })).toBe('finished');
  });

  it('derives steps/s and time left from the last frame', () => {
    expect(samplingSpeed({ index: 0, total: 10, elapsedMs: null })).toBeNull();
    const s = samplingSpeed({ index: 3, total: 20, elapsedMs: 2000 })!;
    expect(s.stepsPerSec).toBeCloseTo(2, 12);
    expect(s.etaSec).toBeCloseTo(8, 12);
  });
});
