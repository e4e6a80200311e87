/**
 * The Edit panel's page side (issue 21): its own store (the form, the input and mask as 784 numbers,
 * the last result, the upload's message), the `edit.*` keys of the URL, and the messages. A run is
 * sent as 'edit/start' with a run id from the engine client (so the denoising player records it
 * and captions it like a sampling run) and cancelled with 'sample/cancel'.
 */
import { createStore } from 'zustand/vanilla';
import type { ImageBatch, PageToWorker } from '../../protocol/messages';
import type { RunState } from '../../engine/run-config';
import type { EditToPage } from '../../protocol/edit-messages';
import type { EditRequest } from '../../sampling/edit-config';
import type { SamplingConfig } from '../../sampling/config';
import { readSection, writeSection, type AddressBar } from '../section-url';
import { DEFAULT_EDIT_FORM, EDIT_URL_PREFIX, formFromUrl, formToUrl, inpaintWords, type EditForm } from './edit-form';

export const PIXELS = 784;

/** A blank input (background −1) and a mask that keeps everything (1). */
export const blankInput = () => new Float32Array(PIXELS).fill(-1);
export const keepAll = () => new Float32Array(PIXELS).fill(1);

export interface EditResult {
  run: number;
  mode: EditForm['mode'];
  images: ImageBatch;
  input: ImageBatch;
  keep: ImageBatch | null;
  t0: number | null;
  alphaBar: number | null;
  steps: number;
  caption: string;
  latent: boolean;
}

export interface EditState {
  form: EditForm;
  input: Float32Array;
  /** 1 keep, 0 regenerate. */
  mask: Float32Array;
  /** Interpolation between inputs: the second input (set from the pad). */
  input2: Float32Array | null;
  /** The run in progress (its id) or null. */
  running: number | null;
  /** DDIM inversion's progress (interpolating inputs), while it runs. */
  inverting: { done: number; total: number; elapsedMs: number } | null;
  result: EditResult | null;
  /** What happened to the last upload (a clear message for a file that is not an image). */
  uploadNote: { kind: 'ok' | 'error'; text: string } | null;
}

export interface EditClientDeps {
  send: (message: PageToWorker) => void;
  /** Starts a run in the app's store and the denoising player: returns its id. */
  beginRun: (caption: string, numImages: number, steps: number) => number;
  /** The sampling form (the current sampler and its settings) and the model's words. */
  sampling: () => SamplingConfig;
  model: () => { latent: boolean; label: string; classConditional: boolean };
  bar?: AddressBar | null;
  search?: string;
}

export function createEditStore(form: EditForm = DEFAULT_EDIT_FORM) {
  return createStore<EditState>()(() => ({ form, input: blankInput(), mask: keepAll(), input2: null, running: null, inverting: null, result: null, uploadNote: null }));
}

export type EditStore = ReturnType<typeof createEditStore>;

export class EditClient {
  readonly store: EditStore;
  private nextConvert = 1;
  private pendingName = new Map<number, string>();
  private pendingCaption = '';

  constructor(private readonly deps: EditClientDeps) {
    this.store = createEditStore(formFromUrl(readSection(deps.search ?? '', EDIT_URL_PREFIX)));
  }

  setForm(patch: Partial<EditForm>): void {
    this.store.setState((s) => ({ form: { ...s.form, ...patch } }));
    const bar = this.deps.bar;
    if (bar) writeSection(bar, EDIT_URL_PREFIX, formToUrl(this.store.getState().form));
  }

  setInput(input: Float32Array): void {
    this.store.setState({ input });
  }

  setMask(mask: Float32Array): void {
    this.store.setState({ mask });
  }

  /** The current input becomes the interpolation's second input. */
  keepAsSecond(): void {
    this.store.setState((s) => ({ input2: Float32Array.from(s.input) }));
  }

