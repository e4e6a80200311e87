/**
 * Compare: the pretrained pixel DDPM against the LDM on this browser's backend, with the same
 * sampler, steps, batch and seed. A table per model (time per image, images/s, peak tensor memory,
 * FLOPs per image, confidence and FD with its real-digit floor) with the ratios the LDM paper is
 * about, and a sweep of step counts for the chart of quality against time.
 *
 * The default is a quick run (under a minute on wasm); the thorough run is one click away, with its
 * duration estimated before it starts. Rows show as they are measured, and Stop keeps them.
 */
import { CompareExplain } from './CompareExplain';
import { CompareTable, MODELS } from './CompareTable';
import { explainCompare } from '../state/compare-explain';
import { useState } from 'react';
import { useStore } from 'zustand';
import { SAMPLER_KINDS, SAMPLER_LABELS, samplerStepsLabel } from '../diffusion/config';
import {
  compareRatios,
  DEFAULT_COMPARE,
  estimateCompare,
  evaluationsSettings,
  hasSize,
  markStopping,
  parseStepList,
  QUICK_COMPARE,
  THOROUGH_COMPARE,
  type CompareEstimate,
  type CompareState,
} from '../state/compare';
import { integerIn, numberIn, validateSeed } from '../state/validate';
import type { CompareSettings } from '../eval/compare-report';
import { useApp, useEngine } from './context';
import { CompareChart } from './CompareChart';
import { EvaluationsForm, EvaluationsResults } from './CompareEvaluations';
import { aboutDuration, CompareError, CompareProgress, CompareSummary } from './CompareStatus';
import { NumberField, Panel, SelectField } from './fields';
import './compare.css';

/** Below this many quality samples, FD is mostly small-sample bias (the panel says so). */
const SMALL_N = 50;

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

/** "DDIM-50, batch 16, 3 timed repeats, 200 quality samples, 2,000 FD reference digits". */
function describeSize(sampler: CompareSettings['sampler'], size: typeof THOROUGH_COMPARE): string {
  return `${samplerStepsLabel(sampler, size.steps)}, batch ${size.batch}, ${size.reps} timed repeat${size.reps === 1 ? '' : 's'}, ${size.qualityImages} quality samples, ${size.referenceDigits.toLocaleString('en-US')} FD reference digits`;
}

