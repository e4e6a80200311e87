import { SAMPLER_KINDS, type SamplerKind } from '../diffusion/config';
import { sampleStepsValidator, setupProblem, validateEta, validateNumImages, validateSeed } from '../state/validate';
import { useApp, useEngine } from './context';
import { NumberField, Panel, SelectField } from './fields';

const SAMPLER_LABELS: Record<SamplerKind, string> = {
  ddpm: 'DDPM (ancestral)',
  ddim: 'DDIM',
  dpmpp: 'DPM-Solver++ (2M)',
};

/** Sampler settings, run buttons and the current reverse step. */
export function SamplingPanel() {
  const client = useEngine();
  const form = useApp((s) => s.sampling);
  const sample = useApp((s) => s.sample);
  const T = useApp((s) => s.setup.schedule.T);
  const setup = useApp((s) => s.setup);
  const ready = useApp((s) => s.engine.status === 'ready');
  const pending = useApp((s) => s.pendingSetup !== null);

  const validateSteps = sampleStepsValidator(T);
  const invalid =
    validateSteps(form.steps) ?? validateNumImages(form.numImages) ?? validateSeed(form.seed) ?? (form.kind === 'ddim' ? validateEta(form.eta) : null) ?? setupProblem(setup);
  const busy = sample.state === 'running' || sample.state === 'paused';
  const canSample = ready && !pending && !busy && invalid === null;

  return (
    <Panel title="Sampling">
      <div className="grid2">
        <SelectField
          label="Sampler"
          value={form.kind}
          options={SAMPLER_KINDS.map((k) => ({ value: k, label: SAMPLER_LABELS[k] }))}
          onChange={(kind) => client.setSampling({ kind })}
        />
        <NumberField label="Sampling steps" value={form.steps} step={1} min={1} max={T} validate={validateSteps} onCommit={(steps) => client.setSampling({ steps })} />
        <NumberField label="Number of images" value={form.numImages} step={1} min={1} max={64} validate={validateNumImages} onCommit={(numImages) => client.setSampling({ numImages })} />
        <NumberField label="Seed" value={form.seed} step={1} min={0} validate={validateSeed} onCommit={(seed) => client.setSampling({ seed })} />
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
      <dl className="run-facts">
        <div>
          <dt>State</dt>
          <dd aria-label="Sampling state">{sample.state}</dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd aria-label="Sampling step">{sample.total > 0 ? `${Math.min(sample.index + 1, sample.total)} / ${sample.total}` : '–'}</dd>
        </div>
        <div>
          <dt>t</dt>
          <dd aria-label="Diffusion time t">{sample.t === null ? '–' : sample.t}</dd>
        </div>
      </dl>
    </Panel>
  );
}
