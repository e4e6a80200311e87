/**
 * Quality against time over step counts: one line per model and sampler (DDPM, DDIM,
 * DPM-Solver++), x = ms per image (log scale), y = FD / the real-digit floor at the same N (1 is as
 * good as real digits). The numbers sit in a table below it, for reading and for screen readers.
 */
import { CartesianGrid, Legend, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { SAMPLER_LABELS, type SamplerKind } from '../diffusion/config';
import type { CompareRow } from '../eval/compare-report';
import type { ModelKind } from '../models/setup/model-setup';
import { useWidth } from './use-width';

const MODEL_LABELS: Record<ModelKind, string> = { pixel: 'pixel', latent: 'LDM' };
const COLORS: Record<SamplerKind, string> = { ddpm: '#f97316', ddim: '#38bdf8', dpmpp: '#a3e635' };
const HEIGHT = 260;

interface Point {
  ms: number;
  ratio: number;
  steps: number;
}

/** The sweep's rows as series: model × sampler, points in step order. */
export function chartSeries(rows: CompareRow[]): { key: string; model: ModelKind; sampler: SamplerKind; points: Point[] }[] {
  const out = new Map<string, { key: string; model: ModelKind; sampler: SamplerKind; points: Point[] }>();
  for (const r of rows) {
    if (!r.quality) continue;
    const key = `${MODEL_LABELS[r.model]} ${SAMPLER_LABELS[r.sampler]}`;
    if (!out.has(key)) out.set(key, { key, model: r.model, sampler: r.sampler, points: [] });
    out.get(key)!.points.push({ ms: r.msPerImage, ratio: r.quality.fd / r.quality.floorFd, steps: r.steps });
  }
  for (const s of out.values()) s.points.sort((a, b) => a.steps - b.steps);
  return [...out.values()];
}

/** `partial`: the run stopped before the sweep ended; the rows measured so far are shown. */
export function CompareChart({ rows, partial = false }: { rows: CompareRow[]; partial?: boolean }) {
  const { ref, width } = useWidth();
  if (rows.length === 0) return null;
  const series = chartSeries(rows);
  return (
    <div className="compare-chart" ref={ref}>
      <h3>Quality against time{partial ? ' (partial: the sweep was stopped)' : ''}</h3>
      {series.length === 0 ? (
        <p className="compare-note">Set quality samples above 0 to chart FD against time.</p>
      ) : width > 0 ? (
        <div role="img" aria-label="FD over floor against milliseconds per image">
          <ScatterChart width={width} height={HEIGHT} margin={{ top: 10, right: 18, bottom: 18, left: 4 }}>
            <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
            <XAxis dataKey="ms" type="number" scale="log" domain={['auto', 'auto']} name="ms / image" stroke="#cbd5e1" tick={{ fontSize: 12 }} tickFormatter={(v: number) => String(Number(v.toPrecision(2)))} label={{ value: 'ms per image (log)', position: 'insideBottom', offset: -10, fill: '#cbd5e1', fontSize: 12 }} allowDataOverflow />
            <YAxis dataKey="ratio" type="number" domain={[0, 'auto']} name="FD / floor" stroke="#cbd5e1" tick={{ fontSize: 12 }} width={44} tickFormatter={(v: number) => v.toFixed(1)} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : String(v))} />
            <Legend />
            {series.map((s) => (
              <Scatter key={s.key} name={s.key} data={s.points} fill={COLORS[s.sampler]} line={{ stroke: COLORS[s.sampler], strokeDasharray: s.model === 'latent' ? undefined : '5 4' }} shape={s.model === 'latent' ? 'circle' : 'square'} isAnimationActive={false} />
            ))}
          </ScatterChart>
        </div>
      ) : null}
      <table className="compare-table compare-table--sweep" aria-label="Sweep">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Sampler</th>
            <th scope="col">Steps</th>
            <th scope="col">ms / image</th>
            <th scope="col">FD / floor</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.model}-${r.sampler}-${r.steps}`}>
              <td>{MODEL_LABELS[r.model]}</td>
              <td>{SAMPLER_LABELS[r.sampler]}</td>
              <td>{r.steps}</td>
              <td>{r.msPerImage.toFixed(r.msPerImage < 10 ? 2 : 1)}</td>
              <td>{r.quality ? (r.quality.fd / r.quality.floorFd).toFixed(2) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
