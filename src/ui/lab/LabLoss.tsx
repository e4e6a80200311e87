import { useEffect, useRef } from 'react';
import { bandRange } from '../../state/loss-bands';
import { useEngine } from '../context';
import { frameDrawer } from './lab-draw';
import { useLab } from './use-lab';

const W = 320;
const H = 120;
const LEFT = 34;
const BOTTOM = 16;
const Y_MIN = 0.01;
const Y_MAX = 10;
const POINTS = 200;

const ly = (v: number) => {
  const f = (Math.log10(Math.min(Y_MAX, Math.max(Y_MIN, v))) - Math.log10(Y_MIN)) / (Math.log10(Y_MAX) - Math.log10(Y_MIN));
  return 4 + (1 - f) * (H - BOTTOM - 4);
};

/**
 * The lab's loss (raw and EMA, log scale) and its loss by timestep: plain SVG whose paths are set
 * on the next animation frame after each progress message (no React render per message).
 */
export function LabLoss() {
  const lab = useEngine().lab;
  const version = useLab((s) => s.train.lossVersion);
  const total = useLab((s) => Math.max(1, s.train.totalSteps || s.settings.trainSteps));
  const raw = useRef<SVGPathElement>(null);
  const ema = useRef<SVGPathElement>(null);
  const bars = useRef<SVGGElement>(null);
  const last = useRef<HTMLElement>(null);

  useEffect(() => {
    const drawer = frameDrawer();
    drawer.request(() => {
      const pts = lab.loss.downsample(POINTS);
      const x = (s: number) => LEFT + (Math.min(s, total) / total) * (W - LEFT - 4);
      const d = (key: 'loss' | 'ema') => pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.step).toFixed(1)},${ly(p[key]).toFixed(1)}`).join('');
      raw.current?.setAttribute('d', d('loss'));
      ema.current?.setAttribute('d', d('ema'));
      const means = lab.lossBands.means();
      const top = Math.max(1e-6, ...means.map((m) => m ?? 0));
      const slot = (W - LEFT - 4) / means.length;
      const g = bars.current;
      if (g) {
        g.replaceChildren(
          ...means.map((m, b) => {
            const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
            const h = m === null ? 0 : (m / top) * 50;
            rect.setAttribute('x', String(LEFT + b * slot + 2));
            rect.setAttribute('width', String(slot - 4));
            rect.setAttribute('y', String(60 - h));
            rect.setAttribute('height', String(h));
            rect.setAttribute('class', 'loss-bands-bar');
            const [lo, hi] = bandRange(b, lab.lossBands.T || 1000, means.length);
            const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
            title.textContent = m === null ? `t ${lo}–${hi}: no examples yet` : `t ${lo}–${hi}: mean loss ${m.toFixed(3)}`;
            rect.append(title);
            return rect;
          }),
        );
      }
      const p = pts.at(-1);
      if (last.current) last.current.textContent = p ? `EMA loss ${p.ema.toFixed(4)} at step ${p.step}` : 'no training steps yet';
    });
    return () => drawer.cancel();
  }, [lab, version, total]);

  return (
    <div className="lab-loss">
      <figure className="chart" aria-label="Lab loss chart">
        <svg viewBox={`0 0 ${W} ${H}`} className="lab-loss-svg">
          {[0.01, 0.1, 1].map((v) => (
            <g key={v} aria-hidden="true">
              <line x1={LEFT} x2={W - 4} y1={ly(v)} y2={ly(v)} className="loss-bands-grid" />
              <text x={LEFT - 4} y={ly(v) + 4} textAnchor="end" className="loss-bands-tick">
                {v}
              </text>
            </g>
          ))}
          <path ref={raw} className="line line--raw" d="" />
          <path ref={ema} className="line line--ema" d="" />
          <text x={LEFT} y={H - 3} className="loss-bands-tick" aria-hidden="true">
            0
          </text>
          <text x={W - 4} y={H - 3} textAnchor="end" className="loss-bands-tick" aria-hidden="true">
            {total} steps
          </text>
        </svg>
        <figcaption>
          <span className="legend legend--raw">raw</span> <span className="legend legend--ema">EMA</span> · log scale · <span ref={last} aria-label="Lab last loss" />
        </figcaption>
      </figure>
      <figure className="chart" aria-label="Lab loss by timestep">
        <svg viewBox={`0 0 ${W} 74`} className="lab-loss-svg">
          <g ref={bars} />
          <text x={LEFT} y={72} className="loss-bands-tick" aria-hidden="true">
            t: clean
          </text>
          <text x={W - 4} y={72} textAnchor="end" className="loss-bands-tick" aria-hidden="true">
            pure noise
          </text>
        </svg>
        <figcaption>Loss by timestep: mean loss of recent examples in each tenth of t.</figcaption>
      </figure>
    </div>
  );
}
