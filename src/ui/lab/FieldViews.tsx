import { useEffect, useId, useRef, useState } from 'react';
import type { LabFieldKind } from '../../protocol/lab-messages';
import { LAB_DATASET_LABELS } from '../../state/lab/lab-settings';
import { useEngine } from '../context';
import { Panel } from '../fields';
import { drawArrows, drawDataLayer, drawHeat, fieldScale, frameDrawer, prepare } from './lab-draw';
import { useLab, useSetting } from './use-lab';

/** The learned field is asked for again at most this often while the model trains. */
const TRAINING_REFRESH_MS = 1500;
const PLAY_MS = 5000;

const KIND_LABEL: Record<LabFieldKind, string> = { eps: 'predicted noise ε̂', score: 'score ∇log q(x_t)', velocity: 'velocity v(x_t, t)' };

/** x − y for two fields (the network's error where the exact field exists). */
function difference(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * The forward process as the density of q(x_t) under a t slider, with the data beneath, and the
 * field at that t as arrows: learned, exact (mixtures) and their difference, on one arrow scale.
 */
export function FieldViews() {
  const lab = useEngine().lab;
  const tView = useSetting('tView');
  const objective = useSetting('objective');
  const T = useSetting('T');
  const kind = useSetting('field');
  const dataKind = useSetting('data');
  const data = useLab((s) => s.data);
  const density = useLab((s) => s.density);
  const field = useLab((s) => s.field);
  const model = useLab((s) => s.model);
  const step = useLab((s) => s.train.step);
  const trainState = useLab((s) => s.train.state);
  const [playing, setPlaying] = useState(false);
  const sliderId = useId();
  const kindId = useId();
  const heat = useRef<HTMLCanvasElement>(null);
  const learned = useRef<HTMLCanvasElement>(null);
  const exact = useRef<HTMLCanvasElement>(null);
  const diff = useRef<HTMLCanvasElement>(null);
  const lastFieldAt = useRef(0);

  const tWorker = objective === 'flow' ? tView : Math.round(tView * (T - 1));
  const tText = objective === 'flow' ? `t = ${tView.toFixed(2)}` : `t = ${tWorker + 1} of ${T}`;

  // The density and the field follow t, the data and the model.
  useEffect(() => {
    if (data) lab.requestDensity();
  }, [lab, data, tView, objective]);
  useEffect(() => {
    if (!data || !model) return;
    const wait = trainState === 'running' ? TRAINING_REFRESH_MS - (performance.now() - lastFieldAt.current) : 0;
    const timer = setTimeout(() => {
      lastFieldAt.current = performance.now();
      lab.requestField();
    }, Math.max(0, wait));
    return () => clearTimeout(timer);
  }, [lab, data, model, tView, kind, objective, step, trainState]);

  // Play: sweep t from data to noise.
  useEffect(() => {
    if (!playing) return;
    let raf = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const next = Math.min(1, lab.settings.tView + (now - last) / PLAY_MS);
      last = now;
      lab.update({ tView: Number(next.toFixed(3)) });
      if (next >= 1) return setPlaying(false);
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [lab, playing]);

  // Each canvas is redrawn only when what it shows changed (canvas uploads are a frame's main cost).
  useEffect(() => {
    const drawer = frameDrawer();
    drawer.request(() => {
      const v = heat.current && prepare(heat.current, data?.extent ?? 3.5);
      if (!v) return;
      if (density) drawHeat(v, density.density, density.grid);
      drawDataLayer(v, data?.points ?? null, 'rgba(255,255,255,0.5)', 1.2);
    });
    return () => drawer.cancel();
  }, [data, density]);
  useEffect(() => {
    const drawer = frameDrawer();
    drawer.request(() => {
      const extent = data?.extent ?? 3.5;
      const scale = field ? fieldScale(field.learned, field.exact) : 1;
      const panes: [HTMLCanvasElement | null, Float32Array | null, string][] = [
        [learned.current, field?.learned ?? null, '#38bdf8'],
        [exact.current, field?.exact ?? null, '#a3e635'],
        [diff.current, field?.learned && field.exact ? difference(field.learned, field.exact) : null, '#f87171'],
      ];
      for (const [canvas, f, color] of panes) {
        const w = canvas && prepare(canvas, extent);
        if (!w) continue;
        drawDataLayer(w, data?.points ?? null, 'rgba(148,163,184,0.3)', 1.2);
        if (f && field) drawArrows(w, f, field.grid, scale, color);
      }
    });
    return () => drawer.cancel();
  }, [data, field]);

  const fieldKind: LabFieldKind = objective === 'flow' ? 'velocity' : kind === 'velocity' ? 'score' : kind;
  const hasExact = data?.exact ?? false;
  return (
    <Panel title="Density and field" className="lab-panel lab-fields">
      <div className="lab-row">
        <div className="field field--range lab-t">
          <label htmlFor={sliderId}>Noise level t</label>
          <div className="range-row">
            <input id={sliderId} type="range" min={0} max={1} step={0.005} value={tView} aria-valuetext={tText} onChange={(e) => lab.update({ tView: Number(e.target.value) })} />
            <output htmlFor={sliderId} aria-label="Noise level value">
              {tText}
            </output>
            <button type="button" onClick={() => (playing ? setPlaying(false) : (tView >= 1 && lab.update({ tView: 0 }), setPlaying(true)))}>
              {playing ? 'Pause' : 'Play t'}
            </button>
          </div>
        </div>
        {objective === 'diffusion' ? (
          <div className="field">
            <label htmlFor={kindId}>Field shown</label>
            <select id={kindId} value={fieldKind} onChange={(e) => lab.update({ field: e.target.value as LabFieldKind })}>
              <option value="score">Score ∇log q(x_t)</option>
              <option value="eps">Predicted noise ε̂</option>
            </select>
          </div>
        ) : null}
      </div>
      <div className="lab-views">
        <figure className="lab-view">
          <canvas ref={heat} className="lab-canvas" role="img" aria-label="Density of x_t" width={1} height={1} />
          <figcaption>q(x_t) at {density ? (objective === 'flow' ? `t = ${density.t.toFixed(2)}` : `t = ${density.t + 1}`) : tText}, data in white</figcaption>
        </figure>
        <figure className="lab-view">
          <canvas ref={learned} className="lab-canvas" role="img" aria-label="Learned field" width={1} height={1} />
          <figcaption>Learned {KIND_LABEL[fieldKind]}{model ? ` (model at step ${model.step === 0 ? step : Math.max(step, model.step)})` : ''}</figcaption>
        </figure>
        <figure className="lab-view">
          <canvas ref={exact} className="lab-canvas" role="img" aria-label="Exact field" width={1} height={1} />
          <figcaption>{hasExact ? `Exact ${KIND_LABEL[fieldKind]}` : `Exact field: not available for ${LAB_DATASET_LABELS[dataKind].toLowerCase()}`}</figcaption>
        </figure>
        <figure className="lab-view">
          <canvas ref={diff} className="lab-canvas" role="img" aria-label="Learned minus exact field" width={1} height={1} />
          <figcaption>{hasExact ? 'Learned − exact: where the network is wrong' : 'Difference: needs the exact field'}</figcaption>
        </figure>
      </div>
      {data && !hasExact ? (
        <p className="field-hint" role="note">
          Only Gaussian mixtures (8 Gaussians, or your own mixture) have an exact score in closed form; {LAB_DATASET_LABELS[dataKind].toLowerCase()} does not, so only the learned field is drawn.
        </p>
      ) : null}
      <p className="field-hint">All three fields share one arrow scale; arrows longer than a grid cell are capped.</p>
    </Panel>
  );
}
