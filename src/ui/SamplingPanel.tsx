import { useStore } from 'zustand';
import {
  DDPM_VARIANCES,
  DEFAULT_ATOL,
  DEFAULT_EARLY_STOP_THRESHOLD,
  DEFAULT_RTOL,
  SAMPLER_KINDS,
  SAMPLER_LABELS,
  TIMESTEP_SPACINGS,
  X0_CLIPPINGS,
  type DdpmVariance,
  type EarlyStopCriterion,
  type SamplerKind,
  type TimestepSpacing,
  type X0Clipping,
} from '../diffusion/config';
import { stageSteps } from '../state/store';
import { numberIn, sampleStepsValidator, setupProblem, validateEta, validateNumImages, validateSeed } from '../state/validate';
import { AdaptiveStepsChart } from './AdaptiveStepsChart';
import { useApp, useEngine } from './context';
import { CheckboxField, GuidanceSlider, NumberField, Panel, SelectField } from './fields';
import { formatDuration, formatMs, formatRate } from './format';
import { MoreSettings } from './MoreSettings';
import { runStatus, samplingSpeed } from '../state/run-caption';

/** The sampler menu's entries: each sampler's name with the variant implemented, where it has one. */
const SAMPLER_OPTION_LABELS: Record<SamplerKind, string> = {
  ddpm: `${SAMPLER_LABELS.ddpm} (ancestral)`,
  ddim: SAMPLER_LABELS.ddim,
  dpmpp: `${SAMPLER_LABELS.dpmpp} (2M)`,
};

/** The sampler menu's extra entry: the adaptive solver, which takes tolerances instead of a step count. */
const ADAPTIVE = 'adaptive';
type SamplerChoice = SamplerKind | typeof ADAPTIVE;

const validateRtol = numberIn(0, 1, 'Relative tolerance', { minExclusive: true });
const validateAtol = numberIn(0, 1, 'Absolute tolerance', { minExclusive: true });
const validateThreshold = numberIn(0, 10, 'Early-stop threshold', { minExclusive: true });

const EARLY_STOP_LABELS: Record<EarlyStopCriterion, string> = {
  noise: 'noise left in x_t ≤ threshold',
  change: 'x̂₀ changed ≤ threshold in a step',
};

const VARIANCE_LABELS: Record<DdpmVariance, string> = {
  beta: 'β (upper bound)',
  betaTilde: 'β̃ (posterior, lower bound)',
};

const SPACING_LABELS: Record<TimestepSpacing, string> = {
  linspace: 'linspace',
  leading: 'leading',
  trailing: 'trailing (reaches t = T)',
};

const CLIPPING_LABELS: Record<X0Clipping, string> = {
  none: 'none',
  clip: 'clip to [-1, 1]',
  dynamic: 'dynamic thresholding',
};

const DIGIT_OPTIONS = [{ value: 'any', label: 'any (0-9 across the grid)' }, ...Array.from({ length: 10 }, (_, d) => ({ value: String(d), label: String(d) }))];

