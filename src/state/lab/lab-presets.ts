/**
 * The lab's presets. Each is complete: it starts from the lab's defaults and sets its own values,
 * so nothing from an earlier preset (or the user) carries over. The lab holds one model, so
 * "flow matching vs diffusion" offers its two configurations as alternatives: train and sample
 * one, then the other; each pane keeps its last run, both from the same starting noise.
 */
import { DEFAULT_LAB, type LabSettings } from './lab-settings';

export interface LabPresetChoice {
  name: string;
  values: Partial<LabSettings>;
}

export interface LabPreset extends LabPresetChoice {
  /** What to do and what to look at. */
  note: string;
  alternatives: LabPresetChoice[];
}

const FLOW_VS_DIFFUSION: Partial<LabSettings> = {
  data: 'gaussians8',
  a: { sampler: 'ddim', steps: 20, denoiser: 'learned' },
  b: { sampler: 'euler', steps: 20, denoiser: 'learned' },
  tView: 0.5,
};

export const LAB_PRESETS: LabPreset[] = [
  {
    name: '8 Gaussians in 10 seconds',
    values: { data: 'gaussians8', a: { sampler: 'ddpm', steps: 100, denoiser: 'learned' }, b: { sampler: 'ddim', steps: 20, denoiser: 'learned' } },
    note: 'Press Train, then Sample: within about ten seconds of training the particles land on all eight modes. Measure quality to check it against two samples of real data.',
    alternatives: [],
  },
  {
    name: 'DDPM vs DDIM paths',
    values: { data: 'moons', a: { sampler: 'ddpm', steps: 50, denoiser: 'learned' }, b: { sampler: 'ddim', steps: 50, denoiser: 'learned' } },
    note: 'Train, then Sample: both panes start from the same noise. DDPM adds fresh noise at every step, so its paths jitter; DDIM follows a smooth, deterministic path.',
    alternatives: [],
  },
  {
    name: 'flow matching vs diffusion',
    values: { ...FLOW_VS_DIFFUSION, objective: 'diffusion' },
    note: 'One model at a time: train diffusion and sample (the left pane, DDIM), then choose Flow matching, train and sample again (the right pane, Euler). Both start from the same noise; flow matching’s paths are nearly straight.',
    alternatives: [
      { name: 'Diffusion (DDIM, left pane)', values: { ...FLOW_VS_DIFFUSION, objective: 'diffusion' } },
      { name: 'Flow matching (Euler, right pane)', values: { ...FLOW_VS_DIFFUSION, objective: 'flow' } },
    ],
  },
  {
    name: 'learned vs exact score',
    values: { data: 'gaussians8', field: 'score', tView: 0.15, a: { sampler: 'ddim', steps: 20, denoiser: 'learned' }, b: { sampler: 'ddim', steps: 20, denoiser: 'exact' } },
    note: 'The field view shows the learned score, the exact one of the noised mixture, and their difference: the network is wrong where the data is thin. The right pane samples with the exact denoiser, so any error left there is the sampler’s own.',
    alternatives: [],
  },
];

/** The settings a preset (or one of its alternatives) sets: the defaults, then its own values. */
export function presetSettings(choice: LabPresetChoice): LabSettings {
  return { ...DEFAULT_LAB, ...choice.values };
}

/** Whether the settings are exactly a preset's. */
export function presetMatches(s: LabSettings, choice: LabPresetChoice): boolean {
  const p = presetSettings(choice);
  return (Object.keys(p) as (keyof LabSettings)[]).every((k) => JSON.stringify(p[k]) === JSON.stringify(s[k]));
}
