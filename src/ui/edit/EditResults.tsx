/**
 * The last edit's results: the images (a strip for interpolation), beside the input as the model
 * holds it (an LDM's reconstruction) and, for inpainting, the mask on the model's grid, with what
 * the latent grid's coarseness does to the mask's edge said plainly.
 */
import { useEffect, useMemo, useRef } from 'react';
import type { ImageBatch } from '../../protocol/messages';
import { drawBatch } from '../draw';
import { useEdit } from './use-edit';

function Batch({ batch, label, caption, cols }: { batch: ImageBatch; label: string; caption: string; cols?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) drawBatch(canvas.current, batch, 8, cols);
  }, [batch, cols]);
  return (
    <figure className="edit-fig">
      <canvas ref={canvas} className="digits edit-fig__canvas" role="img" aria-label={label} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}

export function EditResults() {
  const result = useEdit((s) => s.result);
  // The mask holds 1 (kept) and 0 (regenerated): drawn white and black.
  const keep = useMemo(() => (result?.keep ? { ...result.keep, pixels: result.keep.pixels.map((v) => 2 * v - 1) } : null), [result]);
  if (!result) return <p className="field-hint">No edit yet: draw or pick a digit, choose a mode, then Run edit.</p>;
  const strip = result.mode === 'interpolate';
  return (
    <div className="edit-results" aria-label="Edit results">
      <p className="field-hint run-line" aria-label="Last edit">
        {result.caption}
        {result.t0 !== null && result.t0 >= 0 ? ` · t0 = ${result.t0 + 1}, ᾱ = ${result.alphaBar?.toFixed(3)}` : ''} · {result.steps} steps
      </p>
      <div className="edit-results__row">
        <Batch batch={result.input} label={result.latent ? 'Input as the LDM holds it (decoded)' : 'Input'} caption={result.latent ? 'Input through the autoencoder' : 'Input'} />
        {keep ? <Batch batch={keep} label="Mask on the model's grid" caption={result.latent ? 'Mask on the 7×7 latent grid (white: kept)' : 'Mask (white: kept)'} /> : null}
        <Batch
          batch={result.images}
          label={`Edit results: ${result.images.n} images`}
          caption={strip ? `Interpolation, ${result.images.n} frames` : `${result.images.n} seeds`}
          cols={strip ? result.images.n : undefined}
        />
      </div>
      {keep && result.latent ? (
        <p className="field-hint edit-note">
          The LDM inpaints on its 7×7 latent grid: each latent cell covers 4×4 pixels, and a cell is kept only when all its pixels are,
          so the regenerated part grows to whole cells and its edge is blocky. The kept part also passes through the autoencoder, so it
          changes by about its reconstruction error.
        </p>
      ) : null}
    </div>
  );
}
