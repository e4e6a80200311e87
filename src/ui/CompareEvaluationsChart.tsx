/**
 * Quality against model evaluations: one line per method (DDIM and DPM-Solver++ at fixed steps, the
 * adaptive solver by tolerance, early stopping by threshold, the distilled student), x = model
 * evaluations per sampling run (log scale), y = FD / the real-digit floor at the same N (1: as far
 * from the training digits as held-out real digits are). The N is in the title: at small N the
 * floor is far too, and differences of a few tenths are noise.
 */
import { CartesianGrid, Legend, ReferenceLine, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { evaluationSeries, type EvaluationFamily } from '../protocol/compare-evaluations';
import type { CompareRow } from '../eval/compare-report';
import { useWidth } from './use-width';

const COLORS: Record<EvaluationFamily, string> = { ddim: '#38bdf8', dpmpp: '#a3e635', adaptive: '#f472b6', 'early-stop': '#fbbf24', student: '#c084fc' };
const SHAPES: Record<EvaluationFamily, 'circle' | 'square' | 'diamond' | 'triangle' | 'star'> = { ddim: 'circle', dpmpp: 'square', adaptive: 'diamond', 'early-stop': 'triangle', student: 'star' };
const HEIGHT = 320;
const TICKS = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500];

export function CompareEvaluationsChart({ rows, caption, partial }: { rows: CompareRow[]; caption: string; partial: boolean }) {
  const { ref, width } = useWidth();
  const series = evaluationSeries(rows);
  const n = rows.find((r) => r.quality)?.quality?.n;
  const xs = series.flatMap((s) => s.points.map((p) => p.evaluations));
  const [lo, hi] = [Math.min(...xs) / 1.25, Math.max(...xs) * 1.25];
  return (
    <div className="compare-chart" ref={ref}>
      <h4>
        FD / floor against model evaluations{n != null ? `, N = ${n} per point` : ''}
        {partial ? ' (partial: the run was stopped)' : ''}
      </h4>
      {series.length === 0 ? (
        <p className="compare-note">No configuration has been scored yet.</p>
      ) : width > 0 ? (
        <div role="img" aria-label={`FD over floor against model evaluations: ${caption}`}>
          <ScatterChart width={width} height={HEIGHT} margin={{ top: 4, right: 40, bottom: 22, left: 4 }}>
            <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
            <XAxis
              dataKey="evaluations"
              type="number"
              scale="log"
              domain={[lo, hi]}
              ticks={TICKS.filter((t) => t >= lo && t <= hi)}
              name="model evaluations"
              stroke="#cbd5e1"
              tick={{ fontSize: 12 }}
              tickFormatter={(v: number) => String(Number(v.toPrecision(2)))}
              label={{ value: 'model evaluations per sampling run (log)', position: 'insideBottom', offset: -10, fill: '#cbd5e1', fontSize: 12 }}
              allowDataOverflow
            />
            <YAxis dataKey="ratio" type="number" domain={[0, 'auto']} name="FD / floor" stroke="#cbd5e1" tick={{ fontSize: 12 }} width={44} tickFormatter={(v: number) => v.toFixed(1)} />
            <ReferenceLine y={1} stroke="#94a3b8" strokeDasharray="2 4" label={{ value: 'floor', position: 'right', fill: '#94a3b8', fontSize: 11 }} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : String(v))} />
            {/* The methods in the order of the form (recharts sorts by name otherwise). */}
            <Legend verticalAlign="top" height={30} itemSorter={(item) => series.findIndex((s) => s.label === item.value)} />
            {series.map((s) => (
              <Scatter key={s.family} name={s.label} data={s.points} fill={COLORS[s.family]} line={{ stroke: COLORS[s.family] }} shape={SHAPES[s.family]} isAnimationActive={false} />
            ))}
          </ScatterChart>
        </div>
      ) : null}
    </div>
  );
}
