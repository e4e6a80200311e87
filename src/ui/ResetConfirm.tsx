import { setupProblem } from '../state/validate';
import { useApp, useEngine } from './context';

/** Asks before a setup change throws away (or would silently mix with) a trained model. */
export function ResetConfirm() {
  const client = useEngine();
  const pending = useApp((s) => s.pendingSetup !== null);
  const problem = useApp((s) => (s.pendingSetup ? setupProblem(s.pendingSetup) : null));
  const running = useApp((s) => s.train.state === 'running');
  if (!pending) return null;
  return (
    <div className="confirm" role="group" aria-label="Confirm model change">
      <p>
        <strong>This changes the model: reset training?</strong>{' '}
        {running ? 'Training is running; ' : 'The trained weights '}
        {running ? 'resetting stops it and discards the weights.' : 'will be discarded.'}
      </p>
      {problem ? <p className="field-error">Fix the setting first: {problem}</p> : null}
      <div className="buttons">
        <button type="button" className="danger" disabled={problem !== null} onClick={() => client.confirmReset()}>
          Reset
        </button>
        <button type="button" onClick={() => client.keepModel()}>
          Keep
        </button>
      </div>
    </div>
  );
}
