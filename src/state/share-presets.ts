/**
 * Presets for the classic demos, written as links (the same query parameters a shared link has).
 *
 * A preset is complete: for each group of settings it touches (sampling, schedule, model,
 * training) the page goes back to its defaults and then takes the preset's values, so nothing a
 * previous preset (or the user) set in that group carries over, and the address bar afterwards
 * shows only the preset's own differences from the defaults. The page holds one model at a time,
 * so a comparison preset sets up its first configuration and offers each configuration as a
 * complete preset of its own.
 */
import type { EngineClient } from './engine-client';
import { applyValues, decodeShare, type Settings, type Value } from './share';
import { PARAMS, PARAM_BY_KEY, type ParamSpec } from './share-params';
import { baselineOf, settingsOf } from './share-link';
import type { AppState } from './store';

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

/** The groups a preset sets as a whole. */
export type PresetGroup = 'schedule' | 'model' | 'training' | 'sampling';

function groupOf(spec: ParamSpec): PresetGroup {
  if (spec.group === 'setup') return spec.schedule ? 'schedule' : 'model';
  return spec.group;
}

/** The groups of the settings a link sets. */
export function groupsOf(values: ReadonlyMap<string, Value>): Set<PresetGroup> {
  const groups = new Set<PresetGroup>();
  for (const key of values.keys()) {
    const spec = PARAM_BY_KEY.get(key);
    if (spec) groups.add(groupOf(spec));
  }
  return groups;
}

/** Query strings joined; a later value replaces an earlier one of the same name. */
function join(...queries: string[]): string {
  const out = new URLSearchParams();
  for (const q of queries) for (const [k, v] of new URLSearchParams(q)) out.set(k, v);
  return out.toString();
}

const LINEAR_1000 = 'sched=linear&T=1000&b0=0.0001&b1=0.02&zsnr=0';
const DDIM_50 = 'sampler=ddim&steps=50';
const PIXEL_VS_LATENT = join('model=pixel', DDIM_50);
const SCHEDULES = join(LINEAR_1000, DDIM_50);
const GUIDANCE = join('cond=1', DDIM_50, 'w=0');
/**
 * "Train to digits": the recipes that trained a model from fresh weights to legible digits fastest on
 * a 2-core machine without a GPU, chosen by measurement (`npm run bench:digits`, recipes `ldm-ae800`
 * and `mini-lr4-ema` of src/cli/digits-recipes.ts). Every model setting is written out, so that on the
 * pretrained model (whose setup is the base a preset starts from there) nothing of it stays; attention
 * is the network's default (latent-tiny has it, mini not), as a link without `attn` reads, and the
 * latent recipe names the pixel U-Net too (unused by it) so that the pretrained one's does not stay. The
 * latent model trains in two stages with one form: Steps is stage 1's (the autoencoder); the note
 * gives stage 2's. The step counts fill about 10 minutes of training in the page on such a machine
 * (measured there: stage 1's 800 steps in 1:50, then about 11 steps/s; the pixel model about 4.5).
 */
export const TRAIN_TO_DIGITS = {
  latent: 'model=latent&unet=tiny&ae=ae-tiny&lc=4&lden=latent-tiny&kl=0.00001&aeattn=0&pred=epsilon&cond=1&ema=0.99&drop=0&minsnr=0',
  latentTraining: 'lr=0.002&lrsched=constant&warmup=0&batch=32&tsteps=800&preview=100',
  latentDenoiserSteps: 4500,
  pixel: 'model=pixel&unet=mini&pred=epsilon&cond=1&ema=0.99&drop=0&minsnr=0',
  pixelTraining: 'lr=0.004&lrsched=constant&warmup=0&batch=16&tsteps=2600&preview=100',
};

