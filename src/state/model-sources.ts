/**
 * Where the engine's model comes from: the pretrained files of a kind (fine-tuned by training),
 * fresh weights built from the Model panel's setup, files the user imports, or a restored
 * checkpoint; and the model's files exported for download.
 *
 * The previous model is kept: before a change replaces a trained or pretrained model, that model
 * is put aside (an untouched pretrained model by its kind, which can be loaded again; any other by
 * its exported files, held here), and "Undo: switch back" brings it back ('model/pretrained' or
 * 'model/import'), putting the model it replaces aside in its turn.
 */
import { fileSizeProblem } from '../models/setup/file-limits';
import type { PageToWorker, WorkerToPage } from '../protocol/messages';
import type { ModelFile } from '../io/model-file';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import { DEFAULT_TRAINING, IDLE_KEEP, IDLE_SAMPLE, type AppState, type AppStore, type ExportedFile, type KeptModel, type PretrainedState, type TrainingForm } from './store';
import type { SetupSync } from './setup-sync';
import { describeModel, KIND_WORDS, keepableAs } from './model-words';
import { setupProblem } from './validate';

/**
 * Fine-tuning a pretrained model: the training form proposes this many more steps at this learning
 * rate (the pretraining's cosine decay ends near it; Adam starts afresh, so a larger rate would
 * first undo some of the pretraining).
 */
export const FINE_TUNE_STEPS = 200;
export const FINE_TUNE_LEARNING_RATE = 1e-4;

/** What the exported files are called on disk (the importer accepts any names ending .json / .bin). */
export const EXPORT_NAMES: Record<string, string> = { json: 'diffusion-model.json', bin: 'diffusion-weights.bin' };

function exportName(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return EXPORT_NAMES[ext] ?? `diffusion-${name}`;
}

