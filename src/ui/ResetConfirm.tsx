import type { ModelKind } from '../models/setup/model-setup';
import { describeModel, keepableAs } from '../state/model-words';
import { setupChanges, toOtherPretrained } from '../state/setup-sync';
import { setupProblem } from '../state/validate';
import { useApp, useEngine } from './context';
import { formatBytes } from './format';
import './share.css';

const KIND_NAMES: Record<ModelKind, string> = { pixel: 'pixel DDPM', latent: 'latent diffusion model (LDM)' };

/**
 * Asks before a setup change replaces a trained (or pretrained) model, and says what becomes of
 * it: it is put aside, and Undo brings it back.
 */
function ConfirmChange() {
  const client = useEngine();
  const pending = useApp((s) => s.pendingSetup);
  const setup = useApp((s) => s.setup);
  const running = useApp((s) => s.train.state === 'running');
  const keep = useApp((s) => s.keep);
  const current = useApp((s) => describeModel(s).label);
  const via = useApp((s) => keepableAs(s));
  const otherPretrained = useApp((s) => s.pendingSetup !== null && toOtherPretrained(s, s.pendingSetup));
  if (!pending) return null;
  const problem = setupProblem(pending);
  const changes = setupChanges(setup, pending);
  const saving = keep.status === 'saving';
  const kept = keep.kept;
  // An untouched pretrained model does not take the place of a kept trained one (it can be loaded again any time).
  const keepsCurrent = via === 'files' || (via === 'pretrained' && kept?.via !== 'files');

  let fate: string;
  if (keepsCurrent) fate = `Your current model, ${current}, will be kept: press Undo to go back to it.`;
  else if (via === 'pretrained') fate = `Nothing is lost: ${current} loads again from Model source → Pretrained, and ${kept?.label ?? 'the model kept earlier'} stays kept for Undo.`;
  else fate = 'The current weights are untrained: nothing is lost.';

  return (
    <div className="confirm" role="group" aria-label="Confirm model change">
      <p>
        <strong>This changes the model: reset training?</strong>
      </p>
      {changes.length > 0 ? (
        <ul className="confirm-changes" aria-label="Setup changes">
          {changes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
      ) : null}
      <p>
        {fate}
        {running ? ' Training is running: it stops, and the model is kept at the step it reached.' : null}
        {keepsCurrent && via === 'files' && kept?.via === 'files' ? ` ${capital(kept.label)}, kept earlier, is then forgotten (export it first to keep it too).` : null}
      </p>
      {problem ? <p className="field-error">Fix the setting first: {problem}</p> : null}
      {saving ? (
        <p className="field-hint" role="status">
          Keeping the current model…
        </p>
      ) : null}
      {keep.message ? (
        <p className="field-error" role="alert">
          {keep.message}
        </p>
      ) : null}
      <div className="buttons">
        <button type="button" className="danger" disabled={problem !== null || saving} onClick={() => client.confirmReset()}>
          {otherPretrained ? `Reset: load the pretrained ${KIND_NAMES[pending.kind]}` : 'Reset to fresh weights'}
        </button>
        <button type="button" disabled={saving} onClick={() => client.keepModel()}>
          Keep using this model
        </button>
        {keep.message && !saving ? (
          <button type="button" className="danger" disabled={problem !== null} onClick={() => client.confirmReset(false)}>
            Discard it and change
          </button>
        ) : null}
      </div>
    </div>
  );
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The previous model, kept after a change: one click brings it back (and puts the current one aside in its place). */
function KeptModelBar() {
  const client = useEngine();
  const keep = useApp((s) => s.keep);
  const pending = useApp((s) => s.pendingSetup !== null);
  const current = useApp((s) => (keepableAs(s) === null ? null : describeModel(s).label));
  const running = useApp((s) => s.train.state === 'running' || s.sample.state === 'running');
  const { kept, status, message } = keep;
  if (status === 'restoring') {
    return (
      <p className="kept-model" role="status" aria-label="Previous model">
        Switching back to the previous model…
      </p>
    );
  }
  if (!kept) {
    // A failed switch back with nothing left to offer (a failed keep shows in the confirmation).
    return message && !pending ? (
      <p className="kept-model field-error" role="alert" aria-label="Previous model">
        {message}
      </p>
    ) : null;
  }
  const busy = status !== 'idle';
  const where = kept.via === 'files' ? `its files, ${formatBytes(kept.bytes)}, are held in this tab` : 'it loads again from its files';
  return (
    <div className="kept-model" role="group" aria-label="Previous model">
      <p>
        <strong>Previous model kept:</strong> {kept.label} ({where}).
      </p>
      <p className="field-hint">
        {current
          ? `Switching back puts the current model, ${current}, aside in its place: you can swap again.`
          : 'The current weights are untrained: switching back undoes the change.'}
        {running ? ' Training or sampling stops first.' : null}
      </p>
      {message && !pending ? <p className="field-error">{message}</p> : null}
      <div className="buttons">
        <button type="button" className="primary" disabled={busy} onClick={() => client.switchBack()}>
          Undo: switch back to {kept.name}
        </button>
        <button type="button" disabled={busy} onClick={() => client.forgetKept()}>
          Forget it
        </button>
      </div>
    </div>
  );
}

/** Above the setup: the confirmation of a model change, and the previous model to switch back to. */
export function ResetConfirm() {
  return (
    <>
      <ConfirmChange />
      <KeptModelBar />
    </>
  );
}
