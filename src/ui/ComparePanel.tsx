/**
 * Compare: the pretrained pixel DDPM against the LDM on this browser's backend, with the same
 * sampler, steps, batch and seed. A table per model (time per image, images/s, peak tensor memory,
 * FLOPs per image, confidence and FD with its real-digit floor) with the ratios the LDM paper is
 * about, and a sweep of step counts for the chart of quality against time.
 */
import { useState } from 'react';
import { useStore } from 'zustand';
import { SAMPLER_KINDS, SAMPLER_LABELS } from '../diffusion/config';
import { compareRatios, parseStepList, type CompareState } from '../state/compare';
import { integerIn, numberIn, validateSeed } from '../state/validate';
import type { CompareRow, CompareSettings } from '../eval/compare-report';
import { useApp, useEngine } from './context';
import { CompareChart } from './CompareChart';
import { NumberField, Panel, SelectField } from './fields';
import { formatBytes, formatCount, formatDuration, formatRate } from './format';
import './compare.css';

const MODEL_LABELS = { pixel: 'Pixel DDPM', latent: 'LDM' } as const;

const VALIDATORS: Record<'steps' | 'batch' | 'reps' | 'qualityImages' | 'referenceDigits' | 'guidance', (v: number) => string | null> = {
  steps: integerIn(1, 1000, 'Steps'),
  batch: integerIn(1, 256, 'Batch'),
  reps: integerIn(1, 20, 'Repeats'),
  qualityImages: (v) => (v === 1 ? 'Quality needs at least 2 samples (0: timing only).' : integerIn(0, 1000, 'Quality samples')(v)),
  referenceDigits: integerIn(100, 9000, 'FD reference digits'),
  guidance: numberIn(0, 20, 'Guidance'),
};

function useCompare<T>(selector: (s: CompareState) => T): T {
  return useStore(useEngine().compare, selector);
}

function formRows(rows: CompareRow[]) {
  return rows.filter((r) => !r.sweep);
}

function RowCells({ row }: { row: CompareRow }) {
  const q = row.quality;
  return (
    <tr>
      <th scope="row">{MODEL_LABELS[row.model]}</th>
      <td>{row.msPerImage.toFixed(row.msPerImage < 10 ? 2 : 1)}</td>
      <td>{formatRate(row.imagesPerSec)}</td>
      <td>{formatBytes(row.peakBytes)}</td>
      <td>{formatCount(row.flopsPerImage)}</td>
      <td>{q ? q.meanConfidence.toFixed(3) : '–'}</td>
      <td title={q ? `against ${q.referenceDigits} training digits; the floor is ${q.n} held-out digits` : undefined}>
        {q ? `${q.fd.toFixed(1)} (floor ${q.floorFd.toFixed(1)}, ${(q.fd / q.floorFd).toFixed(2)}×)` : '–'}
      </td>
    </tr>
  );
}