export const PRESETS: readonly Preset[] = [
  {
    name: 'DDPM, 1000 steps',
    query: `${LINEAR_1000}&sampler=ddpm&steps=1000&var=betaTilde`,
    note: 'Ho et al. 2020: the linear schedule with T = 1000, sampled by ancestral DDPM through all 1000 steps. Slow on purpose: compare with "DDIM, 50 steps".',
    alternatives: [],
  },
  {
    name: 'DDIM, 50 steps',
    query: join(LINEAR_1000, DDIM_50, 'eta=0&spacing=leading'),
    note: 'Song et al. 2021: the same model sampled deterministically (η = 0) in 50 steps, 20× fewer than DDPM\'s 1000.',
    alternatives: [],
  },
  {
    name: 'pixel vs latent',
    query: PIXEL_VS_LATENT,
    note: 'One model at a time: sample the pixel model, then switch to the latent model (its own pretrained model, or two training stages from scratch) and sample again with the same seed. The model you leave is kept: "Undo: switch back" returns to it.',
    alternatives: [
      { name: 'Pixel model', query: PIXEL_VS_LATENT },
      { name: 'Latent model', query: join(PIXEL_VS_LATENT, 'model=latent') },
    ],
  },
  {
    name: 'linear vs cosine schedule',
    query: SCHEDULES,
    note: 'The Schedule panel plots both at once. To compare samples, train a model on each: changing the schedule puts the trained model aside, and "Undo: switch back" swaps between the two.',
    alternatives: [
      { name: 'Linear schedule', query: SCHEDULES },
      { name: 'Cosine schedule', query: join(SCHEDULES, 'sched=cosine') },
    ],
  },
  {
    name: 'guidance 0 vs 3 vs 7',
    query: GUIDANCE,
    note: 'Classifier-free guidance on a class-conditional model: sample at each scale with the same seed. w = 0 ignores the digit, 3 follows it, 7 exaggerates it (sharper, less varied).',
    alternatives: [
      { name: 'Guidance 0', query: GUIDANCE },
      { name: 'Guidance 3', query: join(GUIDANCE, 'w=3') },
      { name: 'Guidance 7', query: join(GUIDANCE, 'w=7') },
    ],
  },
  {
    name: 'Train to digits',
    query: join(LINEAR_1000, TRAIN_TO_DIGITS.latent, TRAIN_TO_DIGITS.latentTraining),
    note: `A latent diffusion model of your own, from fresh weights to legible digits in minutes on a computer without a GPU (the fastest recipe measured: on a 2-core laptop-class machine the classifier's targets were met after about 6 minutes of training). If the page asks, press "Reset to fresh weights" (the pretrained model is kept for Undo). Turn on "Score samples while training" under Training and press Start: stage 1 trains the autoencoder (about 2 minutes there). Then choose "2. Latent denoiser", set Steps to ${TRAIN_TO_DIGITS.latentDenoiserSteps.toLocaleString('en')} and press Start again: the chart shows confidence and label entropy rise and FD / floor fall as it learns.`,
    alternatives: [],
  },
  {
    name: 'Train to digits (pixel)',
    query: join(LINEAR_1000, TRAIN_TO_DIGITS.pixel, TRAIN_TO_DIGITS.pixelTraining),
    note: 'A pixel-space model of your own (the U-Net preset mini), from fresh weights in one stage: slower to legible digits than "Train to digits" (latent). If the page asks, press "Reset to fresh weights" (the pretrained model is kept for Undo). Turn on "Score samples while training" under Training, then press Start and watch the chart.',
    alternatives: [],
  },
];

/**
 * The page's defaults a preset starts from: what the page holds without a link (baselineOf), and
 * on a pretrained model its setup (a link from that page writes only the kind: the pretrained
 * model stands for the rest, so changing it is no default).
 */
export function presetBase(s: AppState): Settings {
  const base = baselineOf(s);
  return s.pretrained.source === 'pretrained' ? { ...base, setup: s.setup } : base;
}

/** The page's settings after a preset: each group it touches back at presetBase, then its values. */
export function presetSettings(s: AppState, choice: PresetChoice): Settings {
  const { values } = decodeShare(choice.query);
  const groups = groupsOf(values);
  const base = presetBase(s);
  let next: Settings = { ...settingsOf(s), setup: s.pendingSetup ?? s.setup };
  for (const spec of PARAMS) if (groups.has(groupOf(spec))) next = spec.set(next, spec.get(base));
  next = applyValues(next, values);
  // A preset that leaves the schedule alone may meet a T below its sampling steps.
  const T = next.setup.schedule.T;
  return next.sampling.steps > T ? { ...next, sampling: { ...next.sampling, steps: T } } : next;
}

/** True when every shareable setting of `a` equals `b`'s (of the setup only, with `setupOnly`). */
function sameSettings(a: Settings, b: Settings, setupOnly = false): boolean {
  return PARAMS.every((p) => (setupOnly && p.group !== 'setup') || p.get(a) === p.get(b));
}

/**
 * Applies a preset (or a comparison's configuration) through the client: a model change goes
 * through updateSetup (which asks before changing a trained model, keeps the model it replaces, and
 * loads the other kind's pretrained model on a pretrained page); the forms change at once. A
 * pretrained model that starts loading proposes its own forms on arrival: the preset's win.
 */
export function applyPreset(client: EngineClient, choice: PresetChoice): void {
  const { store } = client;
  const s = store.getState();
  const next = presetSettings(s, choice);
  if (!sameSettings(next, { ...next, setup: s.pendingSetup ?? s.setup }, true)) client.updateSetup(() => next.setup);
  // The stage is no preset's: a change of kind picked it (a latent model starts at stage 1).
  const { stage: _stage, ...training } = next.training;
  client.setTraining(training);
  client.setSampling(next.sampling);
  if (store.getState().pretrained.status === 'loading' && s.pretrained.status !== 'loading') {
    const stop = store.subscribe((now, prev) => {
      if (now.pretrained.status === prev.pretrained.status) return;
      stop();
      if (now.pretrained.status !== 'ready') return;
      const { stage: _again, ...againTraining } = presetSettings(now, choice).training;
      const again = presetSettings(now, choice);
      client.setTraining(againTraining);
      client.setSampling(again.sampling);
    });
  }
}

/** True when the page's settings already match the choice (its button shows as pressed). */
export function presetActive(s: AppState, choice: PresetChoice): boolean {
  return sameSettings(presetSettings(s, choice), { ...settingsOf(s), setup: s.pendingSetup ?? s.setup });
}
