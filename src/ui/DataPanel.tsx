import { useEffect, useRef } from 'react';
import { useApp, useEngine } from './context';
import { drawBatch } from './draw';
import { Panel } from './fields';

/** A grid of real digits from the data set and the split's counts. */
export function DataPanel() {
  const client = useEngine();
  const data = useApp((s) => s.data);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const draw = () => {
      const batch = client.frames.getState().data;
      if (batch && canvas.current) drawBatch(canvas.current, batch, 8);
    };
    draw();
    return client.frames.subscribe((s, prev) => {
      if (s.data !== prev.data) draw();
    });
  }, [client]);

  return (
    <Panel title="Data" className="panel--data">
      <canvas ref={canvas} className="digits digits--data" role="img" aria-label="Real MNIST digits" width={1} height={1} hidden={!data} />
      {data ? (
        <>
          <p className="facts">
            MNIST: <strong>{data.trainCount.toLocaleString()}</strong> training images,{' '}
            <strong>{data.heldOutCount.toLocaleString()}</strong> held out.
          </p>
          <p className="facts facts--small">Labels shown: {data.labels.join(' ')}</p>
        </>
      ) : (
        <p className="muted">Loading digits…</p>
      )}
    </Panel>
  );
}
