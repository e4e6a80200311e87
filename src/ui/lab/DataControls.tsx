import { useEffect, useRef, type PointerEvent } from 'react';
import { LAB_DATASETS, type LabDatasetKind } from '../../protocol/lab-messages';
import { extentOf, LAB_DATASET_LABELS, LAB_LIMITS, MIN_DRAWN_POINTS } from '../../state/lab/lab-settings';
import { integerIn } from '../../state/validate';
import { useEngine } from '../context';
import { NumberField, Panel, SelectField } from '../fields';
import { drawAxes, drawPoints, fromPx, frameDrawer, prepare } from './lab-draw';
import { MixtureEditor } from './MixtureEditor';
import { useLab, useSetting } from './use-lab';

const OPTIONS = LAB_DATASETS.map((value) => ({ value, label: LAB_DATASET_LABELS[value] }));
const validateCount = integerIn(LAB_LIMITS.count[0], LAB_LIMITS.count[1], 'Training points');
const validateSeed = integerIn(0, 2 ** 31 - 1, 'Seed');

/** The data set: a toy set, the editable mixture, or points the user sprays. */
export function DataControls() {
  const lab = useEngine().lab;
  const data = useSetting('data');
  const count = useSetting('count');
  const seed = useSetting('dataSeed');
  const points = useLab((s) => s.data?.points.length ?? 0) / 2;
  const exact = useLab((s) => s.data?.exact ?? null);
  return (
    <Panel title="Lab data" className="lab-panel">
      <div className="grid2">
        <SelectField label="Data set" value={data} options={OPTIONS} wide onChange={(v: LabDatasetKind) => lab.update({ data: v })} />
        {data === 'drawn' ? null : (
          <>
            <NumberField label="Training points" value={count} step={1} min={LAB_LIMITS.count[0]} max={LAB_LIMITS.count[1]} validate={validateCount} onCommit={(v) => lab.update({ count: v })} />
            <NumberField label="Data seed" value={seed} step={1} min={0} validate={validateSeed} onCommit={(v) => lab.update({ dataSeed: v })} />
          </>
        )}
      </div>
      {data === 'mixture' ? <MixtureEditor /> : null}
      {data === 'drawn' ? <DrawCanvas /> : null}
      <p className="field-hint" aria-label="Data facts">
        {points > 0 ? `${points.toLocaleString()} training points` : 'No training points yet'}
        {exact === null ? '' : exact ? ' · a Gaussian mixture: the exact score is known' : ' · not a Gaussian mixture: no exact score'}
      </p>
    </Panel>
  );
}

const EXTENT = extentOf(null);
/** Points added per pointer event, and their spread (data units). */
const PER_SPRAY = 6;
const SPRAY_RADIUS = 0.15;
const MAX_POINTS = 5000;

/** Adds a spray of points around (x, y) to `pts`. */
function spray(pts: Float32Array, x: number, y: number): Float32Array {
  const add = Math.min(PER_SPRAY, MAX_POINTS - pts.length / 2);
  if (add <= 0) return pts;
  const out = new Float32Array(pts.length + add * 2);
  out.set(pts);
  for (let i = 0; i < add; i++) {
    const r = SPRAY_RADIUS * Math.sqrt(Math.random());
    const a = 2 * Math.PI * Math.random();
    out[pts.length + 2 * i] = x + r * Math.cos(a);
    out[pts.length + 2 * i + 1] = y + r * Math.sin(a);
  }
  return out;
}

/** "Draw your own": the pointer sprays points; "Use these points" makes them the data set. */
export function DrawCanvas() {
  const lab = useEngine().lab;
  const sketch = useLab((s) => s.sketch);
  const inUse = useLab((s) => s.drawn);
  const canvas = useRef<HTMLCanvasElement>(null);
  const down = useRef(false);
  const n = sketch.length / 2;

  useEffect(() => {
    const drawer = frameDrawer();
    drawer.request(() => {
      const v = canvas.current && prepare(canvas.current, EXTENT);
      if (!v) return;
      drawAxes(v);
      drawPoints(v, sketch, '#38bdf8', 3);
    });
    return () => drawer.cancel();
  }, [sketch]);

  const at = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const [x, y] = fromPx(r.width, EXTENT, e.clientX - r.left, e.clientY - r.top);
    lab.setSketch(spray(lab.store.getState().sketch, x, y));
  };
  const same = inUse !== null && inUse.length === sketch.length && inUse.every((v, i) => v === sketch[i]);
  return (
    <div className="lab-draw">
      <canvas
        ref={canvas}
        className="lab-canvas lab-canvas--edit"
        role="img"
        aria-label="Drawing canvas: press and move the pointer to spray points"
        width={1}
        height={1}
        onPointerDown={(e) => {
          if (e.button !== 0) return;
          e.currentTarget.setPointerCapture?.(e.pointerId);
          down.current = true;
          at(e);
        }}
        onPointerMove={(e) => down.current && at(e)}
        onPointerUp={() => (down.current = false)}
        onPointerCancel={() => (down.current = false)}
      />
      <div className="buttons">
        <button type="button" className="primary" disabled={same} onClick={() => lab.useSketch()}>
          Use these points
        </button>
        <button type="button" disabled={n === 0} onClick={() => lab.setSketch(new Float32Array(0))}>
          Clear points
        </button>
        <span aria-label="Drawn points" className="muted">
          {n} point{n === 1 ? '' : 's'}
          {n < MIN_DRAWN_POINTS ? ` (at least ${MIN_DRAWN_POINTS} to train)` : same ? ' · in use' : ''}
        </span>
      </div>
    </div>
  );
}