import { memo } from 'react';
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

/** Round numbers for an axis from 0 to at least `top`: about five ticks. */
function linearTicks(top: number): number[] {
  const raw = top / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= top + step * 1e-9; v += step) out.push(v);
  if (out[out.length - 1] < top) out.push(out[out.length - 1] + step);
  return out;
}

/** 1, 2, 5, 10, 20, 50 … inside [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) if (m * 10 ** e >= lo && m * 10 ** e <= hi) out.push(m * 10 ** e);
  return out;
}

const MARGIN = { top: 8, right: 18, bottom: 34, left: 44 };

/**
 * Distance over floor against model evaluations (log scale), one line per sampler and denoiser, as
 * plain SVG: a few dozen points, drawn in well under a millisecond whenever a row arrives (a
 * charting library's render of the same took tens of milliseconds of the page's main thread a row).
 */
const QualityChart = memo(function QualityChart({ rows, width }: { rows: LabQualityRow[]; width: number }) {
  const lines = series(rows);
  const evals = rows.map((r) => Math.max(1, r.evaluations));
  let lo = Math.min(...evals);
  let hi = Math.max(...evals);
  if (hi / lo < 2) [lo, hi] = [lo / 1.5, hi * 1.5];
  const ratios = lines.flatMap((l) => l.points.map((p) => p.ratio)).filter(Number.isFinite);
  const yTicks = linearTicks(Math.max(TARGET_RATIO * 1.25, ...ratios));
  const yTop = yTicks[yTicks.length - 1];
  const w = Math.max(120, width);
  const plotW = w - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (e: number) => MARGIN.left + ((Math.log10(Math.max(1, e)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const y = (r: number) => MARGIN.top + (1 - Math.min(yTop, Math.max(0, r)) / yTop) * plotH;
  return (
    <div role="img" aria-label="Distance over floor against model evaluations" className="lab-quality-plot">
      <ul className="lab-quality-legend" aria-hidden="true">
        {lines.map((l) => (
          <li key={l.key}>
            <svg width="22" height="10">
              <line x1="1" x2="21" y1="5" y2="5" stroke={COLORS[l.row.sampler]} strokeWidth="2" strokeDasharray={l.row.denoiser === 'exact' ? '5 4' : undefined} />
            </svg>
            {l.key}
          </li>
        ))}
      </ul>
      <svg width={w} height={HEIGHT} viewBox={`0 0 ${w} ${HEIGHT}`}>
        {yTicks.map((v) => (
          <g key={`y${v}`}>
            <line x1={MARGIN.left} x2={w - MARGIN.right} y1={y(v)} y2={y(v)} stroke="#334155" strokeDasharray="3 3" />
            <text x={MARGIN.left - 6} y={y(v) + 4} textAnchor="end" fill="#cbd5e1" fontSize="12">
              {v.toFixed(1)}
            </text>
          </g>
        ))}
        {logTicks(lo, hi).map((v) => (
          <g key={`x${v}`}>
            <line x1={x(v)} x2={x(v)} y1={MARGIN.top} y2={MARGIN.top + plotH} stroke="#334155" strokeDasharray="3 3" />
            <text x={x(v)} y={MARGIN.top + plotH + 15} textAnchor="middle" fill="#cbd5e1" fontSize="12">
              {v}
            </text>
          </g>
        ))}
        <text x={MARGIN.left + plotW / 2} y={HEIGHT - 3} textAnchor="middle" fill="#cbd5e1" fontSize="12">
          model evaluations (log)
        </text>
        <line x1={MARGIN.left} x2={w - MARGIN.right} y1={y(TARGET_RATIO)} y2={y(TARGET_RATIO)} stroke="#4ade80" strokeDasharray="4 4" />
        {lines.map((l) => {
          const color = COLORS[l.row.sampler];
          const exact = l.row.denoiser === 'exact';
          return (
            <g key={l.key}>
              <path d={l.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.evaluations).toFixed(1)},${y(p.ratio).toFixed(1)}`).join('')} fill="none" stroke={color} strokeWidth="1.5" strokeDasharray={exact ? '5 4' : undefined} />
              {l.points.map((p) => {
                const cx = x(p.evaluations);
                const cy = y(p.ratio);
                return exact ? (
                  <path key={p.steps} d={`M${cx},${cy - 5}L${cx + 5},${cy}L${cx},${cy + 5}L${cx - 5},${cy}Z`} fill={color}>
                    <title>{`${l.key}: ${p.steps} steps, ${p.evaluations} evaluations, ${ratioText(p.ratio)}× floor`}</title>
                  </path>
                ) : (
                  <circle key={p.steps} cx={cx} cy={cy} r="4" fill={color}>
                    <title>{`${l.key}: ${p.steps} steps, ${p.evaluations} evaluations, ${ratioText(p.ratio)}× floor`}</title>
                  </circle>
                );
              })}
            </g>
          );
        })}
      </svg>
    </div>
  );
});

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
          <QualityChart rows={rows} width={width} />
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
