/**
 * What a sampling run cost, from its summary (src/protocol/messages.ts SampleSummary): the model
 * evaluations, where early stopping ended it and how many evaluations that saved, and for the
 * adaptive solver the steps it chose: each try's step size h (in λ, the half-log-SNR) over the t it
 * started from, accepted tries filled, rejected ones hollow.
 */
import { CartesianGrid, Legend, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { SampleSummary } from '../protocol/messages';
import { useWidth } from './use-width';

const HEIGHT = 150;

/** "12 evaluations · early stop at step 15 of 20 (saved 5)" and the adaptive solver's counts, in words. */
export function summaryWords(s: SampleSummary): string {
  const parts = [`${s.evaluations} model evaluation${s.evaluations === 1 ? '' : 's'} in ${s.steps} step${s.steps === 1 ? '' : 's'}`];
  if (s.attempts) {
    const rejected = s.attempts.filter((a) => !a.accepted).length;
    parts.push(`${rejected} rejected tr${rejected === 1 ? 'y' : 'ies'}`);
  }
  if (s.earlyStop) {
    parts.push(
      s.plannedSteps !== null
        ? `early stop at step ${s.earlyStop.index + 1} of ${s.plannedSteps}: ${s.earlyStop.saved} evaluation${s.earlyStop.saved === 1 ? '' : 's'} saved`
        : `early stop at step ${s.earlyStop.index + 1}`,
    );
  }
  return parts.join(' · ');
}

export function AdaptiveStepsChart({ summary }: { summary: SampleSummary }) {
  const { ref, width } = useWidth();
  const attempts = summary.attempts ?? [];
  const accepted = attempts.filter((a) => a.accepted).map((a) => ({ t: Number(a.s.toFixed(1)), h: Number(a.h.toPrecision(3)) }));
  const rejected = attempts.filter((a) => !a.accepted).map((a) => ({ t: Number(a.s.toFixed(1)), h: Number(a.h.toPrecision(3)) }));
  return (
    <div className="adaptive-steps" ref={ref}>
      <p className="field-hint" aria-label="Sampling run cost">
        {summaryWords(summary)}
      </p>
      {attempts.length > 0 && width > 0 ? (
        <figure role="img" aria-label="Adaptive step sizes: h in λ against t" style={{ margin: 0 }}>
          <ScatterChart width={width} height={HEIGHT} margin={{ top: 6, right: 18, bottom: 16, left: 4 }}>
            <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
            <XAxis dataKey="t" type="number" reversed domain={[0, 'dataMax']} name="t" stroke="#cbd5e1" tick={{ fontSize: 11 }} label={{ value: 't (step start)', position: 'insideBottom', offset: -8, fill: '#cbd5e1', fontSize: 11 }} />
            <YAxis dataKey="h" type="number" name="h (λ)" stroke="#cbd5e1" tick={{ fontSize: 11 }} width={44} tickFormatter={(v: number) => String(Number(v.toPrecision(2)))} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? String(v) : String(v))} />
            <Legend verticalAlign="top" height={20} />
            <Scatter name="accepted step" data={accepted} fill="#38bdf8" line={{ stroke: '#38bdf8' }} isAnimationActive={false} />
            <Scatter name="rejected try" data={rejected} fill="#f87171" fillOpacity={0.3} stroke="#f87171" isAnimationActive={false} />
          </ScatterChart>
          <figcaption className="field-hint">Step size h in λ (half log-SNR) chosen at each t: small where the ODE bends, large where it is straight.</figcaption>
        </figure>
      ) : null}
    </div>
  );
}
