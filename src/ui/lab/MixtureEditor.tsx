import { useEffect, useId, useMemo, useRef, useState, type PointerEvent } from 'react';
import { mixtureDensity2D } from '../../diffusion/gaussian-mixture-2d';
import type { LabComponent, LabGrid } from '../../protocol/lab-messages';
import { extentOf, gridOf } from '../../state/lab/lab-settings';
import { useEngine } from '../context';
import { drawAxes, drawHeat, fromPx, frameDrawer, prepare, toX, toY } from './lab-draw';
import { useSetting } from './use-lab';

const EXTENT = extentOf(null);
const GRID: LabGrid = gridOf(EXTENT, 64);
const GRID_POINTS = (() => {
  const out = new Float64Array(GRID.nx * GRID.ny * 2);
  for (let j = 0; j < GRID.ny; j++)
    for (let i = 0; i < GRID.nx; i++) {
      out[(j * GRID.nx + i) * 2] = GRID.xMin + (i * (GRID.xMax - GRID.xMin)) / (GRID.nx - 1);
      out[(j * GRID.nx + i) * 2 + 1] = GRID.yMin + (j * (GRID.yMax - GRID.yMin)) / (GRID.ny - 1);
    }
  return out;
})();
/** The edit is sent to the worker (a new data set, fresh weights) this long after the last change. */
const COMMIT_MS = 300;
const MAX_COMPONENTS = 12;

/**
 * The editable Gaussian mixture: its exact density (computed here, float64, while dragging), a
 * handle on each mean to drag, and the selected component's spread and weight.
 */
export function MixtureEditor() {
  const lab = useEngine().lab;
  const committed = useSetting('components');
  const [draft, setDraft] = useState<LabComponent[]>(committed);
  const [seen, setSeen] = useState(committed);
  const [selected, setSelected] = useState(0);
  const canvas = useRef<HTMLCanvasElement>(null);
  const drag = useRef<number | null>(null);
  const spreadId = useId();
  const weightId = useId();
  if (seen !== committed) {
    // Changed from outside (a preset, a link): show it.
    setSeen(committed);
    setDraft(committed);
  }
  const sel = Math.min(selected, draft.length - 1);
  const density = useMemo(() => mixtureDensity2D(draft, GRID_POINTS), [draft]);

  useEffect(() => {
    const drawer = frameDrawer();
    drawer.request(() => {
      const v = canvas.current && prepare(canvas.current, EXTENT);
      if (!v) return;
      drawHeat(v, density, GRID);
      drawAxes(v);
      draft.forEach((c, k) => {
        v.ctx.strokeStyle = k === sel ? '#fbbf24' : '#e8eef8';
        v.ctx.lineWidth = k === sel ? 2 : 1;
        v.ctx.beginPath();
        v.ctx.arc(toX(v, c.mean[0]), toY(v, c.mean[1]), (2 * c.std * v.size) / (2 * EXTENT), 0, 2 * Math.PI);
        v.ctx.stroke();
        v.ctx.fillStyle = k === sel ? '#fbbf24' : '#e8eef8';
        v.ctx.fillRect(toX(v, c.mean[0]) - 4, toY(v, c.mean[1]) - 4, 8, 8);
      });
    });
    return () => drawer.cancel();
  }, [density, draft, sel]);

  // Commit a settled edit.
  useEffect(() => {
    if (draft === committed) return;
    const timer = setTimeout(() => lab.update({ components: draft }), COMMIT_MS);
    return () => clearTimeout(timer);
  }, [lab, draft, committed]);

  const where = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return fromPx(r.width, EXTENT, e.clientX - r.left, e.clientY - r.top);
  };
  const change = (k: number, patch: Partial<LabComponent>) => setDraft((d) => d.map((c, i) => (i === k ? { ...c, ...patch } : c)));
  const c = draft[sel];
  return (
    <div className="lab-mixture">
      <canvas
        ref={canvas}
        className="lab-canvas lab-canvas--edit"
        role="img"
        aria-label="Mixture editor: drag a component's mean; circles show two standard deviations"
        width={1}
        height={1}
        onPointerDown={(e) => {
          const [x, y] = where(e);
          let best = -1;
          let bestD = 0.4;
          draft.forEach((m, k) => {
            const d = Math.hypot(m.mean[0] - x, m.mean[1] - y);
            if (d < bestD) [best, bestD] = [k, d];
          });
          if (best < 0) return;
          e.currentTarget.setPointerCapture?.(e.pointerId);
          drag.current = best;
          setSelected(best);
        }}
        onPointerMove={(e) => {
          if (drag.current === null) return;
          const [x, y] = where(e);
          const lim = EXTENT - 0.5;
          change(drag.current, { mean: [Math.max(-lim, Math.min(lim, x)), Math.max(-lim, Math.min(lim, y))] });
        }}
        onPointerUp={() => (drag.current = null)}
        onPointerCancel={() => (drag.current = null)}
      />
      <div className="lab-mixture-controls">
        <div className="field">
          <label htmlFor={`${spreadId}-k`}>Component</label>
          <select id={`${spreadId}-k`} value={sel} onChange={(e) => setSelected(Number(e.target.value))}>
            {draft.map((m, k) => (
              <option key={k} value={k}>
                {k + 1}: ({m.mean[0].toFixed(1)}, {m.mean[1].toFixed(1)})
              </option>
            ))}
          </select>
        </div>
        <div className="field field--range">
          <label htmlFor={spreadId}>Spread (std) of component {sel + 1}</label>
          <div className="range-row">
            <input id={spreadId} type="range" min={0.05} max={1.5} step={0.05} value={c.std} onChange={(e) => change(sel, { std: Number(e.target.value) })} />
            <output htmlFor={spreadId}>{c.std.toFixed(2)}</output>
          </div>
        </div>
        <div className="field field--range">
          <label htmlFor={weightId}>Weight of component {sel + 1}</label>
          <div className="range-row">
            <input id={weightId} type="range" min={0.1} max={5} step={0.1} value={c.weight} onChange={(e) => change(sel, { weight: Number(e.target.value) })} />
            <output htmlFor={weightId}>{c.weight.toFixed(1)}</output>
          </div>
        </div>
        <div className="buttons">
          <button
            type="button"
            disabled={draft.length >= MAX_COMPONENTS}
            onClick={() => {
              setDraft((d) => [...d, { mean: [0, 0], std: 0.3, weight: 1 }]);
              setSelected(draft.length);
            }}
          >
            Add component
          </button>
          <button type="button" disabled={draft.length <= 1} onClick={() => setDraft((d) => d.filter((_, i) => i !== sel))}>
            Remove component {sel + 1}
          </button>
        </div>
      </div>
    </div>
  );
}
