import { LAB_LIMITS } from '../../state/lab/lab-settings';
import { integerIn, numberIn } from '../../state/validate';
import { useEngine } from '../context';
import { NumberField, Panel } from '../fields';
import { formatDuration, formatRate } from '../format';
import { LabLoss } from './LabLoss';
import { useLab, useSetting } from './use-lab';

const validateSteps = integerIn(...LAB_LIMITS.trainSteps, 'Steps');
const validateBatch = integerIn(...LAB_LIMITS.batch, 'Batch size');
const validateLr = numberIn(...LAB_LIMITS.learningRate, 'Learning rate');

/** Train / Pause / Reset, with speed, time left, progress and the live loss. */
export function TrainingControls() {
  const lab = useEngine().lab;
  const steps = useSetting('trainSteps');
  const batch = useSetting('batch');
  const lr = useSetting('learningRate');
  const state = useLab((s) => s.train.state);
  const step = useLab((s) => s.train.step);
  const total = useLab((s) => s.train.totalSteps || s.settings.trainSteps);
  const rate = useLab((s) => s.train.stepsPerSec);
  const eta = useLab((s) => s.train.etaSec);
  const seconds = useLab((s) => s.train.seconds);
  const connected = useLab((s) => s.connected);
  const running = state === 'running';
  return (
    <Panel title="Lab training" className="lab-panel">
      <div className="grid2 grid3">
        <NumberField label="Training steps" value={steps} step={100} min={1} validate={validateSteps} onCommit={(v) => lab.update({ trainSteps: v })} />
        <NumberField label="Batch" value={batch} step={1} min={8} validate={validateBatch} onCommit={(v) => lab.update({ batch: v })} />
        <NumberField label="Learning rate" value={lr} step="any" min={0} validate={validateLr} onCommit={(v) => lab.update({ learningRate: v })} />
      </div>
      <div className="buttons">
        {running ? (
          <button type="button" onClick={() => lab.pause()}>
            Pause
          </button>
        ) : (
          <button type="button" className="primary" disabled={!connected} onClick={() => lab.train()}>
            {state === 'paused' ? 'Resume' : 'Train'}
          </button>
        )}
        <button type="button" disabled={!connected || running} onClick={() => lab.reset()}>
          Reset
        </button>
      </div>
      <progress className="progress" aria-label="Lab training progress" max={Math.max(1, total)} value={Math.min(step, total)} />
      <dl className="run-facts">
        <div>
          <dt>State</dt>
          <dd aria-label="Lab training state">{state}</dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd aria-label="Lab training step">
            {step} / {total}
          </dd>
        </div>
        <div>
          <dt>Steps/s</dt>
          <dd aria-label="Lab steps per second">{running ? formatRate(rate) : '–'}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd aria-label="Lab time left">{running ? formatDuration(eta) : '–'}</dd>
        </div>
        <div>
          <dt>Trained for</dt>
          <dd aria-label="Lab training time">{seconds > 0 ? `${seconds.toFixed(1)} s` : '–'}</dd>
        </div>
      </dl>
      <LabLoss />
    </Panel>
  );
}
