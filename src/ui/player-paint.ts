/** Drawing one recorded position of the denoising player: the grid of every image and the selected image's x_t, x̂0 and ε̂. */
import type { RecordedFrame } from '../state/denoising-record';
import { drawBatch, drawChannel, drawImage, gridShape } from './draw';

export interface PlayerCanvases {
  grid: HTMLCanvasElement | null;
  x: HTMLCanvasElement | null;
  x0: HTMLCanvasElement | null;
  /** Pixel models: ε̂ as an image. */
  eps: HTMLCanvasElement | null;
  /** Latent models: ε̂'s latent channels, one canvas each. */
  epsChannels: (HTMLCanvasElement | null)[];
}

/**
 * `images`: where the grid, x_t and x̂0 come from (by default the frame itself; for a latent
 * model's position not decoded yet, the nearest decoded one, or null to leave them as they are).
 */
export function paintPosition(frame: RecordedFrame, selected: number, c: PlayerCanvases, images: RecordedFrame | null = frame): void {
  const k = Math.min(selected, frame.x.n - 1);
  if (images) {
    if (c.grid) drawBatch(c.grid, images.x);
    if (c.x) drawImage(c.x, images.x, k);
    if (c.x0) drawImage(c.x0, images.x0, k);
  }
  if (c.eps && frame.eps) drawImage(c.eps, frame.eps, k);
  if (frame.latents) {
    const eps = frame.latents.eps;
    c.epsChannels.forEach((canvas, ch) => {
      if (canvas && ch < eps.c) drawChannel(canvas, eps, k, ch);
    });
  }
}

/** The image under a click on a grid of `n` images of h×w drawn by drawBatch (−1 for a gap or outside). */
export function imageAt(canvas: HTMLCanvasElement, clientX: number, clientY: number, n: number, h: number, w: number): number {
  const rect = canvas.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return -1;
  const { cols } = gridShape(n);
  const x = ((clientX - rect.left) / rect.width) * canvas.width;
  const y = ((clientY - rect.top) / rect.height) * canvas.height;
  const i = Math.floor(y / (h + 1)) * cols + Math.floor(x / (w + 1));
  return i >= 0 && i < n ? i : -1;
}
