/**
 * Where the engine's model comes from: the pretrained files of a kind (fine-tuned by training),
 * fresh weights built from the Model panel's setup, files the user imports, or a restored
 * checkpoint; and the model's files exported for download.
 */
import type { PageToWorker } from '../protocol/messages';
import type { ModelFile } from '../io/model-file';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import { DEFAULT_TRAINING, IDLE_SAMPLE, type AppStore, type ExportedFile, type TrainingForm } from './store';
import type { SetupSync } from './setup-sync';
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
  constructor(private readonly host: ModelSourcesHost) {}

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
    store.setState((s) => ({ training: { ...s.training, stage: s.setup.kind === 'latent' ? 'autoencoder' : 'denoiser' } }));
    if (store.getState().engine.status === 'ready') {
      if (setupProblem(store.getState().setup) === null) this.host.setup.sendNow();
      else this.host.send({ type: 'train/reset' });
    }
  }

  /** The model is no longer the pretrained one: the fine-tuning values proposed for it go back to the defaults. */
  toScratch(): void {
    const { book } = this.host;
    const resetForm = book.fineTuneForm;
    book.fineTuneForm = false;
    this.host.store.setState((s) => ({
      pretrained: { ...s.pretrained, source: 'scratch', status: s.pretrained.status === 'failed' ? 'failed' : 'idle', info: null, loaded: 0, total: null },
      training: resetForm ? { ...s.training, learningRate: DEFAULT_TRAINING.learningRate, steps: DEFAULT_TRAINING.steps } : s.training,
    }));
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
    this.host.send({ type: 'model/export' });
  }

  /** The exported files arrived: they replace the last export's links and are downloaded. */
  onExported(files: ModelFile[]): void {
    const { store } = this.host;
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
    store.setState({ transfer: 'importing' });
    try {
      const files: ModelFile[] = await Promise.all([json[0], bin[0]].map(async (f) => ({ name: f.name, data: await f.arrayBuffer() })));
      this.host.send({ type: 'model/import', files });
    } catch (err) {
      store.setState({ transfer: 'idle' });
      this.host.reportError(`Could not read the picked files: ${err instanceof Error ? err.message : String(err)}`, 'model');
    }
  }
}
