/**
 * The page's side of the live quality curve (issue 18; the worker's side is
 * src/engine/quality-curve.ts): whether it is on, how many samples a check scores, and the points
 * the worker has sent, in their own small store. Off by default: each check samples and scores a
 * few hundred digits (at most 5 % of the training time, measured ≤ 10 % of its steps/s), and the first
 * one also loads the 1.8 MB classifier and scores 1,000 + N real digits; a teacher turns it on.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { PageToWorker } from '../protocol/messages';
import { DEFAULT_QUALITY, QUALITY_LIMITS, type QualityPoint, type QualitySettings, type QualityToPage } from '../protocol/quality-messages';
import type { Validator } from './validate';

export interface QualityState {
  enabled: boolean;
  /** Samples per check (the form's value; may be invalid while typed). */
  samples: number;
  /** 'loading': the classifier and the real digits' features are being prepared (first check). */
  status: 'idle' | 'loading' | 'ready' | 'failed';
  message: string | null;
  points: QualityPoint[];
}

/** Points kept at most (the oldest go first); a check every half minute fills this in hours. */
export const MAX_QUALITY_POINTS = 500;

export const validateQualitySamples: Validator = (n) =>
  Number.isInteger(n) && n >= QUALITY_LIMITS.minSamples && n <= QUALITY_LIMITS.maxSamples ? null : `A whole number from ${QUALITY_LIMITS.minSamples} to ${QUALITY_LIMITS.maxSamples}.`;

export class QualityClient {
  readonly store: StoreApi<QualityState> = createStore<QualityState>()(() => ({ enabled: false, samples: DEFAULT_QUALITY.samples, status: 'idle', message: null, points: [] }));

  constructor(private readonly send: (message: PageToWorker) => void) {}

  /** The settings a training run is started with: null when off (or while the sample count is invalid). */
  settings(): QualitySettings | null {
    const s = this.store.getState();
    return s.enabled && validateQualitySamples(s.samples) === null ? { ...DEFAULT_QUALITY, samples: s.samples } : null;
  }

  setEnabled(enabled: boolean): void {
    this.store.setState((s) => ({ enabled, status: enabled ? (s.status === 'failed' ? 'idle' : s.status) : s.status, message: enabled ? null : s.message }));
    this.send({ type: 'quality/set', settings: this.settings() });
  }

  setSamples(samples: number): void {
    this.store.setState({ samples });
    if (this.store.getState().enabled && validateQualitySamples(samples) === null) this.send({ type: 'quality/set', settings: this.settings() });
  }

  onMessage(msg: QualityToPage): void {
    if (msg.type === 'quality/point') {
      this.store.setState((s) => ({ points: [...s.points.slice(-(MAX_QUALITY_POINTS - 1)), msg.point], status: 'ready', message: null }));
    } else {
      // A failed curve turned itself off in the worker: the checkbox follows.
      this.store.setState((s) => ({ status: msg.status, message: msg.message, enabled: msg.status === 'failed' ? false : s.enabled }));
    }
  }

  /** A new model or a reset: the curve starts over (the setting stays). */
  clear(): void {
    this.store.setState((s) => ({ points: [], status: s.status === 'failed' ? s.status : 'idle' }));
  }
}