  /** The request a run sends: the sampling form's sampler, the Edit form's own settings. */
  request(): EditRequest {
    const { form, input, mask, input2 } = this.store.getState();
    const sampling = this.deps.sampling();
    const conditional = this.deps.model().classConditional;
    return {
      ...sampling,
      steps: form.steps,
      numImages: form.seeds,
      seed: form.seed,
      digit: conditional ? form.digit : null,
      guidance: form.guidance,
      mode: form.mode,
      input: Float32Array.from(input),
      mask: form.mode === 'inpaint' ? Float32Array.from(mask) : null,
      strength: form.strength,
      jump: form.jump,
      resample: form.resample,
      inpaintMethod: form.inpaintMethod,
      dpsScale: form.dpsScale,
      interpolation: form.interpolation,
      frames: form.frames,
      input2: form.mode === 'interpolate' && form.interpolation === 'inputs' ? Float32Array.from(input2 ?? input) : null,
      seed2: form.seed2,
      digit2: conditional ? form.digit2 : null,
    };
  }

  start(): void {
    const request = this.request();
    const { form } = this.store.getState();
    const model = this.deps.model();
    const what =
      form.mode === 'sdedit'
        ? `SDEdit s = ${form.strength.toFixed(2)}`
        : form.mode === 'inpaint'
          ? `inpaint by ${inpaintWords(form)}${form.resample > 1 ? ` (jumps j = ${form.jump}, r = ${form.resample})` : ''}`
          : `interpolate ${form.interpolation}`;
    const cls = model.classConditional ? (request.digit === null ? 'class unknown' : `digit ${request.digit} · w = ${request.guidance}`) : 'unconditional';
    this.pendingCaption = `Edit: ${what} · ${model.label} · ${request.kind.toUpperCase()}-${request.steps} · ${cls}`;
    const n = request.mode === 'interpolate' ? request.frames : request.numImages;
    const run = this.deps.beginRun(this.pendingCaption, n, request.steps);
    this.store.setState({ running: run, inverting: null });
    this.deps.send({ type: 'edit/start', edit: request, run });
  }

  cancel(): void {
    this.deps.send({ type: 'sample/cancel' });
  }

  /** An image's RGBA pixels (decoded by the page) go to the worker to become a digit. */
  convert(name: string, width: number, height: number, rgba: Uint8Array): void {
    const id = this.nextConvert++;
    this.pendingName.set(id, name);
    this.deps.send({ type: 'edit/convert', id, width, height, rgba });
  }

  uploadFailed(text: string): void {
    this.store.setState({ uploadNote: { kind: 'error', text } });
  }

  /** The app's sampling state: an edit run that stops without a result is over. */
  onSampleState(state: RunState): void {
    if (state !== 'running' && state !== 'paused' && this.store.getState().running !== null) this.store.setState({ running: null, inverting: null });
  }

  onError(): void {
    this.store.setState({ running: null, inverting: null });
  }

  onMessage(msg: EditToPage): void {
    switch (msg.type) {
      case 'edit/progress':
        if (msg.run === this.store.getState().running) this.store.setState({ inverting: { done: msg.done, total: msg.total, elapsedMs: msg.elapsedMs } });
        return;
      case 'edit/result': {
        const { form } = this.store.getState();
        const result: EditResult = { ...msg, mode: form.mode, caption: this.pendingCaption, latent: this.deps.model().latent };
        this.store.setState({ result, running: null, inverting: null });
        return;
      }
      case 'edit/converted': {
        const name = this.pendingName.get(msg.id) ?? 'the image';
        this.pendingName.delete(msg.id);
        if (msg.blank) return this.store.setState({ uploadNote: { kind: 'error', text: `${name}: no digit found (the image is one flat colour).` } });
        const input = Float32Array.from(msg.pixels, (p) => p / 127.5 - 1);
        this.store.setState({ input, uploadNote: { kind: 'ok', text: `${name}: converted to 28×28 grey${msg.inverted ? ' (inverted: its background was light)' : ''}, fitted to 20×20 and centred by its centre of mass.` } });
        return;
      }
    }
  }
}
