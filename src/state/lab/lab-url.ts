/**
 * The lab's settings in the address bar, under the `lab.` prefix (../section-url.ts): only values
 * that differ from the defaults are written; a link's values are read back with notes for the ones
 * that cannot be used (they keep their defaults). Drawn points are not in links (too long).
 */
import { SCHEDULE_KINDS } from '../../diffusion/config';
import { LAB_DATASETS, LAB_OBJECTIVES, LAB_SAMPLERS, type LabComponent, type LabDenoiser } from '../../protocol/lab-messages';
import { readSection, writeSection, type AddressBar } from '../section-url';
import { DEFAULT_LAB, LAB_LIMITS, type LabPane, type LabSettings } from './lab-settings';
import type { LabStore } from './lab-store';

export const LAB_PREFIX = 'lab.';

type NumKey = 'count' | 'dataSeed' | 'minSnr' | 'T' | 'width' | 'depth' | 'modelSeed' | 'trainSteps' | 'batch' | 'learningRate' | 'particles' | 'sampleSeed' | 'tView';

/** URL key, setting, [min, max], whole numbers only. */
const NUMBERS: [string, NumKey, number, number, boolean][] = [
  ['n', 'count', ...LAB_LIMITS.count, true],
  ['dseed', 'dataSeed', 0, 2 ** 31 - 1, true],
  ['snr', 'minSnr', ...LAB_LIMITS.minSnr, false],
  ['T', 'T', ...LAB_LIMITS.T, true],
  ['width', 'width', ...LAB_LIMITS.width, true],
  ['depth', 'depth', ...LAB_LIMITS.depth, true],
  ['mseed', 'modelSeed', 0, 2 ** 31 - 1, true],
  ['steps', 'trainSteps', ...LAB_LIMITS.trainSteps, true],
  ['batch', 'batch', ...LAB_LIMITS.batch, true],
  ['lr', 'learningRate', ...LAB_LIMITS.learningRate, false],
  ['particles', 'particles', ...LAB_LIMITS.particles, true],
  ['seed', 'sampleSeed', 0, 2 ** 31 - 1, true],
  ['t', 'tView', 0, 1, false],
];

const CHOICES = {
  data: LAB_DATASETS,
  obj: LAB_OBJECTIVES,
  pred: ['epsilon', 'x0', 'v'],
  sched: SCHEDULE_KINDS,
  field: ['eps', 'score', 'velocity'],
} as const;
const CHOICE_SETTING = { data: 'data', obj: 'objective', pred: 'prediction', sched: 'schedule', field: 'field' } as const;

const num = (v: number) => String(Number(v.toPrecision(6)));

export function encodePane(p: LabPane): string {
  return `${p.sampler}.${p.steps}.${p.denoiser}`;
}

export function decodePane(text: string): LabPane | null {
  const [sampler, steps, denoiser] = text.split('.');
  const k = Number(steps);
  if (!(LAB_SAMPLERS as readonly string[]).includes(sampler) || !Number.isInteger(k) || k < 1 || k > LAB_LIMITS.steps[1]) return null;
  if (denoiser !== 'learned' && denoiser !== 'exact') return null;
  return { sampler: sampler as LabPane['sampler'], steps: k, denoiser: denoiser as LabDenoiser };
}

export function encodeComponents(cs: readonly LabComponent[]): string {
  return cs.map((c) => [c.mean[0], c.mean[1], c.std, c.weight].map(num).join(',')).join(';');
}

export function decodeComponents(text: string): LabComponent[] | null {
  const out: LabComponent[] = [];
  for (const part of text.split(';')) {
    const v = part.split(',').map(Number);
    if (v.length !== 4 || !v.every(Number.isFinite) || Math.abs(v[0]) > 10 || Math.abs(v[1]) > 10 || v[2] <= 0 || v[2] > 5 || v[3] <= 0) return null;
    out.push({ mean: [v[0], v[1]], std: v[2], weight: v[3] });
  }
  return out.length > 0 && out.length <= 16 ? out : null;
}

/** The URL entries (without the prefix) of the settings that differ from the defaults. */
export function labEntries(s: LabSettings): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, setting] of Object.entries(CHOICE_SETTING) as [keyof typeof CHOICE_SETTING, (typeof CHOICE_SETTING)[keyof typeof CHOICE_SETTING]][]) {
    if (s[setting] !== DEFAULT_LAB[setting]) out.push([key, s[setting]]);
  }
  for (const [key, setting] of NUMBERS) if (s[setting] !== DEFAULT_LAB[setting]) out.push([key, num(s[setting])]);
  const mix = encodeComponents(s.components);
  if (mix !== encodeComponents(DEFAULT_LAB.components)) out.push(['mix', mix]);
  for (const pane of ['a', 'b'] as const) if (encodePane(s[pane]) !== encodePane(DEFAULT_LAB[pane])) out.push([pane, encodePane(s[pane])]);
  return out;
}

/** The settings a query's `lab.*` keys give (over the defaults), and a note for each value not used. */
export function decodeLab(search: string): { settings: LabSettings; notes: string[] } {
  const values = readSection(search, LAB_PREFIX);
  const s: LabSettings = { ...DEFAULT_LAB };
  const notes: string[] = [];
  const bad = (key: string, why: string) => notes.push(`lab.${key}=${values.get(key)}: ${why}; the default is used.`);
  for (const [key, text] of values) {
    if (key in CHOICES) {
      const options = CHOICES[key as keyof typeof CHOICES] as readonly string[];
      if (options.includes(text)) Object.assign(s, { [CHOICE_SETTING[key as keyof typeof CHOICE_SETTING]]: text });
      else bad(key, `not one of ${options.join(', ')}`);
      continue;
    }
    const spec = NUMBERS.find(([k]) => k === key);
    if (spec) {
      const [, setting, lo, hi, whole] = spec;
      const v = Number(text);
      if (text.trim() !== '' && Number.isFinite(v) && v >= lo && v <= hi && (!whole || Number.isInteger(v))) s[setting] = v;
      else bad(key, `not a ${whole ? 'whole ' : ''}number from ${lo} to ${hi}`);
      continue;
    }
    if (key === 'mix') {
      const cs = decodeComponents(text);
      if (cs) s.components = cs;
      else bad(key, 'not a list of "x,y,std,weight" components');
    } else if (key === 'a' || key === 'b') {
      const pane = decodePane(text);
      if (pane) s[key] = pane;
      else bad(key, 'not "sampler.steps.learned|exact"');
    } else {
      notes.push(`lab.${key} is not a setting of the 2D lab; it was ignored.`);
    }
  }
  if (s.data === 'drawn') {
    notes.push('Drawn points are not kept in links: draw them again (the lab starts on 8 Gaussians).');
    s.data = DEFAULT_LAB.data;
  }
  return { settings: s, notes };
}

export function writeLabUrl(bar: AddressBar, s: LabSettings): void {
  writeSection(bar, LAB_PREFIX, labEntries(s));
}

/** Keeps the address bar's `lab.*` keys in step with the settings, `delayMs` after the last change. */
export function syncLabUrl(store: LabStore, bar: AddressBar, delayMs = 300): { dispose(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const unsubscribe = store.subscribe((s, prev) => {
    if (s.settings === prev.settings) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      writeLabUrl(bar, store.getState().settings);
    }, delayMs);
  });
  return {
    dispose() {
      unsubscribe();
      if (timer) clearTimeout(timer);
    },
  };
}
