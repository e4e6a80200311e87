/**
 * Presets for the classic demos, written as links (the same query parameters a shared link has).
 * The page holds one model at a time, so a comparison preset sets up its first configuration and
 * offers the others as alternatives, with a note on what to do between them.
 */
import type { EngineClient } from './engine-client';
import { applyValues, decodeShare } from './share';
import { settingsOf } from './share-link';

export interface PresetChoice {
  /** The button's name. */
  name: string;
  /** The settings, as a query string. */
  query: string;
}

export interface Preset extends PresetChoice {
  /** What the demo shows and what to do, in a sentence or two. */
  note: string;
  /** The configurations to compare (the first is the preset's own), or none. */
  alternatives: PresetChoice[];
}

const LINEAR_1000 = 'sched=linear&T=1000&b0=0.0001&b1=0.02&zsnr=0';

export const PRESETS: readonly Preset[] = [
  {
    name: 'DDPM, 1000 steps',
    query: `${LINEAR_1000}&sampler=ddpm&steps=1000&var=betaTilde`,
    note: 'Ho et al. 2020: the linear schedule with T = 1000, sampled by ancestral DDPM through all 1000 steps. Slow on purpose: compare with "DDIM, 50 steps".',
    alternatives: [],
  },
  {
    name: 'DDIM, 50 steps',
    query: `${LINEAR_1000}&sampler=ddim&steps=50&eta=0&spacing=leading`,
    note: 'Song et al. 2021: the same model sampled deterministically (η = 0) in 50 steps, 20× fewer than DDPM\'s 1000.',
    alternatives: [],
  },
  {
    name: 'pixel vs latent',
    query: 'model=pixel&sampler=ddim&steps=50',
    note: 'One model at a time: sample the pixel model, then switch to the latent model (its own pretrained model, or two training stages from scratch) and sample again with the same seed.',
    alternatives: [
      { name: 'Pixel model', query: 'model=pixel' },
      { name: 'Latent model', query: 'model=latent' },
    ],
  },
  {
    name: 'linear vs cosine schedule',
    query: `${LINEAR_1000}&sampler=ddim&steps=50`,
    note: 'The Schedule panel plots both at once. To compare samples, train a model on each: switching the schedule of a trained model resets it.',
    alternatives: [
      { name: 'Linear schedule', query: 'sched=linear' },
      { name: 'Cosine schedule', query: 'sched=cosine' },
    ],
  },
  {
    name: 'guidance 0 vs 3 vs 7',
    query: 'cond=1&sampler=ddim&steps=50&w=0',
    note: 'Classifier-free guidance on a class-conditional model: sample at each scale with the same seed. w = 0 ignores the digit, 3 follows it, 7 exaggerates it (sharper, less varied).',
    alternatives: [
      { name: 'Guidance 0', query: 'w=0' },
      { name: 'Guidance 3', query: 'w=3' },
      { name: 'Guidance 7', query: 'w=7' },
    ],
  },
];

/**
 * Applies a preset's (or an alternative's) settings through the client: a model change goes
 * through updateSetup (which asks before resetting a trained model, and loads the other kind's
 * pretrained model on a pretrained page); the forms change at once.
 */
export function applyPreset(client: EngineClient, choice: PresetChoice): void {
  const { values } = decodeShare(choice.query);
  const s = client.store.getState();
  const current = s.pendingSetup ?? s.setup;
  const next = applyValues({ ...settingsOf(s), setup: current }, values);
  if (JSON.stringify(next.setup) !== JSON.stringify(current)) client.updateSetup(() => next.setup);
  client.setTraining(next.training);
  client.setSampling(next.sampling);
}

/** True when the page's settings already match the choice (its button shows as pressed). */
export function presetActive(s: ReturnType<EngineClient['store']['getState']>, choice: PresetChoice): boolean {
  const { values } = decodeShare(choice.query);
  const current = { ...settingsOf(s), setup: s.pendingSetup ?? s.setup };
  return JSON.stringify(applyValues(current, values)) === JSON.stringify(current);
}