export function ComparePanel() {
  const client = useEngine();
  const form = useCompare((s) => s.form);
  const status = useCompare((s) => s.status);
  const message = useCompare((s) => s.message);
  const backend = useCompare((s) => s.backend);
  const progress = useCompare((s) => s.progress);
  const rows = useCompare((s) => s.rows);
  const engineReady = useApp((s) => s.engine.status === 'ready');
  const activeBackend = useApp((s) => s.engine.backend);
  const [sweepText, setSweepText] = useState(form.sweepSteps.join(', '));
  const sweep = parseStepList(sweepText);
  const set = (patch: Partial<CompareSettings>) => client.compare.setState((s) => ({ form: { ...s.form, ...patch } }));
  const invalid =
    (Object.keys(VALIDATORS) as (keyof typeof VALIDATORS)[]).some((k) => VALIDATORS[k](form[k]) != null) || validateSeed(form.seed) != null;
  const running = status === 'running';
  const canRun = engineReady && !running && !invalid;
  const main = formRows(rows);
  const ratios = compareRatios(rows);
  const run = (withSweep: boolean) => {
    if (withSweep && 'steps' in sweep) set({ sweepSteps: sweep.steps });
    client.startCompare(withSweep);
  };
  return (
    <Panel title="Compare" className="compare">
      <p className="compare-note">
        The pretrained pixel DDPM and LDM, sampled here on <strong>{activeBackend ?? 'the engine'}</strong> with the same settings. Training pauses while this runs.
      </p>
      <div className="grid2 compare-form">
        <SelectField label="Compare sampler" value={form.sampler} options={SAMPLER_KINDS.map((k) => ({ value: k, label: SAMPLER_LABELS[k] }))} onChange={(v) => set({ sampler: v })} disabled={running} />
        <NumberField label="Compare steps" value={form.steps} onCommit={(v) => set({ steps: v })} validate={VALIDATORS.steps} step={1} min={1} max={1000} disabled={running} />
        <NumberField label="Compare batch" value={form.batch} onCommit={(v) => set({ batch: v })} validate={VALIDATORS.batch} step={1} min={1} max={256} disabled={running} />
        <NumberField label="Compare seed" value={form.seed} onCommit={(v) => set({ seed: v })} validate={validateSeed} step={1} min={0} disabled={running} />
        <NumberField label="Compare guidance" value={form.guidance} onCommit={(v) => set({ guidance: v })} validate={VALIDATORS.guidance} min={0} max={20} disabled={running} />
        <NumberField label="Timed repeats" value={form.reps} onCommit={(v) => set({ reps: v })} validate={VALIDATORS.reps} step={1} min={1} max={20} disabled={running} />
        <NumberField
          label="Quality samples"
          value={form.qualityImages}
          onCommit={(v) => set({ qualityImages: v })}
          validate={VALIDATORS.qualityImages}
          step={1}
          min={0}
          max={1000}
          disabled={running}
          hint="Scored by the evaluation classifier; FD is shown beside real digits' at the same N. 0: timing only."
        />
        <NumberField
          label="FD reference digits"
          value={form.referenceDigits}
          onCommit={(v) => set({ referenceDigits: v })}
          validate={VALIDATORS.referenceDigits}
          step={100}
          min={100}
          max={9000}
          disabled={running}
          hint="Training digits the FD is measured against, scored once per page (npm run eval uses all 9,000)."
        />
        <SweepField text={sweepText} error={'error' in sweep ? sweep.error : null} onChange={setSweepText} disabled={running} />
      </div>
      <div className="buttons">
        <button type="button" onClick={() => run(false)} disabled={!canRun}>
          Compare
        </button>
        <button type="button" onClick={() => run(true)} disabled={!canRun || 'error' in sweep}>
          Compare and sweep
        </button>
        <button type="button" onClick={() => client.cancelCompare()} disabled={!running}>
          Stop comparing
        </button>
        <button type="button" onClick={() => client.downloadCompare()} disabled={running || rows.length === 0}>
          Download results (JSON)
        </button>
      </div>
      <CompareProgress status={status} progress={progress} />
      {status === 'failed' && message ? (
        <p className="compare-error" role="alert" aria-label="Compare error">
          {message}
        </p>
      ) : null}
      {main.length > 0 ? (
        <table className="compare-table" aria-label="Comparison">
          <caption>
            {SAMPLER_LABELS[main[0].sampler]}-{main[0].steps}, batch {main[0].batch}, on {backend}
          </caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">ms / image</th>
              <th scope="col">images / s</th>
              <th scope="col">Peak memory</th>
              <th scope="col">FLOPs / image</th>
              <th scope="col">Confidence</th>
              <th scope="col">FD</th>
            </tr>
          </thead>
          <tbody>
            {main.map((r) => (
              <RowCells key={r.model} row={r} />
            ))}
          </tbody>
        </table>
      ) : null}
      {ratios ? (
        <p className="compare-ratios" aria-label="LDM against pixel DDPM">
          LDM: {ratios.speedup.toFixed(1)}× the pixel DDPM&apos;s speed per image, {ratios.memory.toFixed(2)}× its peak memory.
        </p>
      ) : null}
      <CompareChart rows={rows.filter((r) => r.sweep)} />
    </Panel>
  );
}

function SweepField({ text, error, onChange, disabled }: { text: string; error: string | null; onChange: (t: string) => void; disabled: boolean }) {
  return (
    <div className={`field field--wide${error ? ' field--invalid' : ''}`}>
      <label htmlFor="compare-sweep">Sweep step counts</label>
      <input id="compare-sweep" type="text" value={text} disabled={disabled} aria-invalid={error ? true : undefined} aria-describedby={error ? 'compare-sweep-err' : undefined} onChange={(e) => onChange(e.target.value)} />
      {error ? (
        <p className="field-error" id="compare-sweep-err">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function CompareProgress({ status, progress }: { status: CompareState['status']; progress: CompareState['progress'] }) {
  if (status !== 'running' && status !== 'done' && status !== 'cancelled') return null;
  const total = Math.max(1, progress?.total ?? 1);
  return (
    <div className="compare-progress">
      <progress aria-label="Compare progress" max={total} value={Math.min(progress?.done ?? 0, total)} />
      <p aria-label="Compare status">
        {status === 'running' ? `${progress?.phase ?? 'starting'} · ${formatRate(progress?.stepsPerSec ?? 0)} ${progress?.unit ?? 'steps'}/s · ${formatDuration(progress?.etaSec ?? NaN)} left` : status === 'done' ? 'Done.' : 'Stopped.'}
      </p>
    </div>
  );
}
