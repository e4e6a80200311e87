/**
 * The Training panel's "Distill" stage (issue 20): progressive distillation (Salimans & Ho 2022) of
 * the page's trained model, round after round, each student learning to do in one DDIM step what its
 * teacher does in two. The form (from and to steps, training steps per round, batch, learning rate,
 * the first teacher's guidance), Start / Pause / Resume / Stop, progress by round, and the results
 * (./DistillResults.tsx). When the last round is done the student is the page's model.
 */
import { distillProblem, distillRounds } from '../protocol/distill-messages';
import type { DistillState } from '../state/distill-client';
import { stageSteps } from '../state/store';
import { useApp, useDistill, useEngine } from './context';
import { NumberField } from './fields';
import { formatDuration, formatRate } from './format';
import { DistillResults } from './DistillResults';
import './distill.css';

const ok = () => null;
const STATE_WORDS: Record<DistillState['status'], string> = {
  idle: 'idle',
  starting: 'starting',
  running: 'running',
  paused: 'paused',
  done: 'done',
  stopped: 'stopped',
  failed: 'failed',
};

/** What the run is doing, in words, beside the progress bar. */
function RunFacts() {
  const status = useDistill((s) => s.status);
  const p = useDistill((s) => s.progress);
  const running = status === 'running';
  return (
    <dl className="run-facts">
      <div>
        <dt>State</dt>
        <dd aria-label="Distillation state">{STATE_WORDS[status]}</dd>
      </div>
      <div>
        <dt>Round</dt>
        <dd aria-label="Distillation round">{p ? `${p.round} of ${p.rounds} (${p.teacherSteps} → ${p.studentSteps} steps)` : '–'}</dd>
      </div>
      <div>
        <dt>Step</dt>
        <dd aria-label="Distillation step">{p ? `${p.step} / ${p.stepsPerRound}` : '–'}</dd>
      </div>
      <div>
        <dt>Steps/s</dt>
        <dd aria-label="Distillation steps per second">{running && p ? formatRate(p.stepsPerSec) : '–'}</dd>
      </div>
      <div>
        <dt>Time left</dt>
        <dd aria-label="Distillation time left">{running && p ? formatDuration(p.etaSec) : '–'}</dd>
      </div>
    </dl>
  );
}

/** The Distill stage: its form, buttons, progress and results. */
export function DistillStage() {
  const client = useEngine();
  const form = useDistill((s) => s.form);
  const status = useDistill((s) => s.status);
  const message = useDistill((s) => s.message);
  const progress = useDistill((s) => s.progress);
  const adopted = useDistill((s) => s.adopted);
  const setup = useApp((s) => s.setup);
  const ready = useApp((s) => s.engine.status === 'ready');
  const busy = useApp((s) => s.transfer !== 'idle' || s.pretrained.status === 'loading' || s.pendingSetup !== null || s.keep.status !== 'idle');
  const denoiserSteps = useApp((s) => stageSteps(s).denoiser);
  const training = useApp((s) => s.train.state === 'running');
  const T = setup.schedule.T;

  const active = status === 'starting' || status === 'running' || status === 'paused';
  const problem = distillProblem(form, T);
  const untrained =
    denoiserSteps === 0
      ? 'There is no trained denoiser to distil: load a pretrained model in the Model panel (or train the denoiser), then distil it.'
      : null;
  const rounds = distillRounds(form.fromSteps, form.toSteps);
  const canStart = ready && !busy && !active && !training && problem === null && untrained === null;
  const total = progress ? progress.rounds * progress.stepsPerRound : 1;
  const done = progress ? (progress.round - 1) * progress.stepsPerRound + progress.step : 0;

  let why: string | null = null;
  if (!ready) why = 'Waiting for the engine…';
  else if (busy) why = 'Waiting for the model change to finish…';
  else if (training) why = 'Training is running: pause it first (Training stage above), then distil.';

  return (
    <div className="distill" aria-label="Distill stage" role="group">
      <p className="field-hint distill-intro">
        Progressive distillation (Salimans &amp; Ho 2022): each round a student starts as a copy of its teacher and learns to land in one DDIM step where
        the teacher lands in two, so every round halves the sampling steps. When the last round is done, the student replaces this model.
      </p>
      <div className="grid2">
        <NumberField label="From steps" value={form.fromSteps} step={1} min={2} validate={ok} onCommit={(fromSteps) => client.distill.setForm({ fromSteps })} hint="The teacher's DDIM steps." disabled={active} />
        <NumberField label="To steps" value={form.toSteps} step={1} min={1} validate={ok} onCommit={(toSteps) => client.distill.setForm({ toSteps })} hint="The last student's: from steps halved once per round." disabled={active} />
        <NumberField label="Training steps per round" value={form.stepsPerRound} step={1} min={1} validate={ok} onCommit={(stepsPerRound) => client.distill.setForm({ stepsPerRound })} disabled={active} />
        <NumberField label="Batch size" value={form.batchSize} step={1} min={1} max={256} validate={ok} onCommit={(batchSize) => client.distill.setForm({ batchSize })} disabled={active} />
        <NumberField label="Learning rate" value={form.learningRate} step={0.0001} validate={ok} onCommit={(learningRate) => client.distill.setForm({ learningRate })} hint="Adam; each round warms up over its first tenth, then decays to 10 %." disabled={active} />
        {setup.classConditional ? (
          <NumberField
            label="Teacher guidance"
            value={form.guidance}
            step={0.1}
            min={0}
            validate={ok}
            onCommit={(guidance) => client.distill.setForm({ guidance })}
            hint="The first teacher's classifier-free guidance w, built into the students: they sample at guidance 1."
            disabled={active}
          />
        ) : null}
      </div>
      {untrained || problem ? (
        <p className="stage-note" role="alert" aria-label="Distill settings problem">
          {untrained ?? problem}
        </p>
      ) : rounds ? (
        <p className="field-hint" aria-label="Distill plan">
          {rounds.length} round{rounds.length === 1 ? '' : 's'}: {[form.fromSteps, ...rounds].join(' → ')} steps, {(rounds.length * form.stepsPerRound).toLocaleString()} training steps at batch {form.batchSize}.
        </p>
      ) : null}
      <div className="buttons">
        <button type="button" className="primary" disabled={!canStart} onClick={() => client.distill.start(T)}>
          Start
        </button>
        <button type="button" disabled={status !== 'running'} onClick={() => client.distill.pause()}>
          Pause
        </button>
        <button type="button" disabled={status !== 'paused'} onClick={() => client.distill.resume()}>
          Resume
        </button>
        <button type="button" className="danger" disabled={status !== 'running' && status !== 'paused'} onClick={() => client.distill.stop()}>
          Stop
        </button>
      </div>
      {why ? <p className="field-hint">{why}</p> : null}
      <progress className="progress" aria-label="Distillation progress" max={Math.max(1, total)} value={Math.min(done, total)} />
      <RunFacts />
      {status === 'failed' && message ? (
        <p className="stage-note" role="alert" aria-label="Distillation problem">
          {message}
        </p>
      ) : null}
      {status === 'stopped' ? <p className="field-hint" role="status">Stopped before the last round ended: no student replaced the model.</p> : null}
      {adopted ? (
        <p className="distill-adopted" role="status" aria-label="Distilled model note">
          The {adopted.studentSteps}-step student is now the page&apos;s model (it replaced its {adopted.teacherSteps}-step teacher). Sampling is set to DDIM,{' '}
          {adopted.studentSteps} steps, trailing spacing, guidance 1: press Sample to see it. Start again to distil it further.
        </p>
      ) : null}
      <DistillResults />
    </div>
  );
}
