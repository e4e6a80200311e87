/**
 * The page's side of the Training panel's Distill stage (issue 20; the worker's side is
 * src/engine/distill-run.ts), in its own small store: whether the stage is chosen, its form, the run's
 * state and progress, every step's loss by round, and each finished round with its sample grid.
 * When the last round is done the engine makes the student the page's model; the message reducer
 * takes that like an import (./message-reducer.ts, 'distill/done') and sets Sampling to the
 * student's DDIM-K, trailing spacing, guidance 1; this store keeps a note of it.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { PageToWorker } from '../protocol/messages';
import { DEFAULT_DISTILL, distillProblem, type DistillRoundResult, type DistillRunState, type DistillSettings, type DistillToPage } from '../protocol/distill-messages';

/** One training step's loss: its round and its step counted over all rounds (1-based). */
export interface DistillLossPoint {
  round: number;
  step: number;
  loss: number;
}

export interface DistillProgress {
  round: number;
  rounds: number;
  teacherSteps: number;
  studentSteps: number;
  /** Steps done in this round, of `stepsPerRound`. */
  step: number;
  stepsPerRound: number;
  stepsPerSec: number;
  etaSec: number;
}

export interface DistillState {
  /** The Distill stage is the one chosen in Training (its form and run replace the training form). */
  selected: boolean;
  /** The form (values may be invalid while typed; `distillProblem` says why). */
  form: DistillSettings;
  /** 'starting': asked for, not confirmed yet. */
  status: 'idle' | 'starting' | DistillRunState;
  /** Why the last run failed or was refused, in words. */
  message: string | null;
  progress: DistillProgress | null;
  losses: DistillLossPoint[];
  results: DistillRoundResult[];
  /** Set when the last run's student became the page's model. */
  adopted: { teacherSteps: number; studentSteps: number } | null;
}

/** Loss points kept at most (a long run keeps every k-th; the rounds' table keeps the figures). */
export const MAX_DISTILL_POINTS = 4000;

export const IDLE_DISTILL: Omit<DistillState, 'selected' | 'form'> = { status: 'idle', message: null, progress: null, losses: [], results: [], adopted: null };

export class DistillClient {
  readonly store: StoreApi<DistillState> = createStore<DistillState>()(() => ({ selected: false, form: DEFAULT_DISTILL, ...IDLE_DISTILL }));

  /** True from 'distill/done' until the page has taken the student as its new model. */
  private adopting = false;

  constructor(private readonly send: (message: PageToWorker) => void) {}

  /** Chooses (or leaves) the Distill stage in Training. */
  select(selected: boolean): void {
    this.store.setState({ selected });
  }

  setForm(patch: Partial<DistillSettings>): void {
    this.store.setState((s) => ({ form: { ...s.form, ...patch } }));
  }

  /** Whether a run is in progress (asked for, running or paused). */
  active(): boolean {
    const { status } = this.store.getState();
    return status === 'starting' || status === 'running' || status === 'paused';
  }

  /** Starts a distillation of the page's model with the form's settings (on a schedule of T steps); false when the form is invalid. */
  start(T: number): boolean {
    const { form } = this.store.getState();
    const problem = distillProblem(form, T);
    if (problem || this.active()) {
      if (problem) this.store.setState({ message: problem });
      return false;
    }
    // The note on the page's model stays: it is the last student until this run's replaces it.
    this.store.setState((s) => ({ ...IDLE_DISTILL, adopted: s.adopted, status: 'starting' }));
    this.send({ type: 'distill/start', settings: form });
    return true;
  }

  pause(): void {
    this.send({ type: 'distill/pause' });
  }

  resume(): void {
    this.send({ type: 'distill/resume' });
  }

  stop(): void {
    this.send({ type: 'distill/stop' });
  }

  onMessage(msg: DistillToPage): void {
    switch (msg.type) {
      case 'distill/state':
        return this.store.setState({ status: msg.state, message: msg.message });
      case 'distill/progress': {
        const { steps, losses, type: _type, ...progress } = msg;
        const base = (msg.round - 1) * msg.stepsPerRound;
        const points = Array.from(steps, (step, i) => ({ round: msg.round, step: base + step, loss: losses[i] }));
        return this.store.setState((s) => ({ progress, losses: thin([...s.losses, ...points]) }));
      }
      case 'distill/round': {
        const { type: _type, ...result } = msg;
        return this.store.setState((s) => ({ results: [...s.results, result] }));
      }
      case 'distill/done': {
        const next = msg.studentSteps / 2;
        this.adopting = true;
        // The student can be distilled again: the form proposes its next round.
        return this.store.setState((s) => ({
          adopted: { teacherSteps: msg.teacherSteps, studentSteps: msg.studentSteps },
          form: Number.isInteger(next) ? { ...s.form, fromSteps: msg.studentSteps, toSteps: next, guidance: 1 } : s.form,
        }));
      }
    }
  }

  /**
   * The page's model changed: unless this change is the student's arrival, the note that the student
   * is the model goes, and so do the rounds of a finished run (they were another model's).
   */
  onNewModel(): void {
    if (this.adopting) {
      this.adopting = false;
      return;
    }
    const s = this.store.getState();
    if (this.active()) {
      if (s.adopted) this.store.setState({ adopted: null });
    } else if (s.adopted || s.results.length > 0 || s.losses.length > 0 || s.progress) {
      this.store.setState({ ...IDLE_DISTILL });
    }
  }

  /** The engine refused or lost a run ('error' from a distill request). */
  onError(message: string): void {
    if (this.active()) this.store.setState({ status: 'failed', message });
  }

  /** The engine (re)started: a run in progress is gone with the worker that ran it. */
  onEngineReady(): void {
    if (this.active()) this.store.setState({ status: 'failed', message: 'The engine restarted: the distillation in progress was lost; the page keeps the model it had.' });
  }
}

/** Every other point dropped once there are too many (the first and the newest kept). */
function thin(points: DistillLossPoint[]): DistillLossPoint[] {
  if (points.length <= MAX_DISTILL_POINTS) return points;
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}
