import { setupProblem, validateBatchSize, validateLearningRate, validatePreviewEvery, validateTrainSteps } from '../state/validate';
import { useApp, useEngine } from './context';
import { formatDuration, formatRate } from './format';
import { NumberField, Panel } from './fields';

/** Training settings, run buttons, speed and progress. */
export function TrainingPanel() {
  const client = useEngine();
  const form = useApp((s) => s.training);
  const train = useApp((s) => s.train);
  const ready = useApp((s) => s.engine.status === 'ready');
  const pending = useApp((s) => s.pendingSetup !== null);
  const setup = useApp((s) => s.setup);

  const invalid =
    validateLearningRate(form.learningRate) ??
    validateBatchSize(form.batchSize) ??
    validateTrainSteps(form.steps) ??
    validatePreviewEvery(form.previewEvery) ??
    setupProblem(setup);
  const total = train.totalSteps || (Number.isFinite(form.steps) ? form.steps : 0);
  const alreadyThere = train.state === 'done' && form.steps <= train.step;
  const canStart = ready && !pending && invalid === null && (train.state === 'idle' || (train.state === 'done' && !alreadyThere));
  const trained = train.state !== 'idle' || train.step > 0;

  let why: string | null = null;
  if (!ready) why = 'Waiting for the engine…';
  else if (pending) why = 'Confirm or keep the model change first.';
  else if (alreadyThere) why = `Training is done: raise Steps above ${train.step} to continue.`;

  return (
    <Panel title="Training">
      <div className="grid2">
        <NumberField label="Learning rate" value={form.learningRate} step={0.0001} validate={validateLearningRate} onCommit={(learningRate) => client.setTraining({ learningRate })} />
        <NumberField label="Batch size" value={form.batchSize} step={1} min={1} max={256} validate={validateBatchSize} onCommit={(batchSize) => client.setTraining({ batchSize })} />
        <NumberField label="Steps" value={form.steps} step={1} min={1} validate={validateTrainSteps} onCommit={(steps) => client.setTraining({ steps })} />
        <NumberField
          label="Preview every N steps"
          value={form.previewEvery}
          step={1}
          min={0}
          validate={validatePreviewEvery}
          onCommit={(previewEvery) => client.setTraining({ previewEvery })}
          hint="0 turns previews off."
        />
      </div>
      <div className="buttons">
        <button type="button" className="primary" disabled={!canStart} onClick={() => client.startTraining()}>
          Start
        </button>
        <button type="button" disabled={train.state !== 'running'} onClick={() => client.pauseTraining()}>
          Pause
        </button>
        <button type="button" disabled={train.state !== 'paused'} onClick={() => client.resumeTraining()}>
          Resume
        </button>
        <button type="button" className="danger" disabled={!trained} onClick={() => client.resetTraining()}>
          Reset
        </button>
      </div>
      {why ? <p className="field-hint">{why}</p> : null}
      <progress className="progress" aria-label="Training progress" max={Math.max(1, total)} value={Math.min(train.step, total)} />
      <dl className="run-facts">
        <div>
          <dt>State</dt>
          <dd aria-label="Training state">{train.state}</dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd aria-label="Training step">
            {train.step} / {total}
          </dd>
        </div>
        <div>
          <dt>Steps/s</dt>
          <dd aria-label="Steps per second">{train.state === 'running' ? formatRate(train.stepsPerSec) : '–'}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd aria-label="Time left">{train.state === 'running' ? formatDuration(train.etaSec) : '–'}</dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd aria-label="Last loss">{train.lastLoss === null ? '–' : train.lastLoss.toFixed(4)}</dd>
        </div>
      </dl>
    </Panel>
  );
}
