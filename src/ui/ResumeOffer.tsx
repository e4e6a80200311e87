import './recovery.css';
import { useStore } from 'zustand';
import { useApp, useEngine } from './context';
import { integerIn } from '../state/validate';
import type { CheckpointSummary } from '../state/checkpoint-store';

/** How often training checkpoints itself: 0 keeps only the start, pause and end checkpoints. */
export const validateCheckpointEvery = integerIn(0, 1_000_000, 'Checkpoint interval');

function describe(c: CheckpointSummary): string {
  const stage = c.kind === 'latent' ? ` (${c.stage === 'autoencoder' ? 'stage 1, autoencoder' : 'stage 2, latent denoiser'})` : '';
  return `the run of a ${c.kind} model${stage} started ${new Date(c.startedAt).toLocaleString()}, at step ${c.step.toLocaleString()} of ${c.totalSteps.toLocaleString()}, saved ${new Date(c.savedAt).toLocaleString()}`;
}

/**
 * The checkpoint of an earlier visit (or of a crashed tab), offered for resuming: Resume training
 * restores it (model, optimizer, steps, loss history) and goes on; Discard forgets it.
 */
export function ResumeOffer() {
  const client = useEngine();
  const offer = useApp((s) => s.recovery.offer);
  if (offer == null) return null;
  return (
    <section className="resume-offer" role="region" aria-label="Saved training">
      <p>
        <strong>Training from an earlier visit was saved:</strong> {describe(offer)}.
      </p>
      <div className="buttons">
        <button type="button" className="primary" onClick={() => client.recovery.resumeOffered()}>
          Resume training
        </button>
        <button type="button" onClick={() => client.recovery.discardOffered()}>
          Discard
        </button>
      </div>
    </section>
  );
}

/** The last checkpoint of this visit, under the run facts. */
export function LastCheckpoint() {
  const last = useApp((s) => s.recovery.last);
  const restoring = useApp((s) => s.recovery.restoring);
  const off = useStore(useEngine().recovery.storage, (s) => s.off);
  return (
    <>
      <p className="field-hint" aria-label="Last checkpoint">
        {restoring ? 'Restoring the checkpoint…' : last ? `Checkpoint: step ${last.step.toLocaleString()} (${new Date(last.savedAt).toLocaleTimeString()})${off ? ', in this tab only' : ', kept in this browser'}.` : 'No checkpoint yet.'}
      </p>
      {off ? (
        <p className="field-hint field-warning" role="status" aria-label="Checkpoints">
          Checkpoints are off: {off}. Training goes on; export the model (Model files) to keep it.
        </p>
      ) : null}
    </>
  );
}
