import { CartesianGrid, Legend, ReferenceLine, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { LabQualityRow } from '../../protocol/lab-messages';
import { bestLearned, COVER_SHARE, normalizedWeights, TARGET_RATIO, verdict, type QualityVerdict } from '../../state/lab/lab-quality';
import { LAB_SAMPLER_LABELS } from '../../state/lab/lab-settings';
import { useEngine } from '../context';
import { Panel } from '../fields';
import { useWidth } from '../use-width';
import { useLab } from './use-lab';

const COLORS: Record<LabQualityRow['sampler'], string> = { ddpm: '#f97316', ddim: '#38bdf8', dpmpp: '#a3e635', euler: '#f472b6', heun: '#fbbf24' };
const HEIGHT = 240;

interface Point {
  evaluations: number;
  ratio: number;
  steps: number;
}

function series(rows: LabQualityRow[]): { key: string; row: LabQualityRow; points: Point[] }[] {
  const out = new Map<string, { key: string; row: LabQualityRow; points: Point[] }>();
  for (const r of rows) {
    const key = `${LAB_SAMPLER_LABELS[r.sampler]} · ${r.denoiser}`;
    if (!out.has(key)) out.set(key, { key, row: r, points: [] });
    out.get(key)!.points.push({ evaluations: r.evaluations, ratio: verdict(r, null).ratio, steps: r.steps });
  }
  for (const s of out.values()) s.points.sort((a, b) => a.evaluations - b.evaluations);
  return [...out.values()];
}

/** A ratio to the floor; an unbiased distance at or below 0 is as good as data. */
const ratioText = (r: number) => (r < 0.01 ? '< 0.01' : r.toFixed(2));
/** The best learned run's share of samples nearest each mode, against the mode's weight (the tick). */
function ModeBars({ shares, weights }: { shares: number[]; weights: number[] }) {
  const W = 240;
  const H = 54;
  const slot = W / shares.length;
  const top = Math.max(...shares, ...weights, 1e-9) * 1.1;
  const y = (v: number) => H - 12 - (v / top) * (H - 16);
  return (
    <figure className="lab-modes" aria-label="Mode coverage">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H}>
        {shares.map((share, k) => (
          <g key={k}>
            <rect x={k * slot + 3} width={slot - 6} y={y(share)} height={H - 12 - y(share)} className={share >= COVER_SHARE * weights[k] ? 'lab-mode' : 'lab-mode lab-mode--missed'}>
              <title>{`mode ${k + 1}: ${(share * 100).toFixed(1)}% of samples (weight ${(weights[k] * 100).toFixed(1)}%)`}</title>
            </rect>
            <line x1={k * slot + 1} x2={(k + 1) * slot - 1} y1={y(weights[k])} y2={y(weights[k])} className="lab-mode-weight" />
            <text x={(k + 0.5) * slot} y={H - 1} textAnchor="middle" className="loss-bands-tick">
              {k + 1}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>Share of samples nearest each mode (bars) against its weight (ticks); a mode is covered at half its weight.</figcaption>
    </figure>
  );
}

const modesText = (v: QualityVerdict) => (v.modes === null ? '–' : `${v.covered} / ${v.modes}`);

/**
 * Sample quality against model evaluations for every sampler of the objective, with the learned
 * and (for mixtures) the exact denoiser: distance to fresh data over the floor of two data samples,
 * and mode coverage. The exact denoiser's curve is the sampler's own error; the gap to the learned
 * one is the network's.
 */
export function QualityView() {
  const lab = useEngine().lab;
  const quality = useLab((s) => s.quality);
  const components = useLab((s) => s.data?.components ?? null);
  const connected = useLab((s) => s.connected);
  const { ref, width } = useWidth();
  const rows = quality.rows;
  const best = bestLearned(rows, components);
  const running = quality.state === 'running';
  return (
    <Panel title="Lab quality" className="lab-panel lab-quality">
      <div className="buttons">
        <button type="button" className="primary" disabled={!connected || running} onClick={() => lab.measureQuality()}>
          Measure quality
        </button>
        <button type="button" disabled={!running} onClick={() => lab.cancelQuality()}>
          Stop measuring
        </button>
        {running ? <progress aria-label="Quality progress" max={Math.max(1, quality.total)} value={quality.done} /> : null}
        <span className="muted" aria-label="Quality state">
          {quality.state === 'idle' ? 'not measured' : quality.state === 'running' ? `measuring ${quality.done} / ${quality.total || '…'}` : quality.state}
        </span>
      </div>
      <p className="lab-target" aria-label="Quality target">
        Target: distance ≤ {TARGET_RATIO}× the floor of two data samples{components ? ', every mode covered' : ''}.{' '}
        {best ? (
          <strong className={best.verdict.met ? 'lab-met' : 'lab-missed'}>
            Best learned: {LAB_SAMPLER_LABELS[best.row.sampler]} {best.row.steps} steps, {ratioText(best.verdict.ratio)}× floor
            {best.verdict.modes !== null ? `, ${modesText(best.verdict)} modes` : ''} — {best.verdict.met ? 'target met' : 'target not met'}
          </strong>
        ) : null}
      </p>
      {best?.row.modeShares && components && components.length === best.row.modeShares.length ? <ModeBars shares={best.row.modeShares} weights={normalizedWeights(components)} /> : null}
      <div ref={ref} className="lab-quality-chart">
        {rows.length > 0 && width > 0 ? (
          <div role="img" aria-label="Distance over floor against model evaluations">
            <ScatterChart width={width} height={HEIGHT} margin={{ top: 10, right: 18, bottom: 18, left: 4 }}>
              <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
              <XAxis dataKey="evaluations" type="number" scale="log" domain={['auto', 'auto']} name="evaluations" stroke="#cbd5e1" tick={{ fontSize: 12 }} label={{ value: 'model evaluations (log)', position: 'insideBottom', offset: -10, fill: '#cbd5e1', fontSize: 12 }} allowDataOverflow />
              <YAxis dataKey="ratio" type="number" domain={[0, 'auto']} name="distance / floor" stroke="#cbd5e1" tick={{ fontSize: 12 }} width={40} tickFormatter={(v: number) => v.toFixed(1)} />
              <ReferenceLine y={TARGET_RATIO} stroke="#4ade80" strokeDasharray="4 4" />
              <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : String(v))} />
              <Legend verticalAlign="top" height={28} />
              {series(rows).map((s) => (
                <Scatter key={s.key} name={s.key} data={s.points} fill={COLORS[s.row.sampler]} line={{ stroke: COLORS[s.row.sampler], strokeDasharray: s.row.denoiser === 'exact' ? '5 4' : undefined }} shape={s.row.denoiser === 'exact' ? 'diamond' : 'circle'} isAnimationActive={false} />
              ))}
            </ScatterChart>
          </div>
        ) : null}
      </div>
      {rows.length > 0 ? (
        <table className="compare-table" aria-label="Lab quality rows">
          <thead>
            <tr>
              <th scope="col">Sampler</th>
              <th scope="col">Denoiser</th>
              <th scope="col">Steps</th>
              <th scope="col">Evaluations</th>
              <th scope="col">Distance / floor</th>
              <th scope="col">Modes covered</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const v = verdict(r, components);
              return (
                <tr key={`${r.sampler}-${r.denoiser}-${r.steps}`}>
                  <td>{LAB_SAMPLER_LABELS[r.sampler]}</td>
                  <td>{r.denoiser}</td>
                  <td>{r.steps}</td>
                  <td>{r.evaluations}</td>
                  <td>{ratioText(v.ratio)}</td>
                  <td>{modesText(v)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="field-hint">Measures every sampler at 5, 10, 20 and 50 steps on {1000} samples against fresh data (dashed: the exact denoiser).</p>
      )}
    </Panel>
  );
}