/** Saves a file through a temporary download link. */
export function defaultDownload(file: ExportedFile): void {
  const a = document.createElement('a');
  a.href = file.url;
  a.download = file.name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** What the client remembers of the model's source between messages (the message reducer reads it too). */
export interface SourceBook {
  /** The id of the pretrained request whose answer the page waits for (older answers are ignored). */
  pretrainedId: number;
  /** True while the training form holds the fine-tuning values proposed for a pretrained model. */
  fineTuneForm: boolean;
  /** True from an import until the imported model's first 'model' message, which picks the training stage. */
  justImported: boolean;
}

/** What the page restores with a kept model besides its weights: where it came from and its training form. */
interface KeptPage {
  pretrained: PretrainedState;
  training: TrainingForm;
  fineTuneForm: boolean;
}

/** A kept model with what it takes to bring it back. */
interface Kept {
  model: KeptModel;
  /** Its exported files (via 'files'). */
  files: ModelFile[] | null;
  page: KeptPage;
}

/** A change that replaces the engine's model; false when it turned out to have nothing to do (the model stays). */
export type ModelChange = () => boolean | void;

/** A model request the worker answers in order ('model/exported', 'model/imported' or a 'model' error). */
type ModelRequest = 'download' | 'keep' | 'import' | 'restore';

export interface ModelSourcesHost {
  readonly store: AppStore;
  readonly book: SourceBook;
  readonly setup: SetupSync;
  send(message: PageToWorker): void;
  reportError(message: string, source: string): void;
  /** Starts the loss curve, run counters and training images over. */
  clearTrainingView(): void;
  download(file: ExportedFile): void;
}

export class ModelSources {
  /** The kept model's files and page state (the store shows its description). */
  private kept: Kept | null = null;
  /** The change waiting for the current model's files before it replaces the model (and what the slot held before). */
  private waiting: { apply: ModelChange; previous: Kept | null } | null = null;
  /** The kept model on its way back (and so out of the slot until it has arrived). */
  private restoring: Kept | null = null;
  /** The model requests sent and not answered yet, oldest first (the worker answers them in order). */
  private requests: ModelRequest[] = [];

  constructor(private readonly host: ModelSourcesHost) {}

  /**
   * Puts the engine's model aside when it is worth keeping, then runs `apply` (which replaces it).
   * An untouched pretrained model is kept by its kind and `apply` runs at once; a trained one is
   * paused and exported first, and `apply` runs when its files arrive. An untouched pretrained model
   * never takes the place of a kept trained one (it can be loaded again any time). Returns false
   * when another keep or switch back is in progress (nothing is done).
   */
  keepThen(apply: ModelChange, swap: Kept | null = null): boolean {
    const { store } = this.host;
    const s = store.getState();
    if (s.keep.status !== 'idle' || this.waiting) return false;
    const via = keepableAs(s);
    if (via === null || (via === 'pretrained' && !swap && this.kept?.model.via === 'files')) {
      store.setState((now) => ({ keep: { ...now.keep, message: null } }));
      apply();
      return true;
    }
    const previous = this.kept;
    if (via === 'pretrained') {
      this.setKept({ model: { ...describeModel(s), setup: s.setup, via, bytes: 0 }, files: null, page: this.pageOf(s) });
      if (apply() === false) this.setKept(previous);
      return true;
    }
    this.waiting = { apply, previous };
    store.setState((now) => ({ keep: { ...now.keep, status: 'saving', message: null } }));
    // Paused at a step boundary first, so the files hold one step's weights.
    if (s.train.state === 'running') this.host.send({ type: 'train/pause' });
    this.requests.push('keep');
    this.host.send({ type: 'model/export' });
    return true;
  }

  /** Brings the kept model back ("Undo: switch back"); the current model, if worth keeping, takes its place. */
  switchBack(): void {
    const s = this.host.store.getState();
    const back = this.kept;
    if (!back || s.keep.status !== 'idle' || this.waiting) return;
    this.keepThen(() => this.bringBack(back), back);
  }

  /** Forgets the kept model (its files are freed). */
  forgetKept(): void {
    if (this.host.store.getState().keep.status !== 'idle') return;
    this.kept = null;
    this.host.store.setState({ keep: IDLE_KEEP });
  }

  private pageOf(s: AppState): KeptPage {
    return { pretrained: s.pretrained, training: s.training, fineTuneForm: this.host.book.fineTuneForm };
  }

  private setKept(kept: Kept | null): void {
    this.kept = kept;
    this.host.store.setState((s) => ({ keep: { ...s.keep, kept: kept?.model ?? null } }));
  }

  private bringBack(back: Kept): void {
    const { store } = this.host;
    // The slot now holds the model just replaced (or nothing): `back` is out of it until it has arrived.
    if (this.kept === back) this.setKept(null);
    this.restoring = back;
    store.setState((s) => ({ keep: { ...s.keep, status: 'restoring', message: null } }));
    if (back.model.via === 'pretrained' || back.files === null) {
      this.loadPretrained(back.model.setup.kind);
      return;
    }
    store.setState({ transfer: 'importing' });
    this.requests.push('restore');
    // Copies: the message transfers its buffers, and a refused import must leave the kept files whole.
    this.host.send({ type: 'model/import', files: back.files.map((f) => ({ name: f.name, data: f.data.slice(0) })) });
  }

  /** The current model's files arrived for keeping: it is kept, and the change waiting for it goes ahead. */
  private onKeptFiles(files: ModelFile[]): void {
    const w = this.waiting;
    this.waiting = null;
    if (!w) return;
    const s = this.host.store.getState();
    const bytes = files.reduce((n, f) => n + f.data.byteLength, 0);
    this.setKept({ model: { ...describeModel(s), setup: s.setup, via: 'files', bytes }, files, page: this.pageOf(s) });
    this.host.store.setState((now) => ({ keep: { ...now.keep, status: 'idle' } }));
    // The change was dropped meanwhile (the edit went back to the model's setup): the model stays, and so does the slot.
    if (w.apply() === false) this.setKept(w.previous);
  }

  /** A keep or a switch back ended without changing the model: the page says why. */
  private stop(message: string): void {
    this.host.store.setState((s) => ({ keep: { ...s.keep, status: 'idle', message } }));
  }

  /**
   * Follows the worker's answers that concern keeping: the files of a kept model, a switch back
   * arrived or refused, a restarted worker (requests in flight are lost). Runs after the message
   * reducer's patch.
   */
  afterMessage(msg: WorkerToPage): void {
    const { store, book } = this.host;
    switch (msg.type) {
      case 'model/imported': {
        if (this.requests.shift() !== 'restore' || !this.restoring) return;
        // The engine holds the kept model again: it was what it was (pretrained and fine-tuned, trained here), with its training form.
        const { page } = this.restoring;
        this.restoring = null;
        book.fineTuneForm = page.fineTuneForm;
        store.setState((s) => ({
          pretrained: { ...page.pretrained, loaded: 0, total: null },
          training: { ...page.training, stage: s.training.stage },
          keep: { ...s.keep, status: 'idle', message: null },
        }));
        return;
      }
      case 'error': {
        if (msg.source !== 'model') return;
        const request = this.requests.shift();
        if (request === 'keep' && this.waiting) {
          this.waiting = null;
          this.stop(`The current model could not be kept (${msg.message}), so nothing was changed.`);
        } else if (request === 'restore' && this.restoring) {
          // The engine kept its model: the one that was to come back goes back into the slot.
          const back = this.restoring;
          this.restoring = null;
          this.setKept(back);
          this.stop(`Could not switch back to ${back.model.label}: ${msg.message}`);
        }
        return;
      }
      case 'pretrained/loaded':
      case 'pretrained/failed':
        if (!this.restoring || msg.id !== book.pretrainedId) return;
        this.restoring = null;
        if (msg.type === 'pretrained/loaded') store.setState((s) => ({ keep: { ...s.keep, status: 'idle', message: null } }));
        else this.stop(`Could not switch back to the pretrained ${KIND_WORDS[msg.kind]}: ${msg.message}`);
        return;
      case 'ready': {
        // A restarted worker answers nothing sent to the one before (a pretrained load is asked again by the reducer, and goes on).
        const stopped = this.waiting !== null || (this.restoring !== null && this.restoring.model.via === 'files');
        this.requests = [];
        if (this.restoring && this.restoring.model.via === 'files') {
          this.setKept(this.restoring);
          this.restoring = null;
        }
        this.waiting = null;
        if (stopped) this.stop('The engine restarted before the model change finished; try again.');
        return;
      }
      default:
        return;
    }
  }

  /**
   * Loads the pretrained model of `kind` (the files on the site, models/<kind>/), replacing the
   * current model once they have passed every check. The request is sent once the engine is ready.
   */
  loadPretrained(kind: ModelKind): void {
    const { store, book } = this.host;
    const id = ++book.pretrainedId;
    this.host.setup.cancel();
    store.setState({
      pendingSetup: null,
      pretrained: { source: 'pretrained', status: 'loading', kind, loaded: 0, total: null, info: null, message: null },
    });
    if (store.getState().engine.status === 'ready') this.host.send({ type: 'model/pretrained', kind, id });
  }

  /**
   * Train from scratch: fresh weights built from the Model panel's setup (the pretrained model's
   * setup when one was loaded), with the training form back at its defaults.
   */
  trainFromScratch(): void {
    const { store, book } = this.host;
    const s = store.getState();
    if (s.pretrained.source === 'scratch') return;
    book.pretrainedId++; // an answer still on its way is for a request the user has left
    const setup = s.pendingSetup ?? s.setup;
    store.setState({ setup, pendingSetup: null });
    this.toScratch();
    this.restartFresh();
  }

  /** Fresh weights for the store's setup: the engine drops its model, the training view starts over. */
  restartFresh(): void {
    const { store } = this.host;
    this.host.setup.cancel();
    this.host.clearTrainingView();
    // model: null until the engine describes the fresh model (the old one's step counts no longer apply).
    store.setState((s) => ({ model: null, training: { ...s.training, stage: s.setup.kind === 'latent' ? 'autoencoder' : 'denoiser' } }));
    if (store.getState().engine.status === 'ready') {
      if (setupProblem(store.getState().setup) === null) this.host.setup.sendNow();
      else this.host.send({ type: 'train/reset' });
    }
  }

  /**
   * The model is no longer the pretrained one: the fine-tuning values proposed for it go back to the
   * defaults, those still as proposed (a value the user or a preset set since stays).
   */
  toScratch(): void {
    const { book } = this.host;
    const resetForm = book.fineTuneForm;
    book.fineTuneForm = false;
    this.host.store.setState((s) => {
      const info = s.pretrained.info;
      const proposedSteps = info ? info.denoiserSteps + FINE_TUNE_STEPS : s.training.steps;
      const training = resetForm
        ? {
            ...s.training,
            ...(s.training.learningRate === FINE_TUNE_LEARNING_RATE ? { learningRate: DEFAULT_TRAINING.learningRate } : {}),
            ...(s.training.steps === proposedSteps ? { steps: DEFAULT_TRAINING.steps } : {}),
          }
        : s.training;
      return {
        pretrained: { ...s.pretrained, source: 'scratch', status: s.pretrained.status === 'failed' ? 'failed' : 'idle', info: null, loaded: 0, total: null },
        training,
      };
    });
  }

  /** The engine holds a restored checkpoint: its setup, its training form, paused at its step. */
  takeRestored(setup: ModelSetup, training: TrainingForm): void {
    const { book } = this.host;
    this.host.setup.cancel();
    book.pretrainedId++; // a pretrained model still on its way is not wanted any more
    book.fineTuneForm = false;
    this.host.store.setState((s) => ({
      setup,
      pendingSetup: null,
      training: { ...s.training, ...training },
      pretrained: { ...s.pretrained, source: 'imported', status: 'idle', info: null, message: null },
      sample: s.sample.state === 'running' || s.sample.state === 'paused' ? IDLE_SAMPLE : s.sample,
      train: { ...s.train, totalSteps: training.steps, stage: training.stage },
    }));
  }

  /** Asks the engine for the model's files; they are downloaded when they arrive. */
  exportModel(): void {
    this.host.store.setState({ transfer: 'exporting' });
    this.requests.push('download');
    this.host.send({ type: 'model/export' });
  }

  /** The exported files arrived: kept (the export before a change), or they replace the last export's links and are downloaded. */
  onExported(files: ModelFile[]): void {
    const { store } = this.host;
    if (this.requests.shift() === 'keep') return this.onKeptFiles(files);
    for (const old of store.getState().exported) URL.revokeObjectURL(old.url);
    const exported: ExportedFile[] = files.map((f) => ({
      name: exportName(f.name),
      url: URL.createObjectURL(new Blob([f.data], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' })),
      bytes: f.data.byteLength,
    }));
    store.setState({ transfer: 'idle', exported });
    for (const f of exported) this.host.download(f);
  }

  /** Reads the picked files (a .json and a .bin, any names) and sends them to the engine. */
  async importModel(picked: readonly File[]): Promise<void> {
    const { store } = this.host;
    const json = picked.filter((f) => f.name.toLowerCase().endsWith('.json'));
    const bin = picked.filter((f) => f.name.toLowerCase().endsWith('.bin'));
    if (json.length !== 1 || bin.length !== 1) {
      const names = picked.map((f) => f.name).join(', ') || 'no files';
      this.host.reportError(`Import needs two files picked together: one .json (the model) and one .bin (its weights); got ${names}.`, 'model');
      return;
    }
    const tooLarge = [json[0], bin[0]].map((f) => fileSizeProblem(f.name, f.size)).find((p) => p !== null);
    if (tooLarge) {
      this.host.reportError(`Import refused: ${tooLarge}`, 'model');
      return;
    }
    store.setState({ transfer: 'importing' });
    try {
      const files: ModelFile[] = await Promise.all([json[0], bin[0]].map(async (f) => ({ name: f.name, data: await f.arrayBuffer() })));
      this.requests.push('import');
      this.host.send({ type: 'model/import', files });
    } catch (err) {
      store.setState({ transfer: 'idle' });
      this.host.reportError(`Could not read the picked files: ${err instanceof Error ? err.message : String(err)}`, 'model');
    }
  }
}
