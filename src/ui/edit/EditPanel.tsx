/**
 * Edit with the model (issue 21): draw, pick or upload a digit, then SDEdit it, inpaint it or
 * interpolate, in pixel and in latent space. Runs stream into the denoising player like sampling
 * runs; the form lives in the URL (`edit.*`).
 */
import { useId, useMemo } from 'react';
import { makeTimesteps } from '../../diffusion/timesteps';
import { sdeditPlan } from '../../diffusion/sdedit-plan';
import { formProblem, type EditForm } from '../../state/edit/edit-form';
import type { EditMode, InpaintMethodKind, InterpolationKind } from '../../sampling/edit-config';
import { samplingSpeed } from '../../state/run-caption';
import { useApp, useEngine } from '../context';
import { NumberField, SelectField } from '../fields';
import { tryMakeSchedule } from '../schedule-plot';
import { EditResults } from './EditResults';
import { InputPad } from './InputPad';
import { useEdit } from './use-edit';
import './edit.css';

const MODES: { value: EditMode; label: string }[] = [
  { value: 'sdedit', label: 'SDEdit (noise it, then denoise)' },
  { value: 'inpaint', label: 'Inpaint (regenerate a masked part)' },
  { value: 'interpolate', label: 'Interpolate' },
];
const INPAINT_METHOD_OPTIONS: { value: InpaintMethodKind; label: string }[] = [
  { value: 'ddnm', label: 'DDNM (x̂0 takes the kept part)' },
  { value: 'dps', label: 'DPS (gradient through the model, about 2.5× slower)' },
  { value: 'replacement', label: 'Replacement (x_t takes the kept part, re-noised)' },
];
const INTERPOLATIONS: { value: InterpolationKind; label: string }[] = [
  { value: 'seeds', label: 'Two noise seeds (slerp)' },
  { value: 'inputs', label: 'Two inputs (DDIM inversion + slerp)' },
  { value: 'classes', label: 'Two class labels' },
];
const DIGITS = [{ value: 'any', label: 'Unknown' }, ...Array.from({ length: 10 }, (_, d) => ({ value: String(d), label: String(d) }))];
const any = (v: number | null) => (v === null ? 'any' : String(v));
const fromAny = (v: string) => (v === 'any' ? null : Number(v));
const ok = () => null;

function StrengthSlider({ form, set }: { form: EditForm; set: (p: Partial<EditForm>) => void }) {
  const id = useId();
  const setup = useApp((s) => s.setup);
  const sampler = useApp((s) => s.sampling);
  const schedule = useMemo(() => tryMakeSchedule(setup.schedule), [setup.schedule]);
  const T = schedule?.T ?? 1000;
  const plan = useMemo(() => {
    if (!schedule || !(Number.isInteger(form.steps) && form.steps >= 1 && form.steps <= T)) return null;
    return sdeditPlan(schedule, makeTimesteps(T, form.steps, sampler.spacing, sampler.kind === 'dpmpp'), form.strength);
  }, [schedule, T, form.steps, form.strength, sampler.spacing, sampler.kind]);
  const words = !plan
    ? ''
    : plan.steps === 0
      ? 'nothing runs: the result is the input'
      : plan.full
        ? `all ${plan.steps} steps from pure noise: ordinary sampling`
        : `t0 = ${plan.t0 + 1}, ᾱ_t0 = ${plan.alphaBar.toFixed(3)} (√ᾱ = ${Math.sqrt(plan.alphaBar).toFixed(2)} of the input is left), ${plan.steps} of ${form.steps} steps run`;
  return (
    <div className="field field--range field--wide">
      <label htmlFor={id}>Strength t0</label>
      <div className="range-row">
        <input id={id} type="range" min={0} max={T} step={Math.max(1, Math.round(T / 100))} value={Math.round(form.strength * T)} onChange={(e) => set({ strength: Number(e.target.value) / T })} />
        <output htmlFor={id} aria-label="Strength t0 value">
          {Math.round(form.strength * T)} / {T}
        </output>
      </div>
      <p className="field-hint" aria-label="SDEdit start">
        {words}
      </p>
    </div>
  );
}

function Progress() {
  const running = useEdit((s) => s.running);
  const inverting = useEdit((s) => s.inverting);
  const sample = useApp((s) => s.sample);
  if (running === null) return null;
  let text = 'starting…';
  if (inverting) {
    const rate = inverting.done / Math.max(inverting.elapsedMs / 1000, 1e-3);
    text = `DDIM inversion: step ${inverting.done} / ${inverting.total} · ${rate.toFixed(1)} steps/s · ${Math.ceil((inverting.total - inverting.done) / rate)} s left`;
  } else {
    const speed = samplingSpeed(sample);
    if (speed) text = `step ${Math.min(sample.index + 1, sample.total)} / ${sample.total} · ${speed.stepsPerSec.toFixed(1)} steps/s · ${Math.ceil(speed.etaSec)} s left`;
  }
  return (
    <p className="field-hint" role="status" aria-label="Edit progress">
      {text}
    </p>
  );
}

