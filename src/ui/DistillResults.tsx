/**
 * What a distillation has shown so far (the Distill stage, ./DistillStage.tsx): every training
 * step's loss, one series per round, on a log axis; a table of the rounds (steps, loss at the start
 * and the end of the round, the one-step gap to the teacher before and after, time); and each
 * round's sample grid, made by its student at its own step count (DDIM, trailing spacing, guidance 1).
 */
import { useEffect, useRef } from 'react';
import { CartesianGrid, Legend, Line, LineChart, XAxis, YAxis } from 'recharts';
import type { DistillImages, DistillRoundResult } from '../protocol/distill-messages';
import type { DistillLossPoint } from '../state/distill-client';
import { useDistill } from './context';
import { drawBatch } from './draw';
import { useWidth } from './use-width';

const HEIGHT = 190;
const COLORS = ['#38bdf8', '#a3e635', '#f97316', '#e879f9', '#facc15', '#f87171'];

/** The loss chart's rows: x the step over all rounds, one key per round ("r1", "r2", …). */
function rows(points: DistillLossPoint[]): Record<string, number>[] {
  return points.map((p) => ({ step: p.step, [`r${p.round}`]: Math.max(1e-6, p.loss) }));
}

/** A log axis of whole decades around the losses, with a tick at each. */
function decades(points: DistillLossPoint[]): { domain: [number, number]; ticks: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    const v = Math.max(1e-6, p.loss);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const a = Number.isFinite(lo) ? Math.floor(Math.log10(lo)) : -3;
  const b = Number.isFinite(hi) ? Math.max(a + 1, Math.ceil(Math.log10(hi))) : 0;
  return { domain: [10 ** a, 10 ** b], ticks: Array.from({ length: b - a + 1 }, (_, i) => 10 ** (a + i)) };
}

function LossChart({ points, rounds }: { points: DistillLossPoint[]; rounds: { round: number; label: string }[] }) {
  const { ref, width } = useWidth();
  const y = decades(points);
  return (
    <div ref={ref} className="distill-chart-box" style={{ height: HEIGHT }}>
      {width > 0 ? (
        <LineChart width={width} height={HEIGHT} data={rows(points)} margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#334155" strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} stroke="#cbd5e1" tick={{ fontSize: 12 }} height={24} allowDecimals={false} />
          <YAxis type="number" scale="log" domain={y.domain} ticks={y.ticks} interval={0} stroke="#cbd5e1" tick={{ fontSize: 12 }} width={48} tickFormatter={(v: number) => v.toExponential(0)} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {rounds.map(({ round, label }) => (
            <Line key={round} dataKey={`r${round}`} name={label} stroke={COLORS[(round - 1) % COLORS.length]} dot={false} connectNulls isAnimationActive={false} />
          ))}
        </LineChart>
      ) : null}
    </div>
  );
}

/** One batch of images drawn into a canvas as a single row. */
function Grid({ images, label }: { images: DistillImages; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) drawBatch(canvas.current, images, images.n, images.n);
  }, [images]);
  return <canvas ref={canvas} className="digits distill-grid" role="img" aria-label={label} width={1} height={1} />;
}

/** "a → b" in scientific notation, each number kept whole on a line. */
function pair(a: number, b: number) {
  return (
    <>
      <span className="nowrap">{a.toExponential(2)}</span> → <span className="nowrap">{b.toExponential(2)}</span>
    </>
  );
}

function RoundsTable({ results }: { results: DistillRoundResult[] }) {
  return (
    <table className="distill-table" aria-label="Distillation rounds">
      <thead>
        <tr>
          <th scope="col">Round</th>
          <th scope="col">Steps</th>
          <th scope="col">Loss, start → end</th>
          <th scope="col">One-step gap, before → after</th>
          <th scope="col">Time</th>
        </tr>
      </thead>
      <tbody>
        {results.map((r) => (
          <tr key={r.round}>
            <td className="nowrap">
              {r.round} of {r.rounds}
            </td>
            <td className="nowrap">
              {r.teacherSteps} → {r.studentSteps}
            </td>
            <td>{pair(r.lossStart, r.lossEnd)}</td>
            <td>{pair(r.gapBefore, r.gapAfter)}</td>
            <td className="nowrap">{r.seconds.toFixed(1)} s</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The loss by round, the rounds' table and their sample grids. */
export function DistillResults() {
  const losses = useDistill((s) => s.losses);
  const results = useDistill((s) => s.results);
  const progress = useDistill((s) => s.progress);
  if (losses.length === 0 && results.length === 0) return null;
  const seen = new Map<number, string>();
  for (const r of results) seen.set(r.round, `round ${r.round}: ${r.teacherSteps} → ${r.studentSteps}`);
  if (progress && !seen.has(progress.round)) seen.set(progress.round, `round ${progress.round}: ${progress.teacherSteps} → ${progress.studentSteps}`);
  const rounds = [...seen].map(([round, label]) => ({ round, label })).sort((a, b) => a.round - b.round);
  return (
    <section className="distill-results" aria-labelledby="distill-results-title">
      <h3 id="distill-results-title">Distillation by round</h3>
      <figure className="chart" aria-label="Distillation loss by round" data-points={losses.length}>
        <LossChart points={losses} rounds={rounds} />
        <figcaption className="field-hint">
          Each step&apos;s loss: how far the student&apos;s one step lands from the teacher&apos;s two (‖z_t″ student − z_t″ teacher‖² for an ε model), log scale.
        </figcaption>
      </figure>
      {results.length > 0 ? <RoundsTable results={results} /> : null}
      {results.length > 0 ? (
        <p className="field-hint">
          Loss: the mean of the round&apos;s first and last tenth of steps. One-step gap: the same distance on a fixed batch of 16 training digits, before
          and after the round.
        </p>
      ) : null}
      {results.map((r) => (
        <figure key={r.round} className="distill-samples">
          <figcaption>
            Round {r.round}: the {r.studentSteps}-step student&apos;s samples (DDIM-{r.studentSteps}, trailing spacing, guidance 1)
          </figcaption>
          <Grid images={r.images} label={`Samples of the ${r.studentSteps}-step student`} />
        </figure>
      ))}
    </section>
  );
}
