/**
 * Every position of one particle sampling run (x_T … x_0), for the lab's player: typed arrays
 * filled chunk by chunk from 'lab/sample/steps', outside React. A small store carries the counters
 * the views re-render on (run, filled, state).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LabObjective, LabToPage } from '../../protocol/lab-messages';
import type { LabPane } from './lab-settings';

type StepsMessage = Extract<LabToPage, { type: 'lab/sample/steps' }>;

export interface ParticleRunState {
  /** The page's run id (0: none yet). */
  run: number;
  /** What was asked: the pane's sampler, steps and denoiser, and the objective of the model. */
  pane: LabPane | null;
  objective: LabObjective | null;
  state: 'empty' | 'running' | 'done' | 'cancelled';
  /** Positions in all (steps + 1) and positions received in order from x_T. */
  total: number;
  filled: number;
  n: number;
  evaluations: number;
  elapsedMs: number;
}

const EMPTY: ParticleRunState = { run: 0, pane: null, objective: null, state: 'empty', total: 0, filled: 0, n: 0, evaluations: 0, elapsedMs: 0 };

export class ParticleRecord {
  readonly store: StoreApi<ParticleRunState> = createStore<ParticleRunState>(() => EMPTY);
  private points = new Float32Array(0);
  private times = new Float32Array(0);
  /** Which positions have arrived (chunks may in principle come out of order). */
  private have = new Uint8Array(0);

  begin(run: number, pane: LabPane, objective: LabObjective): void {
    this.points = new Float32Array(0);
    this.times = new Float32Array(0);
    this.have = new Uint8Array(0);
    this.store.setState({ ...EMPTY, run, pane: { ...pane }, objective, state: 'running' });
  }

  get run(): number {
    return this.store.getState().run;
  }

  /** Adds a chunk of positions; chunks of another run are ignored. */
  add(m: StepsMessage): void {
    const s = this.store.getState();
    if (m.run !== s.run || s.state === 'empty') return;
    const fresh = this.times.length !== m.total || s.n !== m.n;
    if (fresh) {
      this.points = new Float32Array(m.total * m.n * 2);
      this.times = new Float32Array(m.total);
      this.have = new Uint8Array(m.total);
    }
    const count = Math.min(m.count, m.total - m.first);
    this.points.set(m.points.subarray(0, count * m.n * 2), m.first * m.n * 2);
    this.times.set(m.t.subarray(0, count), m.first);
    this.have.fill(1, m.first, m.first + count);
    let filled = fresh ? 0 : s.filled;
    while (filled < m.total && this.have[filled]) filled++;
    this.store.setState({ total: m.total, n: m.n, filled, evaluations: Math.max(s.evaluations, m.evaluations) });
  }

  finish(run: number, state: 'running' | 'done' | 'cancelled', elapsedMs: number): void {
    if (run !== this.run) return;
    this.store.setState({ state, elapsedMs });
  }

  /** Positions of step `k` (0 = x_T), [n, 2], a view into the record (null before it arrived). */
  frame(k: number): Float32Array | null {
    const { n, filled } = this.store.getState();
    if (k < 0 || k >= filled) return null;
    return this.points.subarray(k * n * 2, (k + 1) * n * 2);
  }

  /** The time of step `k` (diffusion: the timestep, −1 at the end; flow: t). */
  time(k: number): number {
    return k >= 0 && k < this.times.length ? this.times[k] : NaN;
  }

  /** Particle `i`'s path over the positions 0..upTo, [upTo + 1, 2]. */
  path(i: number, upTo: number): Float32Array {
    const { n, filled } = this.store.getState();
    const last = Math.min(upTo, filled - 1);
    const out = new Float32Array(Math.max(0, last + 1) * 2);
    for (let k = 0; k <= last; k++) {
      out[2 * k] = this.points[(k * n + i) * 2];
      out[2 * k + 1] = this.points[(k * n + i) * 2 + 1];
    }
    return out;
  }

  clear(): void {
    this.points = new Float32Array(0);
    this.times = new Float32Array(0);
    this.have = new Uint8Array(0);
    this.store.setState(EMPTY);
  }
}
