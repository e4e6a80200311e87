import { useEffect, useRef } from 'react';
import { useEngine, useFrames } from './context';
import { drawBatch } from './draw';
import { Panel } from './fields';

/**
 * The image grids: x_t and the predicted x0 while sampling, the latest training preview while
 * training. Frames arrive through the frame store's subscribe and are drawn with putImageData at
 * most once per animation frame; React re-renders only when the mode or caption changes.
 */
export function SampleCanvas() {
  const client = useEngine();
  const mode = useFrames((s) => s.mode);
  const previewStep = useFrames((s) => s.previewStep);
  const main = useRef<HTMLCanvasElement>(null);
  const x0 = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let raf = 0;
    let drawnSeq = -1;
    const draw = () => {
      raf = 0;
      const f = client.frames.getState();
      if (f.seq === drawnSeq) return;
      drawnSeq = f.seq;
      if (f.main && main.current) drawBatch(main.current, f.main);
      if (f.x0 && x0.current) drawBatch(x0.current, f.x0);
    };
    draw();
    const unsubscribe = client.frames.subscribe((s, prev) => {
      if ((s.main !== prev.main || s.x0 !== prev.x0) && raf === 0) raf = requestAnimationFrame(draw);
    });
    return () => {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [client]);

  const mainLabel = mode === 'sample' ? 'x_t (current noisy images)' : mode === 'preview' ? `Training preview at step ${previewStep ?? '?'}` : 'Samples';
  return (
    <Panel title="Samples" className="panel--canvas">
      {mode === 'empty' ? <p className="muted">Train the model or press Sample to see images here.</p> : null}
      <div className="canvases" hidden={mode === 'empty'}>
        <figure>
          <canvas ref={main} className="digits digits--main" role="img" aria-label={mainLabel} width={1} height={1} />
          <figcaption>{mainLabel}</figcaption>
        </figure>
        <figure hidden={mode !== 'sample'}>
          <canvas ref={x0} className="digits digits--main" role="img" aria-label="Predicted x0" width={1} height={1} />
          <figcaption>Predicted x₀</figcaption>
        </figure>
      </div>
    </Panel>
  );
}
