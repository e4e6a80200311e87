import { SCHEDULE_KINDS, type ScheduleKind } from '../../diffusion/config';
import type { LabObjective } from '../../protocol/lab-messages';
import { LAB_LIMITS, type LabPrediction } from '../../state/lab/lab-settings';
import { integerIn, numberIn } from '../../state/validate';
import { useEngine } from '../context';
import { formatCount } from '../format';
import { NumberField, Panel, SelectField } from '../fields';
import { useLab, useSetting } from './use-lab';

const OBJECTIVES: { value: LabObjective; label: string }[] = [
  { value: 'diffusion', label: 'Diffusion (DDPM)' },
  { value: 'flow', label: 'Flow matching (rectified flow)' },
];
const PREDICTIONS: { value: LabPrediction; label: string }[] = [
  { value: 'epsilon', label: 'ε (the noise)' },
  { value: 'x0', label: 'x₀ (the clean point)' },
  { value: 'v', label: 'v (velocity)' },
];
const SCHEDULES = SCHEDULE_KINDS.map((value) => ({ value, label: value }));
const validateWidth = integerIn(...LAB_LIMITS.width, 'Width');
const validateDepth = integerIn(...LAB_LIMITS.depth, 'Depth');
const validateT = integerIn(...LAB_LIMITS.T, 'T');
const validateSnr = numberIn(...LAB_LIMITS.minSnr, 'Min-SNR γ');

/** The objective and the MLP denoiser; a change here starts a fresh model. */
export function ModelControls() {
  const lab = useEngine().lab;
  const objective = useSetting('objective');
  const prediction = useSetting('prediction');
  const minSnr = useSetting('minSnr');
  const schedule = useSetting('schedule');
  const T = useSetting('T');
  const width = useSetting('width');
  const depth = useSetting('depth');
  const params = useLab((s) => s.model?.paramCount ?? null);
  const diffusion = objective === 'diffusion';
  return (
    <Panel title="Lab model" className="lab-panel">
      <div className="grid2">
        <SelectField label="Objective" value={objective} options={OBJECTIVES} wide onChange={(v) => lab.update({ objective: v })} />
        {diffusion ? (
          <>
            <SelectField label="Prediction" value={prediction} options={PREDICTIONS} onChange={(v) => lab.update({ prediction: v })} />
            <NumberField label="Min-SNR γ (0: off)" value={minSnr} step={1} min={0} max={20} validate={validateSnr} onCommit={(v) => lab.update({ minSnr: v })} />
            <SelectField label="Schedule" value={schedule} options={SCHEDULES} onChange={(v: ScheduleKind) => lab.update({ schedule: v })} />
            <NumberField label="Diffusion steps T" value={T} step={1} min={10} max={1000} validate={validateT} onCommit={(v) => lab.update({ T: v })} />
          </>
        ) : null}
        <NumberField label="MLP width" value={width} step={1} min={LAB_LIMITS.width[0]} max={LAB_LIMITS.width[1]} validate={validateWidth} onCommit={(v) => lab.update({ width: v })} />
        <NumberField label="MLP depth (hidden layers)" value={depth} step={1} min={1} max={LAB_LIMITS.depth[1]} validate={validateDepth} onCommit={(v) => lab.update({ depth: v })} />
      </div>
      <p className="field-hint">
        Parameters: <strong aria-label="Lab parameter count">{params === null ? '–' : `${formatCount(params)} (${params.toLocaleString()})`}</strong>
        {diffusion ? ' · x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε' : ' · x_t = (1−t)·x₀ + t·ε, target ε − x₀'}
      </p>
    </Panel>
  );
}
