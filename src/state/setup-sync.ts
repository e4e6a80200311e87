/**
 * The Model panel's setup on its way to the engine. An edit changes the store at once (or waits as
 * `pendingSetup` when a trained model would change) and is sent once the user stops typing, not a
 * rebuild per keystroke. A run sends a waiting edit first; a model the engine brings itself
 * (pretrained, imported, restored) drops it, since sending it would rebuild that model. A change
 * that replaces a trained or pretrained model puts that model aside first (host.keepThen), so
 * "Undo: switch back" can bring it back.
 */
import type { PageToWorker } from '../protocol/messages';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import { PARAMS, type Settings } from './share-params';
import { modelIsTrained, stageSteps, type AppState, type AppStore, type TrainingForm } from './store';
import { setupProblem } from './validate';

/** Setup changes are sent to the worker after the user stops typing for this long. */
export const SETUP_DEBOUNCE_MS = 250;

export interface SetupSyncHost {
  readonly store: AppStore;
  send(message: PageToWorker): void;
  /** Loads the pretrained model of `kind` (a change of kind while on a pretrained model). */
  loadPretrained(kind: ModelKind): void;
  /** Forgets the trained weights (a confirmed change of a trained model's setup). */
  resetTraining(): void;
  /**
   * Puts the engine's model aside when it is worth keeping, then runs `apply`, which replaces it (at
   * once, or once its files have arrived); `apply` returns false when it had nothing to do.
   */
  keepThen(apply: () => boolean | void): void;
}

/** The 'setup' message for the store's setup; null while the engine is not ready or the setup is invalid (the UI shows why and blocks Start and Sample). */
export function setupRequest(s: Pick<AppState, 'engine' | 'setup'>): PageToWorker | null {
  if (s.engine.status !== 'ready' || setupProblem(s.setup) !== null) return null;
  return { type: 'setup', setup: s.setup };
}

function sameSetup(a: ModelSetup, b: ModelSetup): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A change of the pretrained model's kind and nothing else (attention aside: the Model panel sets the
 * new network's default with the kind): that kind's pretrained model loads. A change of the kind with
 * other settings (a preset's whole recipe, e.g. "Train to digits") describes a model of its own:
 * fresh weights, as any other change of a trained model.
 */
export function toOtherPretrained(s: AppState, next: ModelSetup): boolean {
  return s.pretrained.source === 'pretrained' && next.kind !== s.setup.kind && sameSetup({ ...next, kind: s.setup.kind, attention: s.setup.attention }, s.setup);
}

/** The setup's changes, in the page's words ("Diffusion steps T: 1000 → 100"), for the confirmation. */
export function setupChanges(from: ModelSetup, to: ModelSetup): string[] {
  const show = (v: unknown) => (v === true ? 'on' : v === false ? 'off' : String(v));
  const a = { setup: from } as Settings;
  const b = { setup: to } as Settings;
  return PARAMS.filter((p) => p.group === 'setup' && p.get(a) !== p.get(b)).map((p) => `${p.what}: ${show(p.get(a))} → ${show(p.get(b))}`);
}

/** True when the model has trained beyond its pretrained steps (or is training): it is no longer the pretrained files. */
export function fineTuned(s: AppState): boolean {
  if (s.train.state === 'running' || s.train.state === 'paused') return true;
  const info = s.pretrained.info;
  if (info == null) return modelIsTrained(s);
  const steps = stageSteps(s);
  return steps.denoiser > info.denoiserSteps || steps.autoencoder > info.autoencoderSteps;
}

/** A switch to a latent model starts at stage 1 (the autoencoder); a pixel model has only the denoiser. */
function trainingFor(training: TrainingForm, prev: ModelSetup, next: ModelSetup): TrainingForm {
  if (prev.kind === next.kind) return training;
  return { ...training, stage: next.kind === 'latent' ? 'autoencoder' : 'denoiser' };
}

export class SetupSync {
  /** The debounce of an edit not yet sent (null when none waits). */
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly host: SetupSyncHost) {}

  /**
   * Changes the model setup; asks for a reset (pendingSetup) when a trained model would change. With
   * a pretrained model, a change of kind loads that kind's pretrained model instead (asking first
   * only when the current one has been fine-tuned); the one it replaces is kept for switching back.
   */
  update(change: (current: ModelSetup) => ModelSetup): void {
    const { store } = this.host;
    const s = store.getState();
    const next = change(s.pendingSetup ?? s.setup);
    if (toOtherPretrained(s, next) && !fineTuned(s)) {
      this.host.keepThen(() => this.host.loadPretrained(next.kind));
      return;
    }
    if (modelIsTrained(s)) {
      store.setState({ pendingSetup: sameSetup(next, s.setup) ? null : next });
      return;
    }
    store.setState({ setup: next, pendingSetup: null, training: trainingFor(s.training, s.setup, next) });
    this.schedule();
  }

  /**
   * Confirms a pending setup change: the current model is put aside (unless `keep` is false: the
   * user chose to discard it after keeping failed), then training is reset and the new setup
   * applied. With a pretrained model, a change of kind loads that kind's pretrained model; any other
   * change means fresh weights.
   */
  confirmReset(keep = true): void {
    const { store } = this.host;
    if (store.getState().keep.status !== 'idle') return;
    const apply = () => {
      // Read again: keeping a trained model waits for its files, and the edit may have changed meanwhile.
      const s = store.getState();
      const pending = s.pendingSetup;
      if (!pending) return false;
      if (toOtherPretrained(s, pending)) {
        this.host.loadPretrained(pending.kind);
        return;
      }
      this.host.resetTraining();
      // model: null until the engine describes the fresh model (the old one's step counts no longer apply).
      store.setState((now) => ({ setup: pending, pendingSetup: null, model: null, training: trainingFor(now.training, now.setup, pending) }));
      this.sendNow();
    };
    if (keep) this.host.keepThen(apply);
    else apply();
  }

  /** Drops a pending setup change and keeps the trained model. */
  keepModel(): void {
    this.host.store.setState({ pendingSetup: null });
  }

  /** Sends the store's setup once the user has stopped editing for SETUP_DEBOUNCE_MS. */
  private schedule(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sendNow();
    }, SETUP_DEBOUNCE_MS);
  }

  /** Sends an edit still waiting now: a run about to start must use it. */
  flush(): void {
    if (this.timer) {
      this.cancel();
      this.sendNow();
    }
  }

  /** Drops an edit still waiting: the engine's model now comes with its own setup. */
  cancel(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Sends the store's setup now (when the engine is ready and the setup valid). */
  sendNow(): void {
    const request = setupRequest(this.host.store.getState());
    if (request) this.host.send(request);
  }
}
