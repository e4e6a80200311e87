import { SCHEDULE_KINDS, type ScheduleConfig } from '../diffusion/config';
import { scheduleProblem, validateBeta, validateT } from '../state/validate';
import { useApp, useEngine } from './context';
import { MathNote } from './Equation';
import { CheckboxField, NumberField, Panel, SelectField } from './fields';
import { SCHEDULE_TEX } from './MathNotes';
import { ScheduleCharts } from './ScheduleChart';

const KIND_LABELS: Record<ScheduleConfig['kind'], string> = {
  linear: 'linear (Ho et al.)',
  cosine: 'cosine (Nichol & Dhariwal)',
  sigmoid: 'sigmoid',
  quadratic: 'quadratic',
};

/** Noise schedule: kind, T, β range, zero terminal SNR; plots of the chosen schedule against the others, and its equations. */
export function SchedulePanel() {
  const client = useEngine();
  const schedule = useApp((s) => (s.pendingSetup ?? s.setup).schedule);
  const update = (patch: Partial<ScheduleConfig>) => client.updateSetup((m) => ({ ...m, schedule: { ...m.schedule, ...patch } }));
  const usesBetas = schedule.kind !== 'cosine';
  const problem = usesBetas ? scheduleProblem(schedule.betaStart, schedule.betaEnd) : null;

  return (
    <Panel title="Schedule">
      <div className="grid2">
        <SelectField
          wide
          label="Schedule kind"
          value={schedule.kind}
          options={SCHEDULE_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))}
          onChange={(kind) => update({ kind })}
        />
        <NumberField label="Diffusion steps T" value={schedule.T} step={1} min={10} max={1000} validate={validateT} onCommit={(T) => update({ T })} />
        <NumberField
          label="β start"
          value={schedule.betaStart}
          step={0.0001}
          validate={validateBeta}
          disabled={!usesBetas}
          onCommit={(betaStart) => update({ betaStart })}
        />
        <NumberField label="β end" value={schedule.betaEnd} step={0.001} validate={validateBeta} disabled={!usesBetas} onCommit={(betaEnd) => update({ betaEnd })} />
      </div>
      {problem ? <p className="field-error">{problem}</p> : null}
      <p className="field-hint">{usesBetas ? 'β values are given for T = 1000 and scaled by 1000 / T.' : 'The cosine schedule has no β range.'}</p>
      <CheckboxField
        label="Rescale to zero terminal SNR"
        checked={schedule.rescaleZeroTerminalSnr}
        onChange={(rescaleZeroTerminalSnr) => update({ rescaleZeroTerminalSnr })}
      />
      <ScheduleCharts config={schedule} />
      <MathNote title="From β to ᾱ and the signal-to-noise ratio" tex={SCHEDULE_TEX}>
        β_t is how much noise step t adds. ᾱ_t is how much of the original digit survives after t steps: it starts near 1 and should end
        near 0, so that the last step is (almost) pure noise. The log-SNR compares signal to noise on one axis.
      </MathNote>
    </Panel>
  );
}
