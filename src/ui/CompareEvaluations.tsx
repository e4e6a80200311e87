/**
 * Compare's "quality against model evaluations" (issue 20): for one pretrained model, N samples per
 * configuration (fixed-step DDIM and DPM-Solver++, the adaptive solver at several tolerances, early
 * stopping at several thresholds, the distilled student at 1, 2, 4 and 8 steps), scored by the
 * evaluation classifier: FD over the real-digit floor at the same N against the model evaluations a
 * sampling run took, one series per method, and the rows in a table. The run's progress and Stop are
 * the Compare panel's.
 */
import { useStore } from 'zustand';
import { EVALUATION_FAMILIES, FAMILY_LABELS, type EvaluationFamily } from '../protocol/compare-evaluations';
import { estimateEvaluations, evaluationsSettings, type CompareState, type EvaluationsForm } from '../state/compare';
import { integerIn, numberIn } from '../state/validate';
import type { CompareRow } from '../eval/compare-report';
import type { ModelKind } from '../models/setup/model-setup';
import { aboutDuration } from './CompareStatus';
import { useApp, useEngine } from './context';
import { CompareEvaluationsChart } from './CompareEvaluationsChart';
import { CheckboxField, NumberField, SelectField } from './fields';

const validateN = integerIn(2, 1000, 'Samples per configuration');
const validateGuidance = numberIn(0, 20, 'Evaluations guidance');
const MODEL_OPTIONS: { value: ModelKind; label: string }[] = [
  { value: 'latent', label: 'LDM (pretrained)' },
  { value: 'pixel', label: 'Pixel DDPM (pretrained)' },
];

/** The form and the Run button; `canRun`: the engine is ready and nothing runs. */
export function EvaluationsForm({ canRun, running, onRun }: { canRun: boolean; running: boolean; onRun: () => void }) {
  const client = useEngine();
  const form = useStore(client.compare, (s) => s.evalForm);
  const set = (patch: Partial<EvaluationsForm>) => client.compare.setState((s) => ({ evalForm: { ...s.evalForm, ...patch } }));
  const toggle = (f: EvaluationFamily, on: boolean) => set({ families: EVALUATION_FAMILIES.filter((x) => (x === f ? on : form.families.includes(x))) });
  const referenceDigits = useStore(client.compare, (s) => s.form.referenceDigits);
  const speed = useStore(client.compare, (s) => s.speed);
  const backend = useApp((s) => s.engine.backend);
  const cases = evaluationsSettings(form).cases.length;
  const invalid = validateN(form.n) != null || validateGuidance(form.guidance) != null || cases === 0;
  const estimate = invalid ? null : estimateEvaluations(form, referenceDigits, backend, speed);
  return (
    <section className="compare-evals" aria-label="Quality against model evaluations">
      <h3>Quality against model evaluations</h3>
      <p className="compare-note">
        Fewer steps, chosen several ways: each configuration samples the same N digits (same seeds) and the evaluation classifier scores them. A guided evaluation (w ≠ 0, 1) runs the
        denoiser on both halves of one batch and counts once; the distilled student samples with guidance 1, its teacher&apos;s guidance built in.
      </p>
      <div className="grid2 compare-form">
        <SelectField label="Evaluations model" value={form.model} options={MODEL_OPTIONS} onChange={(v) => set({ model: v })} disabled={running} />
        <NumberField label="Samples per configuration" value={form.n} onCommit={(v) => set({ n: v })} validate={validateN} step={1} min={2} max={1000} disabled={running} hint="Kept small: it samples on this computer. FD at small N is rough; read it beside the floor." />
        <NumberField label="Evaluations guidance" value={form.guidance} onCommit={(v) => set({ guidance: v })} validate={validateGuidance} min={0} max={20} disabled={running} />
      </div>
      <fieldset className="compare-evals__families" disabled={running}>
        <legend>Methods</legend>
        {EVALUATION_FAMILIES.map((f) => (
          <CheckboxField key={f} label={FAMILY_LABELS[f]} checked={form.families.includes(f)} onChange={(on) => toggle(f, on)} disabled={running || (f === 'student' && form.model !== 'latent')} />
        ))}
      </fieldset>
      <div className="buttons">
        <button type="button" className="primary" onClick={onRun} disabled={!canRun || invalid}>
          Quality against evaluations
        </button>
        <span className="compare-basis">
          {cases} configuration{cases === 1 ? '' : 's'} × {form.n} samples{form.families.includes('student') && form.model !== 'latent' ? ' (the distilled student is an LDM: not with the pixel model)' : ''}
        </span>
      </div>
      {estimate && !running ? (
        <p className="compare-estimate" aria-label="Evaluations estimate">
          <strong>Estimated time</strong> on {backend ?? 'this backend'}: {aboutDuration(estimate.seconds)} (about {Math.round(estimate.evaluations)} model evaluations in all, per batch of samples
          {estimate.basis === 'measured' ? ", scaled from this page's last measured speed" : ", from the models' FLOPs at a typical speed"}).
        </p>
      ) : null}
    </section>
  );
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');

function RowCells({ row }: { row: CompareRow }) {
  const e = row.evaluation!;
  const q = row.quality;
  if (e.skipped != null) {
    return (
      <tr className="compare-pending">
        <th scope="row">{e.name}</th>
        <td colSpan={4}>not measured: {e.skipped}</td>
      </tr>
    );
  }
  const range = e.evaluationsMin === e.evaluationsMax ? '' : ` (${e.evaluationsMin}–${e.evaluationsMax})`;
  return (
    <tr>
      <th scope="row">{e.name}</th>
      <td>
        {fmt(e.evaluations, Number.isInteger(e.evaluations) ? 0 : 1)}
        {range}
      </td>
      <td>{q ? `${fmt(q.fd, 1)} / ${fmt(q.floorFd, 1)}` : '–'}</td>
      <td>{q ? fmt(q.fd / q.floorFd, 2) : '–'}</td>
      <td>{fmt(row.msPerImage, row.msPerImage < 10 ? 2 : 1)}</td>
    </tr>
  );
}

/** The run's results: the chart, then a row per configuration (skipped ones with their reason). */
export function EvaluationsResults({ rows, ranWith, status, backend }: { rows: CompareRow[]; ranWith: NonNullable<CompareState['ranWith']>; status: CompareState['status']; backend: string | null }) {
  const e = ranWith.evaluations!;
  const evalRows = rows.filter((r) => r.evaluation != null);
  const partial = status === 'cancelled' || status === 'failed';
  const n = evalRows.find((r) => r.quality)?.quality?.n ?? e.n;
  const reference = evalRows.find((r) => r.quality)?.quality?.referenceDigits ?? ranWith.referenceDigits;
  const caption = `${e.model === 'latent' ? 'LDM' : 'Pixel DDPM'}, N = ${n} samples per configuration against ${reference.toLocaleString('en-US')} reference digits, guidance ${e.guidance}, seed ${ranWith.seed}, on ${backend ?? 'this backend'}`;
  return (
    <div className="compare-evals__results">
      <CompareEvaluationsChart rows={evalRows} caption={caption} partial={partial} />
      <table className="compare-table compare-table--evals" aria-label="Quality against evaluations">
        <caption>
          {caption}
          {partial ? ` · partial: ${evalRows.length} of ${e.cases.length} configurations measured before the run stopped` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Model evaluations</th>
            <th scope="col">FD / floor FD</th>
            <th scope="col">FD / floor</th>
            <th scope="col">ms / image</th>
          </tr>
        </thead>
        <tbody>
          {evalRows.map((r) => (
            <RowCells key={r.evaluation!.case} row={r} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
