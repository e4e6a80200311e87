/**
 * "Quality while training" (issue 18), in the Training panel: a checkbox that turns the live
 * quality curve on, the samples each check scores, and a small chart of the checks against
 * training time: the evaluation classifier's mean confidence and label entropy (left axis) and FD
 * over the real-digit floor at the same N (right axis, log; 1 is as good as real digits). The last
 * check's figures are written out below it, for reading and for screen readers.
 */
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useStore } from 'zustand';
import { DEFAULT_QUALITY, type QualityPoint } from '../protocol/quality-messages';
import { validateQualitySamples, type QualityState } from '../state/quality-curve';
import { useEngine } from './context';
import { CheckboxField, NumberField } from './fields';
import { useWidth } from './use-width';
import './quality.css';

const HEIGHT = 200;
const LN10 = Math.log(10);
const COLORS = { confidence: '#38bdf8', entropy: '#a3e635', ratio: '#f97316' };

/** Seconds as m:ss (or h:mm:ss). */
export function clock(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const two = (n: number) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

function useQuality<T>(select: (s: QualityState) => T): T {
  return useStore(useEngine().quality.store, select);
}

/** One sentence on the last check. */
function lastCheckText(p: QualityPoint): string {
  const ratio = p.fd / p.floorFd;
  return (
    `Step ${p.step.toLocaleString()} (${clock(p.trainingSec)} of training): confidence ${p.confidence.toFixed(3)}, ` +
    `label entropy ${p.labelEntropy.toFixed(2)} of ${LN10.toFixed(2)} nats, FD ${p.fd.toFixed(1)} = ${ratio.toFixed(2)}× the floor (${p.floorFd.toFixed(1)}); ` +
    `${p.n} samples, the check took ${(p.checkMs / 1000).toFixed(1)} s.`
  );
}

function Chart({ points }: { points: QualityPoint[] }) {
  const { ref, width } = useWidth();
  const data = points.map((p) => ({ t: p.trainingSec, step: p.step, confidence: p.confidence, entropy: p.labelEntropy, ratio: Math.max(0.1, p.fd / p.floorFd) }));
  return (
    <div ref={ref} className="quality-chart-box" style={{ height: HEIGHT }}>
      {width > 0 ? (
        <LineChart width={width} height={HEIGHT} data={data} margin={{ top: 8, right: 4, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
          <XAxis dataKey="t" type="number" domain={[0, 'auto']} stroke="#cbd5e1" tick={{ fontSize: 12 }} tickFormatter={clock} height={24} />
          <YAxis yAxisId="score" type="number" domain={[0, 2.4]} ticks={[0, 0.5, 1, 1.5, 2, LN10]} tickFormatter={(v: number) => v.toFixed(v === LN10 ? 2 : 1)} width={40} stroke="#cbd5e1" tick={{ fontSize: 12 }} />
          <YAxis yAxisId="ratio" orientation="right" type="number" scale="log" domain={['auto', 'auto']} width={44} stroke={COLORS.ratio} tick={{ fontSize: 12 }} tickFormatter={(v: number) => `${Number(v.toPrecision(2))}×`} allowDataOverflow />
          <Tooltip
            labelFormatter={(t) => `${clock(Number(t))} of training`}
            formatter={(v, name) => (typeof v === 'number' ? (name === 'FD / floor' ? `${v.toFixed(2)}×` : v.toFixed(3)) : String(v))}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Line yAxisId="score" dataKey="confidence" name="confidence" stroke={COLORS.confidence} dot={{ r: 2 }} isAnimationActive={false} />
          <Line yAxisId="score" dataKey="entropy" name="label entropy (nats)" stroke={COLORS.entropy} dot={{ r: 2 }} isAnimationActive={false} />
          <Line yAxisId="ratio" dataKey="ratio" name="FD / floor" stroke={COLORS.ratio} strokeDasharray="5 3" dot={{ r: 2 }} isAnimationActive={false} />
        </LineChart>
      ) : null}
    </div>
  );
}

/** The curve's switch, its samples per check, and the chart of its points. */
export function QualityCurve() {
  const client = useEngine();
  const enabled = useQuality((s) => s.enabled);
  const samples = useQuality((s) => s.samples);
  const status = useQuality((s) => s.status);
  const message = useQuality((s) => s.message);
  const points = useQuality((s) => s.points);
  const last = points.length > 0 ? points[points.length - 1] : null;

  let note: string;
  if (status === 'failed') note = message ?? 'The quality curve stopped.';
  else if (!enabled && points.length === 0) note = 'Off. When on, the evaluation classifier scores digits the model samples while it trains: you see it learn in numbers as well as in pictures.';
  else if (status === 'loading') note = 'Loading the evaluation classifier and scoring real digits (the reference and the floor)…';
  else if (last === null) note = 'The first check runs after the next training step.';
  else note = lastCheckText(last);

  return (
    <section className="quality" aria-labelledby="quality-title">
      <h3 id="quality-title">Quality while training</h3>
      <div className="quality-controls">
        <CheckboxField label="Score samples while training" checked={enabled} onChange={(on) => client.quality.setEnabled(on)} />
        {enabled ? (
          <NumberField label="Samples per check" value={samples} step={10} min={10} max={1000} validate={validateQualitySamples} onCommit={(n) => client.quality.setSamples(n)} />
        ) : null}
      </div>
      <p className="field-hint">
        Each check: {enabled ? samples : DEFAULT_QUALITY.samples} samples by DDIM-{DEFAULT_QUALITY.steps}, digits 0–9 in turn, scored as <code>npm run eval</code> does (FD against 1,000
        training digits; the floor is as many held-out digits). Checks take at most {Math.round(DEFAULT_QUALITY.share * 100)} % of the training time.
      </p>
      <figure className="chart quality-chart" aria-label="Quality while training chart" data-points={points.length}>
        {points.length > 0 ? <Chart points={points} /> : null}
        <figcaption role="status" className={status === 'failed' ? 'quality-failed' : undefined}>
          {note}
        </figcaption>
      </figure>
    </section>
  );
}