export function EditPanel() {
  const client = useEngine();
  const edit = client.edit;
  const form = useEdit((s) => s.form);
  const running = useEdit((s) => s.running);
  const hasSecond = useEdit((s) => s.input2 !== null);
  const setup = useApp((s) => s.setup);
  const pretrained = useApp((s) => s.pretrained);
  const ready = useApp((s) => s.engine.status === 'ready');
  const samplingBusy = useApp((s) => s.sample.state === 'running' || s.sample.state === 'paused');
  const aeReady = useApp((s) => s.setup.kind !== 'latent' || (s.model?.autoencoderSteps ?? 0) > 0);
  const set = (p: Partial<EditForm>) => edit.setForm(p);
  const problem = formProblem(form, setup.schedule.T);
  const loading = pretrained.status === 'loading';
  const canRun = ready && !loading && !samplingBusy && aeReady && problem === null;
  const conditional = setup.classConditional;
  const modelWords = `${setup.kind === 'latent' ? `LDM (${setup.latent.denoiser})` : `pixel DDPM (${setup.preset})`}${pretrained.source === 'pretrained' ? ', pretrained' : ''}${loading ? ' — loading…' : ''}`;

  return (
    <section className="panel panel--edit" aria-labelledby="edit-title">
      <h2 id="edit-title">Edit</h2>
      <div className="grid2">
        <SelectField label="Model to edit with" value={setup.kind} options={[{ value: 'pixel', label: 'Pixel DDPM' }, { value: 'latent', label: 'Latent diffusion (LDM)' }]} onChange={(k) => client.loadPretrained(k)} disabled={running !== null} />
        <p className="field-hint" aria-label="Edit model in use">
          {modelWords}
        </p>
      </div>
      <InputPad />
      <div className="grid2">
        <SelectField label="Edit mode" value={form.mode} options={MODES} onChange={(mode) => set({ mode })} wide />
        {form.mode === 'sdedit' ? <StrengthSlider form={form} set={set} /> : null}
        {form.mode === 'inpaint' ? (
          <>
            <SelectField label="Inpainting method" value={form.inpaintMethod} options={INPAINT_METHOD_OPTIONS} onChange={(inpaintMethod) => set({ inpaintMethod })} wide />
            {form.inpaintMethod === 'dps' ? <NumberField label="DPS step ζ" value={form.dpsScale} step={0.5} min={0} max={100} validate={ok} onCommit={(dpsScale) => set({ dpsScale })} hint="Pull toward x̂0 matching the kept part; 0: none" /> : null}
            <NumberField label="Jump length j" value={form.jump} step={1} min={1} validate={ok} onCommit={(jump) => set({ jump })} hint="RePaint / DDNM+ time travel: steps down before going back up" />
            <NumberField label="Resample count r" value={form.resample} step={1} min={1} max={20} validate={ok} onCommit={(resample) => set({ resample })} hint="1: no jumps; more: RePaint's resampling (DDNM+'s time travel)" />
          </>
        ) : null}
        {form.mode === 'interpolate' ? (
          <>
            <SelectField label="Interpolate between" value={form.interpolation} options={INTERPOLATIONS} onChange={(interpolation) => set({ interpolation })} wide />
            <NumberField label="Frames" value={form.frames} step={1} min={8} max={16} validate={ok} onCommit={(frames) => set({ frames })} />
            {form.interpolation === 'seeds' ? <NumberField label="Second seed" value={form.seed2} step={1} min={0} validate={ok} onCommit={(seed2) => set({ seed2 })} /> : null}
            {form.interpolation === 'classes' ? <SelectField label="Second class" value={any(form.digit2)} options={DIGITS.slice(1)} onChange={(v) => set({ digit2: fromAny(v) })} /> : null}
            {form.interpolation === 'inputs' ? (
              <div className="field">
                <button type="button" onClick={() => edit.keepAsSecond()}>
                  Use this input as the second
                </button>
                <p className="field-hint">{hasSecond ? 'Second input set: now draw or pick the first.' : 'No second input yet: the strip then runs from the input to itself.'}</p>
              </div>
            ) : null}
          </>
        ) : null}
        <NumberField label="Edit steps" value={form.steps} step={1} min={1} validate={ok} onCommit={(steps) => set({ steps })} hint="Of the whole trajectory, with the Sampling panel's sampler" />
        {form.mode !== 'interpolate' ? <NumberField label="Seeds at once" value={form.seeds} step={1} min={1} max={16} validate={ok} onCommit={(seeds) => set({ seeds })} /> : null}
        <NumberField label="Edit seed" value={form.seed} step={1} min={0} validate={ok} onCommit={(seed) => set({ seed })} />
        {conditional ? <SelectField label={form.mode === 'interpolate' && form.interpolation === 'classes' ? 'First class' : 'Class'} value={any(form.digit)} options={DIGITS} onChange={(v) => set({ digit: fromAny(v) })} /> : null}
        {conditional ? <NumberField label="Edit guidance w" value={form.guidance} step={0.1} min={0} validate={ok} onCommit={(guidance) => set({ guidance })} hint={form.digit === null && !(form.mode === 'interpolate' && form.interpolation === 'classes') ? 'No effect while the class is unknown' : undefined} /> : null}
      </div>
      {problem ? <p className="field-error">{problem}</p> : null}
      <div className="buttons">
        <button type="button" className="primary" disabled={!canRun} onClick={() => edit.start()}>
          Run edit
        </button>
        <button type="button" disabled={running === null} onClick={() => edit.cancel()}>
          Cancel edit
        </button>
      </div>
      <Progress />
      <EditResults />
    </section>
  );
}
