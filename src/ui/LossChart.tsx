import { memo, useEffect, useRef } from 'react';
import { CartesianGrid, LineChart, XAxis, YAxis } from 'recharts';
import type { LossPoint } from '../state/loss-history';
import { useApp, useEngine } from './context';
import { Panel } from './fields';
import { LossByTimestep } from './LossByTimestep';
import { useWidth } from './use-width';

/** At most this many points are drawn, whatever the number of steps. */
export const MAX_CHART_POINTS = 400;

const HEIGHT = 230;
const MARGIN = { top: 10, right: 18, bottom: 4, left: 4 };
const Y_AXIS_WIDTH = 52;
const X_AXIS_HEIGHT = 30;
/** A fixed log-scale loss axis: it covers every loss these models reach, so it never re-lays out mid-run. */
const Y_MIN = 0.005;
const Y_MAX = 5;
const Y_TICKS = [0.01, 0.1, 1];
const formatY = (v: number) => (v >= 1 ? v.toFixed(0) : String(v));

function niceTicks(hi: number, count = 5): number[] {
  const raw = Math.max(hi, 1) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  // Whole steps: a fractional one rounds to repeated ticks (0, 1, 1, 2, 2 for 2 steps), which recharts keys by value.
  const step = Math.max(1, [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw);
  const ticks: number[] = [];
  for (let v = 0; v <= hi + step * 1e-9; v += step) ticks.push(Math.round(v));
  return ticks;
}

/**
 * Axes and grid, drawn by recharts. Both domains are fixed while a run lasts (x: 0..total steps,
 * y: a log axis), so this re-renders only when the run's length or the panel's width changes.
 */
const Axes = memo(function Axes({ width, xMax }: { width: number; xMax: number }) {
  return (
    <LineChart width={width} height={HEIGHT} data={[]} margin={MARGIN}>
      <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
      <XAxis dataKey="step" type="number" domain={[0, xMax]} ticks={niceTicks(xMax)} interval={0} height={X_AXIS_HEIGHT} stroke="#cbd5e1" tick={{ fontSize: 13 }} allowDataOverflow />
      <YAxis type="number" scale="log" domain={[Y_MIN, Y_MAX]} ticks={Y_TICKS} interval={0} width={Y_AXIS_WIDTH} stroke="#cbd5e1" tick={{ fontSize: 13 }} tickFormatter={formatY} allowDataOverflow />
    </LineChart>
  );
});

/** SVG path data for one series, in the plot area of the axes above. */
function pathOf(points: LossPoint[], key: 'loss' | 'ema', width: number, xMax: number): string {
  const x0 = MARGIN.left + Y_AXIS_WIDTH;
  const plotW = width - x0 - MARGIN.right;
  const y0 = MARGIN.top;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom - X_AXIS_HEIGHT;
  const lmin = Math.log10(Y_MIN);
  const span = Math.log10(Y_MAX) - lmin;
  let d = '';
  for (let i = 0; i < points.length; i++) {
    const v = Math.min(Y_MAX, Math.max(Y_MIN, points[i][key]));
    const x = x0 + (Math.min(points[i].step, xMax) / xMax) * plotW;
    const y = y0 + (1 - (Math.log10(v) - lmin) / span) * plotH;
    d += `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
  }
  return d;
}

/**
 * Raw and EMA-smoothed training loss. The engine client bumps `lossVersion` a few times a second
 * at most; the history lives in typed arrays, is downsampled to ≤ MAX_CHART_POINTS and drawn by
 * setting two SVG paths' `d` directly (no React render per update): a full recharts update per
 * progress message cost the main thread long tasks on a slow laptop.
 */
export function LossChart() {
  const client = useEngine();
  const count = useApp((s) => s.train.lossPoints);
  const lossStage = useApp((s) => (s.setup.kind === 'latent' ? s.train.lossStage : null));
  const lastEma = useApp((s) => (s.train.lossPoints > 0 ? (client.loss.last()?.ema ?? null) : null));
  const xMax = useApp((s) => Math.max(1, s.train.state === 'idle' && s.train.step === 0 ? s.training.steps || 1 : Math.max(s.train.totalSteps, s.train.step)));
  const { ref: box, width } = useWidth();
  const figure = useRef<HTMLElement>(null);
  const raw = useRef<SVGPathElement>(null);
  const ema = useRef<SVGPathElement>(null);

  // Transient updates: redraw the two paths whenever the history changes.
  useEffect(() => {
    const draw = () => {
      const points = client.loss.downsample(MAX_CHART_POINTS);
      if (width > 0) {
        raw.current?.setAttribute('d', pathOf(points, 'loss', width, xMax));
        ema.current?.setAttribute('d', pathOf(points, 'ema', width, xMax));
      }
      figure.current?.setAttribute('data-points', String(points.length));
    };
    draw();
    return client.store.subscribe((s, prev) => {
      if (s.train.lossVersion !== prev.train.lossVersion) draw();
    });
  }, [client, width, xMax]);

  return (
    <Panel title="Loss" className="panel--loss">
      <figure ref={figure} className="chart" aria-label="Loss chart" data-points={0}>
        <div ref={box} className="chart-box" style={{ height: HEIGHT }}>
          {width > 0 ? (
            <>
              <Axes width={width} xMax={xMax} />
              <svg className="chart-lines" width={width} height={HEIGHT} aria-hidden="true">
                <path ref={raw} className="line line--raw" d="" />
                <path ref={ema} className="line line--ema" d="" />
              </svg>
            </>
          ) : null}
        </div>
        <figcaption>
          {lossStage ? (
            <strong className="loss-stage">{lossStage === 'autoencoder' ? 'Stage 1: autoencoder (reconstruction + KL)' : 'Stage 2: latent denoiser'} · </strong>
          ) : null}
          <span className="legend legend--raw">raw loss</span> <span className="legend legend--ema">EMA</span> · log scale
          {count > 0
            ? ` · ${count.toLocaleString()} steps${count > MAX_CHART_POINTS ? `, drawn as ${MAX_CHART_POINTS} points` : ''}${lastEma !== null ? ` · EMA ${lastEma.toFixed(4)}` : ''}`
            : ' · no training steps yet'}
        </figcaption>
      </figure>
      <LossByTimestep />
    </Panel>
  );
}
