/**
 * The Edit panel's messages (issue 21). An edit run streams into the denoising player through the
 * sampling run's own messages ('sample/state', 'sample/frame', 'sample/steps' with the run's id)
 * and is stopped by 'sample/cancel' like one; these add what an edit has besides: its request, its
 * result beside the input as the model kept it, the inversion's progress, and an uploaded image
 * turned into an MNIST-style digit (src/data/digit-image.ts, in the worker).
 */
import type { EditRequest } from '../sampling/edit-config';

/** Images as ./messages.ts's ImageBatch (declared here too: the two files must not import each other). */
export interface EditImages {
  /** Pixels in [−1, 1], layout [n, h, w, c]; a transferred buffer. */
  pixels: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

export type EditToWorker =
  /** `run`: the page's id of the run, echoed in its 'sample/steps' and 'edit/result'. */
  | { type: 'edit/start'; edit: EditRequest; run: number }
  /** An uploaded image's pixels (RGBA, decoded by the page) to turn into a 28×28 digit; `id` comes back. */
  | { type: 'edit/convert'; id: number; width: number; height: number; rgba: Uint8Array };

export type EditToPage =
  | {
      type: 'edit/result';
      run: number;
      /** The edited images, pixels [n, 28, 28, 1] in [−1, 1] (latent models: decoded). */
      images: EditImages;
      /** The input as the model holds it: itself (pixel) or its autoencoder reconstruction (latent). */
      input: EditImages;
      /** Inpainting: the mask the model used (1 keep), on the 28×28 grid (latent: its 7×7 cells). */
      keep: EditImages | null;
      /** SDEdit: the timestep the input was noised to and ᾱ there (−1 and 1 when nothing ran). */
      t0: number | null;
      alphaBar: number | null;
      /** Reverse steps that ran (RePaint's resampling included). */
      steps: number;
    }
  /** Interpolation between inputs: the DDIM inversion's progress before the strip is sampled. */
  | { type: 'edit/progress'; run: number; phase: 'inverting'; done: number; total: number; elapsedMs: number }
  | { type: 'edit/converted'; id: number; pixels: Uint8Array; inverted: boolean; blank: boolean };

export function isEditMessage<M extends { type: string }>(message: M | EditToPage): message is EditToPage {
  return message.type.startsWith('edit/');
}

/** The buffers an edit message carries, for postMessage's transfer list. */
export function editTransferables(message: EditToPage): ArrayBuffer[] {
  switch (message.type) {
    case 'edit/result':
      return [message.images, message.input, message.keep].flatMap((b) => (b ? [b.pixels.buffer as ArrayBuffer] : []));
    case 'edit/converted':
      return [message.pixels.buffer as ArrayBuffer];
    default:
      return [];
  }
}
