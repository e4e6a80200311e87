/**
 * The Compare panel's run status: progress (phase, steps or digits done, rate, time left), what a
 * finished or stopped run kept, and an error. Shared by the pixel-against-LDM run and the
 * quality-against-evaluations run.
 */
import type { CompareState } from '../state/compare';
import { formatDuration, formatRate } from './format';

/** "about 45 s", "about 19 min": an estimate, rounded as one. */
export function aboutDuration(sec: number): string {
  if (!Number.isFinite(sec)) return 'unknown';
  if (sec < 10) return 'a few seconds';
  if (sec < 60) return `about ${Math.round(sec / 5) * 5} s`;
  if (sec < 3600) return `about ${Math.round(sec / 60)} min`;
  return `about ${(sec / 3600).toFixed(1)} h`;
}

/** "Pixel DDPM, DDIM-20": the worker's phase names, capitalised. */
function phaseText(phase: string | undefined): string {
  if (!phase) return 'Starting';
  return phase.charAt(0).toUpperCase() + phase.slice(1);
}

export function CompareProgress({ status, stopping, progress }: { status: CompareState['status']; stopping: boolean; progress: CompareState['progress'] }) {
  if (status !== 'running') return null;
  const total = Math.max(1, progress?.total ?? 1);
  const unit = progress?.unit ?? 'steps';
  const counting = progress != null && progress.total > 0;
  const text = stopping
    ? 'Stopping…'
    : [
        phaseText(progress?.phase),
        counting ? `${progress.done.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')} ${unit}` : null,
        counting ? `${formatRate(progress.stepsPerSec)} ${unit}/s` : null,
        counting ? `${formatDuration(progress.etaSec)} left` : null,
      ]
        .filter(Boolean)
        .join(' · ');
  return (
    <div className="compare-progress">
      <progress aria-label="Compare progress" max={total} value={Math.min(progress?.done ?? 0, total)} />
      <p
        aria-label="Compare status"
        aria-live="polite"
        className={`compare-status${stopping ? ' compare-status--stopping' : ''}`}
        title="A sampler step denoises one batch; each model runs a warm-up batch, the timed batches and the quality batches."
      >
        {text}
      </p>
    </div>
  );
}

export function CompareError({ message }: { message: string }) {
  return (
    <p className="compare-error" role="alert" aria-label="Compare error">
      {message}
    </p>
  );
}

/** After a run: how long it took; after a stop, which rows were kept. */
export function CompareSummary(props: { status: CompareState['status']; backend: string | null; startedAt: number | null; endedAt: number | null; measured: number; expected: number; sweepRows: number; what?: string }) {
  const { status, backend, startedAt, endedAt, measured, expected, sweepRows, what = 'models' } = props;
  if (status !== 'done' && status !== 'cancelled') return null;
  const took = startedAt != null && endedAt != null ? formatDuration((endedAt - startedAt) / 1000) : null;
  if (status === 'done') {
    return (
      <div className="compare-end">
        <p aria-label="Compare status" aria-live="polite" className="compare-status compare-status--done">
          Done.
        </p>
        {took ? <p className="compare-summary">Took {took} on {backend}.</p> : null}
      </div>
    );
  }
  const kept = measured + sweepRows;
  return (
    <div className="compare-end">
      <p aria-label="Compare status" aria-live="polite" className="compare-status compare-status--cancelled">
        Stopped{took ? ` after ${took}` : ''}.
      </p>
      <p className="compare-summary compare-summary--stopped">
        {kept === 0
          ? `No ${what === 'models' ? 'model' : 'configuration'} had finished before the stop, so there are no results.`
          : `Partial results: ${measured} of ${expected} ${what}${sweepRows > 0 ? ` and ${sweepRows} sweep row${sweepRows === 1 ? '' : 's'}` : ''} measured before the stop, kept below.`}
      </p>
    </div>
  );
}
