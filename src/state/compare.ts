/**
 * The Compare panel's state: its form (sampler, steps, batch, seed, guidance, repeats, quality
 * samples, the sweep's step counts), the run's status and progress, and the rows measured so far.
 * A store of its own, fed by EngineClient from the worker's 'compare/*' messages.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CompareReport, CompareRow, CompareSettings } from '../eval/compare-report';
import type { WorkerToPage } from '../protocol/messages';

export type CompareStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

export interface CompareProgress {
  phase: string;
  unit: 'steps' | 'digits';
  done: number;
  total: number;
  stepsPerSec: number;
  etaSec: number;
}

export interface CompareState {
  form: CompareSettings;
  status: CompareStatus;
  /** Why the last run failed, in words. */
  message: string | null;
  /** The backend the rows were measured on. */
  backend: string | null;
  progress: CompareProgress | null;
  rows: CompareRow[];
  /** The settings of the run the rows belong to. */
  ranWith: CompareSettings | null;
}

export type CompareStore = StoreApi<CompareState>;

/**
 * DDIM-50 (the pretrained models' headline setting) at batch 16; the sweep from 10 to 1000 steps.
 * The FD reference is 2,000 training digits (scored once per page, then cached), not the CLI's 9,000:
 * scoring is ~12 MFLOP a digit, too slow to wait for on a software GPU.
 */
export const DEFAULT_COMPARE: CompareSettings = {
  sampler: 'ddim',
  steps: 50,
  batch: 16,
  seed: 0,
  guidance: 1,
  reps: 3,
  qualityImages: 200,
  referenceDigits: 2000,
  sweepSteps: [10, 20, 50, 100, 250, 1000],
};

export function createCompareStore(form: CompareSettings = DEFAULT_COMPARE): CompareStore {
  return createStore<CompareState>(() => ({ form, status: 'idle', message: null, backend: null, progress: null, rows: [], ranWith: null }));
}

type CompareMessage = Extract<WorkerToPage, { type: `compare/${string}` }>;

/** Folds one worker message into the store. A new run ('running') starts with no rows. */
export function applyCompareMessage(store: CompareStore, msg: CompareMessage): void {
  switch (msg.type) {
    case 'compare/state':
      store.setState((s) =>
        msg.state === 'running'
          ? { status: 'running', message: null, backend: msg.backend, progress: null, rows: [] }
          : { status: msg.state, message: msg.message, backend: msg.backend, progress: msg.state === 'done' ? s.progress : null },
      );
      break;
    case 'compare/progress':
      store.setState({ progress: { phase: msg.phase, unit: msg.unit, done: msg.done, total: msg.total, stepsPerSec: msg.stepsPerSec, etaSec: msg.etaSec } });
      break;
    case 'compare/row':
      store.setState((s) => ({ rows: [...s.rows, msg.row] }));
      break;
  }
}

/** "1, 20, 50" → [1, 20, 50]; an entry that is not a whole number ≥ 1 is an error naming it. */
export function parseStepList(text: string): { steps: number[] } | { error: string } {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  const steps: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!(Number.isInteger(n) && n >= 1 && n <= 1000)) return { error: `"${p}" is not a step count from 1 to 1000.` };
    steps.push(n);
  }
  if (steps.length > 12) return { error: `At most 12 step counts, got ${steps.length}.` };
  return { steps };
}

/** The ratios the article is about, from the rows of the main case: pixel over LDM. */
export function compareRatios(rows: CompareRow[]): { speedup: number; memory: number } | null {
  const main = rows.filter((r) => !r.sweep);
  const pixel = main.find((r) => r.model === 'pixel');
  const latent = main.find((r) => r.model === 'latent');
  if (!pixel || !latent) return null;
  return { speedup: pixel.msPerImage / latent.msPerImage, memory: latent.peakBytes / pixel.peakBytes };
}

export function compareReport(state: CompareState, userAgent: string, date = new Date()): CompareReport {
  return { format: 'diffusion-playground/compare', version: 1, date: date.toISOString(), backend: state.backend, userAgent, settings: state.ranWith, rows: state.rows };
}