export function ComparePanel() {
  const client = useEngine();
  const form = useCompare((s) => s.form);
  const status = useCompare((s) => s.status);
  const stopping = useCompare((s) => s.stopping);
  const message = useCompare((s) => s.message);
  const backend = useCompare((s) => s.backend);
  const progress = useCompare((s) => s.progress);
  const rows = useCompare((s) => s.rows);
  const ranWith = useCompare((s) => s.ranWith);
  const speed = useCompare((s) => s.speed);
  const startedAt = useCompare((s) => s.startedAt);
  const endedAt = useCompare((s) => s.endedAt);
  const engineReady = useApp((s) => s.engine.status === 'ready');
  const activeBackend = useApp((s) => s.engine.backend);
  const [sweepText, setSweepText] = useState(form.sweepSteps.join(', '));
  const sweep = parseStepList(sweepText);
  const set = (patch: Partial<CompareSettings>) => client.compare.setState((s) => ({ form: { ...s.form, ...patch } }));
  const invalid =
    (Object.keys(VALIDATORS) as (keyof typeof VALIDATORS)[]).some((k) => VALIDATORS[k](form[k]) != null) || validateSeed(form.seed) != null;
  const running = status === 'running';
  const canRun = engineReady && !running && !invalid;
  // The thorough run sets its own size; the sampler, seed and guidance stay the form's.
  const canRunThorough = engineReady && !running && validateSeed(form.seed) == null && VALIDATORS.guidance(form.guidance) == null;
  // An evaluations run (quality against model evaluations) shows its own results instead of the table and sweep.
  const evalRun = ranWith?.evaluations != null;
  const main = evalRun ? [] : rows.filter((r) => !r.sweep);
  const ratios = evalRun ? null : compareRatios(rows);
  const why = evalRun || !ranWith ? null : explainCompare(rows, ranWith.guidance);
  const run = (withSweep: boolean) => {
    set(withSweep && 'steps' in sweep ? { sweepSteps: sweep.steps, evaluations: null } : { evaluations: null });
    client.startCompare(withSweep);
  };
  const thorough = () => {
    set({ ...THOROUGH_COMPARE, evaluations: null });
    client.startCompare(false);
  };
  const runEvaluations = () => {
    set({ evaluations: evaluationsSettings(client.compare.getState().evalForm) });
    client.startCompare(false);
  };
  const stop = () => {
    markStopping(client.compare);
    client.cancelCompare();
  };
  const quickSettings = () => {
    set(QUICK_COMPARE);
    setSweepText(DEFAULT_COMPARE.sweepSteps.join(', '));
  };
  const backendName = activeBackend ?? 'this backend';
  const withSweepForm = 'steps' in sweep ? { ...form, sweepSteps: sweep.steps } : form;
  const estimates = invalid
    ? null
    : {
        compare: estimateCompare(form, false, activeBackend, speed),
        sweep: 'steps' in sweep && sweep.steps.length > 0 ? estimateCompare(withSweepForm, true, activeBackend, speed) : null,
        thorough: estimateCompare({ ...form, ...THOROUGH_COMPARE }, false, activeBackend, speed),
      };
  const showTable = ranWith != null && (running || rows.length > 0);
  const partial = status === 'cancelled' || status === 'failed';
  // Quality from a handful of samples: say what its FD can and cannot tell.
  const measuredN = main.find((r) => r.quality)?.quality?.n;
  const smallN = measuredN != null && measuredN < SMALL_N ? measuredN : null;
  return (
    <Panel title="Compare" className="compare">
      <p className="compare-note">
        The pretrained pixel DDPM and LDM, sampled here on <strong>{activeBackend ?? 'the engine'}</strong> with the same settings: time, memory and quality side by side. Training pauses while this
        runs; starting training or sampling stops it.
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
          hint="Scored by the evaluation classifier. Few samples give a rough FD: read it beside the floor, real digits at the same N. 0: timing only."
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
        <button type="button" className="primary" onClick={() => run(false)} disabled={!canRun}>
          Compare
        </button>
        <button type="button" onClick={() => run(true)} disabled={!canRun || 'error' in sweep}>
          Compare and sweep
        </button>
        <button type="button" onClick={thorough} disabled={!canRunThorough}>
          Thorough run
        </button>
        <button type="button" className="danger" onClick={stop} disabled={!running || stopping}>
          Stop comparing
        </button>
        <button type="button" onClick={() => client.downloadCompare()} disabled={running || rows.length === 0}>
          Download results (JSON)
        </button>
        {!running && !hasSize(form, QUICK_COMPARE) ? (
          <button type="button" onClick={quickSettings}>
            Quick settings
          </button>
        ) : null}
      </div>
      {!running && estimates ? (
        <p className="compare-estimate" aria-label="Compare estimate">
          <strong>Estimated time</strong> on {backendName}: Compare {aboutDuration(estimates.compare.seconds)}
          {estimates.sweep ? <> · Compare and sweep {aboutDuration(estimates.sweep.seconds)}</> : null}
          {hasSize(form, THOROUGH_COMPARE) ? null : (
            <>
              {' '}
              · Thorough run ({describeSize(form.sampler, THOROUGH_COMPARE)}) {aboutDuration(estimates.thorough.seconds)}
            </>
          )}
          . <EstimateBasis estimate={estimates.compare} backend={backendName} />
        </p>
      ) : null}
      {evalRun ? null : (
        <>
          <CompareProgress status={status} stopping={stopping} progress={progress} />
          <CompareSummary status={status} backend={backend} startedAt={startedAt} endedAt={endedAt} measured={main.length} expected={MODELS.length} sweepRows={rows.length - main.length} />
          {status === 'failed' && message ? <CompareError message={message} /> : null}
        </>
      )}
      {showTable && ranWith && !evalRun ? (
        <CompareTable
          caption={`${samplerStepsLabel(ranWith.sampler, ranWith.steps)}, batch ${ranWith.batch}, on ${backend ?? activeBackend}${partial ? ' · partial results: the run stopped before every row was measured' : ''}`}
          rows={main}
          running={running}
        />
      ) : null}
      {ratios ? (
        <p className="compare-ratios" aria-label="LDM against pixel DDPM">
          LDM: {ratios.speedup.toFixed(1)}× the pixel DDPM&apos;s speed per image, {ratios.memory.toFixed(2)}× its peak memory.
        </p>
      ) : null}
      {why ? <CompareExplain why={why} /> : null}
      {smallN != null ? (
        <p className="compare-note compare-caution">
          With only {smallN} samples per model, FD mostly measures how few they are: the floor (real digits at the same N) is almost as far. Read the time and memory here; for FD
          that tells the models apart, use the Thorough run ({THOROUGH_COMPARE.qualityImages} samples).
        </p>
      ) : null}
      {evalRun ? null : <CompareChart rows={rows.filter((r) => r.sweep)} partial={partial && (ranWith?.sweepSteps.length ?? 0) > 0} />}
      <EvaluationsForm canRun={engineReady && !running && !invalid} running={running} onRun={runEvaluations} />
      {evalRun && ranWith ? (
        <>
          <CompareProgress status={status} stopping={stopping} progress={progress} />
          {running ? (
            <div className="buttons">
              <button type="button" className="danger" onClick={stop} disabled={stopping}>
                Stop evaluations
              </button>
            </div>
          ) : null}
          <CompareSummary status={status} backend={backend} startedAt={startedAt} endedAt={endedAt} measured={rows.length} expected={ranWith.evaluations!.cases.length} sweepRows={0} what="configurations" />
          {status === 'failed' && message ? <CompareError message={message} /> : null}
          {rows.length > 0 || running ? <EvaluationsResults rows={rows} ranWith={ranWith} status={status} backend={backend} /> : null}
        </>
      ) : null}
    </Panel>
  );
}

/** Where an estimate comes from, in words: it is an estimate either way. */
function EstimateBasis({ estimate, backend }: { estimate: CompareEstimate; backend: string }) {
  return estimate.basis === 'measured' ? (
    <span className="compare-basis">Estimates, scaled from the last run&apos;s measured time per image on {backend}.</span>
  ) : (
    <span className="compare-basis">Rough estimates from the models&apos; FLOPs at a typical speed for {backend}; a first run measures the real speed.</span>
  );
}

function SweepField({ text, error, onChange, disabled }: { text: string; error: string | null; onChange: (t: string) => void; disabled: boolean }) {
  return (
    <div className={`field field--wide${error ? ' field--invalid' : ''}`}>
      <label htmlFor="compare-sweep">Sweep step counts</label>
      <input id="compare-sweep" type="text" value={text} disabled={disabled} aria-invalid={error ? true : undefined} aria-describedby={error ? 'compare-sweep-err' : 'compare-sweep-hint'} onChange={(e) => onChange(e.target.value)} />
      {error ? (
        <p className="field-error" id="compare-sweep-err">
          {error}
        </p>
      ) : (
        <p className="field-hint" id="compare-sweep-hint">
          &quot;Compare and sweep&quot; also runs every sampler at each of these step counts, for the chart of quality against time.
        </p>
      )}
    </div>
  );
}