/** Sampler settings, class and guidance, run buttons, the current reverse step and the run's wall time. */
export function SamplingPanel() {
  const client = useEngine();
  const form = useApp((s) => s.sampling);
  const sample = useApp((s) => s.sample);
  const T = useApp((s) => s.setup.schedule.T);
  const setup = useApp((s) => s.setup);
  const ready = useApp((s) => s.engine.status === 'ready');
  const pending = useApp((s) => s.pendingSetup !== null);
  const importing = useApp((s) => s.transfer === 'importing');
  const loadingPretrained = useApp((s) => s.pretrained.status === 'loading');
  const aeSteps = useApp((s) => stageSteps(s).autoencoder);
  const trainingAutoencoder = useApp((s) => (s.train.state === 'running' || s.train.state === 'paused') && s.train.stage === 'autoencoder');

  const summary = useStore(client.record.store, (r) => r.summary);
  const validateSteps = sampleStepsValidator(T);
  const adaptive = form.adaptive !== undefined && form.adaptive !== 'off';
  const rtol = form.rtol ?? DEFAULT_RTOL;
  const atol = form.atol ?? DEFAULT_ATOL;
  const earlyStop = form.earlyStop ?? 'off';
  const threshold = form.earlyStopThreshold ?? DEFAULT_EARLY_STOP_THRESHOLD;
  const invalid =
    (adaptive ? (validateRtol(rtol) ?? validateAtol(atol)) : validateSteps(form.steps)) ??
    (earlyStop !== 'off' ? validateThreshold(threshold) : null) ??
    validateNumImages(form.numImages) ??
    validateSeed(form.seed) ??
    (!adaptive && form.kind === 'ddim' ? validateEta(form.eta) : null) ??
    setupProblem(setup);
  const busy = sample.state === 'running' || sample.state === 'paused';
  const needsAutoencoder = setup.kind === 'latent' && (aeSteps === 0 || trainingAutoencoder);
  const canSample = ready && !pending && !busy && !importing && !loadingPretrained && !needsAutoencoder && invalid === null;
  const conditional = setup.classConditional;
  const status = runStatus(sample);
  // Per image only once the run is finished: while it runs, time so far / N would mislead.
  const perImage = status === 'finished' && sample.elapsedMs !== null && sample.numImages > 0 ? sample.elapsedMs / sample.numImages : null;
  const speed = busy ? samplingSpeed(sample) : null;
  const stepsDone = sample.total > 0 ? Math.min(sample.elapsedMs === null ? 0 : sample.index + 1, sample.total) : 0;

  return (
    <Panel title="Sampling">
      <div className="buttons">
        <button type="button" className="primary" disabled={!canSample} onClick={() => client.startSampling()}>
          Sample
        </button>
        <button type="button" disabled={sample.state !== 'running'} onClick={() => client.pauseSampling()}>
          Pause
        </button>
        <button type="button" disabled={sample.state !== 'paused'} onClick={() => client.resumeSampling()}>
          Resume
        </button>
        <button type="button" disabled={!busy} onClick={() => client.cancelSampling()}>
          Cancel
        </button>
      </div>
      {loadingPretrained && ready ? <p className="field-hint">Loading the pretrained model: Sample is ready as soon as it is here.</p> : null}
      {needsAutoencoder && ready && !pending && !loadingPretrained ? <p className="field-hint">A latent model samples once its autoencoder is trained (training stage 1, finished or stopped).</p> : null}
      {sample.adaptive ? (
        <progress className="progress" aria-label="Sampling progress" max={1} value={status === 'finished' ? 1 : undefined} />
      ) : (
        <progress className="progress" aria-label="Sampling progress" max={Math.max(1, sample.total)} value={stepsDone} />
      )}
      {/* Always there (empty before the first run), so the first run does not move the controls below it. */}
      <p className="field-hint run-line" aria-label="Last sampling run">
        {sample.caption ? `${sample.caption} — ${status}` : 'No sampling run yet.'}
      </p>
      <div className="grid2">
        <SelectField<SamplerChoice>
          label="Sampler"
          value={adaptive ? ADAPTIVE : form.kind}
          options={[...SAMPLER_KINDS.map((k) => ({ value: k, label: SAMPLER_OPTION_LABELS[k] })), { value: ADAPTIVE, label: 'Adaptive steps (tolerance)' }]}
          onChange={(v) => (v === ADAPTIVE ? client.setSampling({ adaptive: adaptive ? form.adaptive : '12' }) : client.setSampling({ kind: v, adaptive: 'off' }))}
        />
        {adaptive ? (
          <NumberField
            label="Tolerance (rtol)"
            value={rtol}
            step={0.01}
            min={0}
            max={1}
            validate={validateRtol}
            onCommit={(v) => client.setSampling({ rtol: v })}
            hint="The solver picks its own steps: looser = fewer model evaluations."
          />
        ) : (
          <NumberField label="Sampling steps" value={form.steps} step={1} min={1} max={T} validate={validateSteps} onCommit={(steps) => client.setSampling({ steps })} />
        )}
        {adaptive ? (
          <>
            <SelectField<'12' | '23' | 'sde'>
              label="Adaptive solver"
              value={form.adaptive === '23' || form.adaptive === 'sde' ? form.adaptive : '12'}
              options={[
                { value: '12', label: 'DPM-Solver-12 (ODE, 1st vs 2nd order)' },
                { value: '23', label: 'DPM-Solver-23 (ODE, 2nd vs 3rd order)' },
                { value: 'sde', label: 'Gotta Go Fast (SDE, Euler vs improved Euler)' },
              ]}
              onChange={(v) => client.setSampling({ adaptive: v })}
            />
            <NumberField label="Absolute tolerance (atol)" value={atol} step={0.001} min={0} max={1} validate={validateAtol} onCommit={(v) => client.setSampling({ atol: v })} />
          </>
        ) : null}
        <NumberField label="Number of images" value={form.numImages} step={1} min={1} max={64} validate={validateNumImages} onCommit={(numImages) => client.setSampling({ numImages })} />
        <NumberField label="Seed" value={form.seed} step={1} min={0} validate={validateSeed} onCommit={(seed) => client.setSampling({ seed })} />
        {conditional ? (
          <SelectField
            label="Digit"
            wide
            value={form.digit === null ? 'any' : String(form.digit)}
            options={DIGIT_OPTIONS}
            onChange={(v) => client.setSampling({ digit: v === 'any' ? null : Number(v) })}
          />
        ) : null}
      </div>
      <MoreSettings>
        <div className="grid2">
          <SelectField<TimestepSpacing>
            wide
            label="Timestep spacing"
            value={form.spacing}
            options={TIMESTEP_SPACINGS.map((s) => ({ value: s, label: SPACING_LABELS[s] }))}
            onChange={(spacing) => client.setSampling({ spacing })}
          />
          <SelectField<X0Clipping>
            wide
            label={setup.kind === 'latent' ? 'x₀ clipping (pixels only: off for latents)' : 'x₀ clipping'}
            value={setup.kind === 'latent' ? 'none' : form.clipping}
            options={X0_CLIPPINGS.map((c) => ({ value: c, label: CLIPPING_LABELS[c] }))}
            onChange={(clipping) => client.setSampling({ clipping })}
            disabled={setup.kind === 'latent'}
          />
          <SelectField<DdpmVariance>
            wide
            label="DDPM variance"
            value={form.ddpmVariance}
            options={DDPM_VARIANCES.map((v) => ({ value: v, label: VARIANCE_LABELS[v] }))}
            onChange={(ddpmVariance) => client.setSampling({ ddpmVariance })}
            disabled={form.kind !== 'ddpm'}
          />
          <NumberField
            label="DDIM η"
            value={form.eta}
            step={0.1}
            min={0}
            max={1}
            validate={validateEta}
            disabled={form.kind !== 'ddim'}
            onCommit={(eta) => client.setSampling({ eta })}
            hint={form.kind === 'ddim' ? '0 = deterministic, 1 = DDPM-like noise.' : 'Only used by DDIM.'}
          />
        </div>
      </MoreSettings>
      <div className="grid2">
        <CheckboxField label="Early stop" checked={earlyStop !== 'off'} disabled={form.adaptive === 'sde'} onChange={(on) => client.setSampling({ earlyStop: on ? 'noise' : 'off' })} />
        {form.adaptive === 'sde' ? <p className="field-hint">Early stopping applies to the ODE samplers, not to the SDE solver.</p> : null}
        {earlyStop !== 'off' ? (
          <>
            <SelectField<EarlyStopCriterion>
              label="Stop when"
              value={earlyStop}
              options={(['noise', 'change'] as const).map((c) => ({ value: c, label: EARLY_STOP_LABELS[c] }))}
              onChange={(c) => client.setSampling({ earlyStop: c })}
            />
            <NumberField
              label="Early-stop threshold"
              value={threshold}
              step={0.01}
              min={0}
              max={10}
              validate={validateThreshold}
              onCommit={(v) => client.setSampling({ earlyStopThreshold: v })}
              hint="RMS per pixel (or latent), in the model's units: the run returns x̂₀ once the measure is at or below it."
            />
          </>
        ) : null}
      </div>
      <GuidanceSlider value={form.guidance} disabled={!conditional} onChange={(guidance) => client.setSampling({ guidance })} />
      {setup.emaDecay > 0 ? <CheckboxField label="Use EMA weights" checked={form.useEma} onChange={(useEma) => client.setSampling({ useEma })} /> : null}
      <dl className="run-facts">
        <div>
          <dt>State</dt>
          <dd aria-label="Sampling state">{sample.state}</dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd aria-label="Sampling step">{sample.adaptive ? (sample.elapsedMs === null ? '–' : `${sample.index + 1}`) : sample.total > 0 ? `${Math.min(sample.index + 1, sample.total)} / ${sample.total}` : '–'}</dd>
        </div>
        <div>
          <dt>Evaluations</dt>
          <dd aria-label="Model evaluations">{sample.evaluations ?? '–'}</dd>
        </div>
        <div>
          <dt>t</dt>
          <dd aria-label="Diffusion time t">{sample.t === null ? '–' : sample.t}</dd>
        </div>
        <div>
          <dt>Steps/s</dt>
          <dd aria-label="Sampling steps per second">{speed ? formatRate(speed.stepsPerSec) : '–'}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd aria-label="Sampling time left">{speed && !sample.adaptive ? formatDuration(speed.etaSec) : '–'}</dd>
        </div>
        <div>
          <dt>Wall time</dt>
          <dd aria-label="Sampling wall time">{sample.elapsedMs === null ? '–' : formatMs(sample.elapsedMs)}</dd>
        </div>
        <div>
          <dt>Per image</dt>
          <dd aria-label="Time per image">{perImage === null ? '–' : formatMs(perImage)}</dd>
        </div>
      </dl>
      {summary ? <AdaptiveStepsChart summary={summary} /> : null}
    </Panel>
  );
}
