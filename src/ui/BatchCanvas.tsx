import { useEffect, useRef } from 'react';
import type { FrameState } from '../state/frames';
import type { ImageBatch } from '../protocol/messages';
import { useEngine } from './context';
import { drawBatch, drawChannel, drawImage } from './draw';

/** A grid (near-square up to maxCols, or one row of `cols`), one image, or one channel of one image. */
export type BatchView = { kind: 'grid'; maxCols?: number } | { kind: 'row'; cols: number } | { kind: 'image'; index: number } | { kind: 'channel'; index: number; channel: number };

interface BatchCanvasProps {
  /** Picks the batch to show from the frame store. */
  select: (f: FrameState) => ImageBatch | null;
  view: BatchView;
  label: string;
  className?: string;
}

function draw(canvas: HTMLCanvasElement, batch: ImageBatch, view: BatchView): void {
  if (view.kind === 'grid') drawBatch(canvas, batch, view.maxCols);
  else if (view.kind === 'row') drawBatch(canvas, batch, view.cols, view.cols);
  else if (view.kind === 'image') drawImage(canvas, batch, view.index);
  else drawChannel(canvas, batch, view.index, view.channel);
}

/**
 * A canvas that draws one batch of the frame store (a grid, one image, or one channel of one
 * image), redrawing at most once per animation frame when that batch changes, off the React path.
 */
export function BatchCanvas({ select, view, label, className = 'digits digits--main' }: BatchCanvasProps) {
  const client = useEngine();
  const canvas = useRef<HTMLCanvasElement>(null);
  const { kind } = view;
  const index = view.kind === 'grid' ? (view.maxCols ?? 8) : view.kind === 'row' ? view.cols : view.index;
  const channel = view.kind === 'channel' ? view.channel : 0;

  useEffect(() => {
    const v: BatchView =
      kind === 'grid' ? { kind, maxCols: index } : kind === 'row' ? { kind, cols: index } : kind === 'image' ? { kind, index } : { kind, index, channel };
    let raf = 0;
    const paint = () => {
      raf = 0;
      const batch = select(client.frames.getState());
      if (batch && canvas.current) draw(canvas.current, batch, v);
    };
    paint();
    const unsubscribe = client.frames.subscribe((s, prev) => {
      if (select(s) !== select(prev) && raf === 0) raf = requestAnimationFrame(paint);
    });
    return () => {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [client, select, kind, index, channel]);

  return <canvas ref={canvas} className={className} role="img" aria-label={label} width={1} height={1} />;
}
