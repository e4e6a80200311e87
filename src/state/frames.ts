/**
 * Image frames (data preview, training previews, sampling frames), kept out of React state: a
 * separate vanilla store the canvases subscribe to and draw from with putImageData ("transient
 * updates"). Only `mode` and `caption` are read by React, and they change rarely.
 */
import { createStore } from 'zustand/vanilla';
import type { ImageBatch } from '../protocol/messages';

export type CanvasMode = 'empty' | 'preview' | 'sample';

export interface FrameState {
  /** What the main canvas shows: nothing yet, a training preview, or a sampling run (x_t and x0). */
  mode: CanvasMode;
  /** The left grid: x_t while sampling, the samples of a training preview otherwise. */
  main: ImageBatch | null;
  /** The right grid while sampling: the predicted x0. */
  x0: ImageBatch | null;
  /** Real digits of the data set, for the Data panel. */
  data: ImageBatch | null;
  /** Training step of the preview shown, when mode is 'preview'. */
  previewStep: number | null;
  /** Latent models while sampling: x_t and the predicted x0 as latents [n, 7, 7, C] (main / x0 then hold their decodings). */
  latentXt: ImageBatch | null;
  latentX0: ImageBatch | null;
  /** Autoencoder stage: held-out originals and their reconstructions, and the step they were made at. */
  reconOriginals: ImageBatch | null;
  reconImages: ImageBatch | null;
  reconStep: number | null;
  /** Bumped on every new frame so subscribers can tell frames apart cheaply. */
  seq: number;
}

export function createFrameStore() {
  return createStore<FrameState>()(() => ({
    mode: 'empty',
    main: null,
    x0: null,
    data: null,
    previewStep: null,
    latentXt: null,
    latentX0: null,
    reconOriginals: null,
    reconImages: null,
    reconStep: null,
    seq: 0,
  }));
}

export type FrameStore = ReturnType<typeof createFrameStore>;
