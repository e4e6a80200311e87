/**
 * β_t, ᾱ_t and log-SNR(t) of the schedule chosen in the Schedule panel (solid), with the other
 * schedule kinds under the same T and β range overlaid (dashed, faded) for comparison. Recomputed
 * from the float64 tables whenever a setting changes; ≤ MAX_SCHEDULE_POINTS points per series.
 * Recharts draws the axes and grid; the series are plain SVG paths on top.
 */
import { memo, useMemo } from 'react';
import { CartesianGrid, LineChart, XAxis, YAxis } from 'recharts';
import { SCHEDULE_KINDS, type ScheduleConfig, type ScheduleKind } from '../diffusion/config';
import { axisFor, formatScheduleValue, schedulePlot, seriesPath, type Axis, type ScheduleQuantity, type ScheduleRow } from './schedule-plot';
import { useWidth } from './use-width';

export const KIND_COLORS: Record<ScheduleKind, string> = {
  linear: '#38bdf8',
  cosine: '#f472b6',
  sigmoid: '#a3e635',
  quadratic: '#fbbf24',
};

const QUANTITY_INFO: Record<ScheduleQuantity, { name: string; label: string }> = {
  beta: { name: 'β_t chart', label: 'β_t (noise added at step t, log scale)' },
  alphaBar: { name: 'ᾱ_t chart', label: 'ᾱ_t (signal fraction left at t)' },
  logSnr: { name: 'log-SNR chart', label: 'log-SNR(t)' },
};

const HEIGHT = 132;
const MARGIN = { top: 6, right: 18, bottom: 0, left: 0 };
const Y_AXIS_WIDTH = 46;
const X_AXIS_HEIGHT = 20;
const TICK = { fontSize: 11 };

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 0.01 ? v.toExponential(0) : a >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(2)));
}

/**
 * Axes and grid, drawn by recharts; every tick is given, so recharts measures no text. The series
 * are SVG paths drawn over it (below): twelve recharts <Line>s of 200 points cost the page's first
 * render about as much as everything else in it (the Loss chart does the same, for the same reason).
 */
const Axes = memo(function Axes({ width, T, axis }: { width: number; T: number; axis: Axis }) {
  return (
    <LineChart width={width} height={HEIGHT} data={[]} margin={MARGIN}>
      <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
      <XAxis dataKey="t" type="number" domain={[1, T]} ticks={[1, Math.round(T / 2), T]} interval={0} stroke="#cbd5e1" tick={TICK} height={X_AXIS_HEIGHT} allowDataOverflow />
      <YAxis
        type="number"
        scale={axis.log ? 'log' : 'linear'}
        domain={axis.domain}
        ticks={axis.ticks}
        interval={0}
        allowDataOverflow
        width={Y_AXIS_WIDTH}
        stroke="#cbd5e1"
        tick={TICK}
        tickFormatter={formatTick}
      />
    </LineChart>
  );
});

interface QuantityChartProps {
  quantity: ScheduleQuantity;
  rows: ScheduleRow[];
  chosen: ScheduleKind;
  kinds: ScheduleKind[];
  T: number;
}

/** One quantity for every kind; the chosen kind is drawn last (on top), solid and thick, the others dashed. */
const QuantityChart = memo(function QuantityChart({ quantity, rows, chosen, kinds, T }: QuantityChartProps) {
  const { ref, width } = useWidth();
  const info = QUANTITY_INFO[quantity];
  const axis = useMemo(() => axisFor(quantity, rows), [quantity, rows]);
  const order = [...kinds.filter((k) => k !== chosen), chosen];
  const box = { left: MARGIN.left + Y_AXIS_WIDTH, top: MARGIN.top, width: width - MARGIN.left - Y_AXIS_WIDTH - MARGIN.right, height: HEIGHT - MARGIN.top - MARGIN.bottom - X_AXIS_HEIGHT };
  return (
    <figure className="schedule-chart" aria-label={info.name} data-quantity={quantity}>
      <figcaption>{info.label}</figcaption>
      <div ref={ref} className="chart-box" style={{ height: HEIGHT }}>
        {width > 0 ? (
          <>
            <Axes width={width} T={T} axis={axis} />
            <svg className="chart-lines" width={width} height={HEIGHT} aria-hidden="true">
              {order.map((kind) => (
                <path
                  key={kind}
                  className={`schedule-line schedule-line--${kind}${kind === chosen ? ' schedule-line--chosen' : ''}`}
                  d={seriesPath(rows, kind, T, axis, box)}
                  stroke={KIND_COLORS[kind]}
                  strokeWidth={kind === chosen ? 2.5 : 1.5}
                  strokeOpacity={kind === chosen ? 1 : 0.6}
                  strokeDasharray={kind === chosen ? undefined : '5 4'}
                />
              ))}
            </svg>
          </>
        ) : null}
      </div>
    </figure>
  );
});

/** The three charts, their shared legend, and a few values of the chosen schedule. */
export function ScheduleCharts({ config }: { config: ScheduleConfig }) {
  const { kind, T, betaStart, betaEnd, rescaleZeroTerminalSnr } = config;
  const plot = useMemo(() => schedulePlot({ kind, T, betaStart, betaEnd, rescaleZeroTerminalSnr }), [kind, T, betaStart, betaEnd, rescaleZeroTerminalSnr]);
  const current = plot.schedules[kind];
  const kinds = SCHEDULE_KINDS.filter((k) => plot.schedules[k] !== null);
  if (!current) return <p className="field-hint schedule-invalid">Fix the settings above to see the schedule plotted.</p>;
  const last = current.T - 1;
  const readouts: [string, string, number][] = [
    ['β₁', 'β_1', current.betas[0]],
    ['β_T', 'β_T', current.betas[last]],
    ['ᾱ_T', 'ᾱ_T', current.alphasCumprod[last]],
    ['log-SNR(1)', 'log-SNR at t = 1', current.logSnr[0]],
    ['log-SNR(T)', 'log-SNR at t = T', current.logSnr[last]],
  ];
  return (
    <div className="schedule-plots">
      <ul className="schedule-legend" aria-label="Schedule legend">
        {kinds.map((k) => (
          <li key={k} className={k === kind ? 'chosen' : undefined} style={{ color: KIND_COLORS[k] }}>
            <span className={`legend-swatch${k === kind ? '' : ' legend-swatch--dashed'}`} aria-hidden="true" />
            <span className="legend-name">{k === kind ? `${k} (chosen)` : k}</span>
          </li>
        ))}
      </ul>
      {(['beta', 'alphaBar', 'logSnr'] as const).map((q) => (
        <QuantityChart key={q} quantity={q} rows={plot.rows[q]} chosen={kind} kinds={kinds} T={T} />
      ))}
      <dl className="run-facts schedule-facts math-facts">
        {readouts.map(([label, name, v]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd aria-label={name}>{formatScheduleValue(v)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
