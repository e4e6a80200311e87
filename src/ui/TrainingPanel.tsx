import { useId } from 'react';
import type { FrameState } from '../state/frames';
import { stageSteps } from '../state/store';
import { setupProblem, validateBatchSize, validateLearningRate, validatePreviewEvery, validateTrainSteps, validateWarmupSteps } from '../state/validate';
import { COSINE_FLOOR, LR_SCHEDULES, type LrSchedule } from '../diffusion/lr-schedule';
import type { TrainingStage } from '../engine/run-config';
import { BatchCanvas } from './BatchCanvas';
import { useApp, useDistill, useEngine, useFrames } from './context';
import { formatDuration, formatRate } from './format';
import { MoreSettings } from './MoreSettings';
import { NumberField, Panel, SelectField } from './fields';
import { LastCheckpoint, ResumeOffer, validateCheckpointEvery } from './ResumeOffer';
import { QualityCurve } from './QualityCurve';
import { DistillStage } from './DistillStage';

const STAGE_LABELS: Record<TrainingStage, string> = {
  autoencoder: '1. Autoencoder',
  denoiser: '2. Latent denoiser',
};

const LR_SCHEDULE_LABELS: Record<LrSchedule, string> = {
  constant: 'constant',
  cosine: `cosine decay to ${Math.round(COSINE_FLOOR * 100)} % at the last step`,
};

const selectOriginals = (f: FrameState) => f.reconOriginals;
const selectRecons = (f: FrameState) => f.reconImages;

/**
 * Stage choice: a latent model's autoencoder first, then the denoiser on its latents (a pixel
 * model's one stage is its denoiser); then, once the denoiser is trained, Distill. While a training
 * run is paused only its own stage and Distill can be picked (a distillation takes over the device).
 */
function StagePicker({ stage, latent, disabled, paused }: { stage: TrainingStage; latent: boolean; disabled: boolean; paused: boolean }) {
  const client = useEngine();
  const name = useId();
  const aeSteps = useApp((s) => stageSteps(s).autoencoder);
  const denoiserSteps = useApp((s) => stageSteps(s).denoiser);
  const distill = useDistill((s) => s.selected);
  const steps: Record<TrainingStage, number> = { autoencoder: aeSteps, denoiser: denoiserSteps };
  const pick = (s: TrainingStage) => {
    client.distill.select(false);
    client.setTraining({ stage: s });
  };
  return (
    <fieldset className="stages" disabled={disabled}>
      <legend>Training stage</legend>
      {(latent ? (['autoencoder', 'denoiser'] as const) : (['denoiser'] as const)).map((s) => (
        <label key={s} className={`stage${!distill && stage === s ? ' stage--current' : ''}`}>
          <input type="radio" name={name} value={s} checked={!distill && stage === s} disabled={paused && s !== stage} onChange={() => pick(s)} />
          <span className="stage-name">{latent ? STAGE_LABELS[s] : 'Denoiser'}</span>
          <span className="stage-steps" aria-label={s === 'autoencoder' ? 'Autoencoder steps' : 'Denoiser steps'}>
            {steps[s].toLocaleString()} step{steps[s] === 1 ? '' : 's'}
          </span>
        </label>
      ))}
      <label className={`stage${distill ? ' stage--current' : ''}`}>
        <input type="radio" name={name} value="distill" checked={distill} onChange={() => client.distill.select(true)} />
        <span className="stage-name">Distill</span>
        <span className="stage-steps">{denoiserSteps > 0 ? 'fewer sampling steps' : 'needs a trained model'}</span>
      </label>
    </fieldset>
  );
}

/** Held-out digits above their reconstructions through the autoencoder (stage 1 previews). */
function Reconstructions() {
  const step = useFrames((f) => f.reconStep);
  return (
    <figure className="recon" aria-label="Autoencoder reconstructions">
      <figcaption className="recon-title">
        Autoencoder reconstructions{step !== null ? ` at step ${step}` : ''}
      </figcaption>
      {step === null ? (
        <p className="muted">Train stage 1 with previews on to compare held-out digits with what the autoencoder makes of them.</p>
      ) : (
        <div className="recon-rows">
          <span className="recon-label">Originals</span>
          <BatchCanvas select={selectOriginals} view={{ kind: 'row', cols: 8 }} label="Original held-out digits" className="digits digits--recon" />
          <span className="recon-label">Recon&shy;structions</span>
          <BatchCanvas select={selectRecons} view={{ kind: 'row', cols: 8 }} label="Reconstructed digits" className="digits digits--recon" />
        </div>
      )}
    </figure>
  );
}

/** Training settings, the stage of a latent model, run buttons, speed and progress. */
export function TrainingPanel() {
  const client = useEngine();
  const form = useApp((s) => s.training);
  const train = useApp((s) => s.train);
  const ready = useApp((s) => s.engine.status === 'ready');
  const pending = useApp((s) => s.pendingSetup !== null);
  const setup = useApp((s) => s.setup);
  const aeSteps = useApp((s) => stageSteps(s).autoencoder);
  const denoiserSteps = useApp((s) => stageSteps(s).denoiser);
  const importing = useApp((s) => s.transfer === 'importing');
  const loadingPretrained = useApp((s) => s.pretrained.status === 'loading');
  const restoring = useApp((s) => s.recovery.restoring);
  const pretrainedSteps = useApp((s) => (s.pretrained.source === 'pretrained' ? (s.pretrained.info?.denoiserSteps ?? null) : null));
  const distill = useDistill((s) => s.selected);
  const distilling = useDistill((s) => s.status === 'starting' || s.status === 'running' || s.status === 'paused');

  const latent = setup.kind === 'latent';
  const stage: TrainingStage = latent ? form.stage : 'denoiser';
  const doneSteps = stage === 'autoencoder' ? aeSteps : denoiserSteps;
  const invalid =
    validateLearningRate(form.learningRate) ??
    validateBatchSize(form.batchSize) ??
    validateTrainSteps(form.steps) ??
    validatePreviewEvery(form.previewEvery) ??
    validateWarmupSteps(form.warmupSteps ?? 0) ??
    validateCheckpointEvery(form.checkpointEvery ?? 0) ??
    setupProblem(setup);
  const total = train.totalSteps || (Number.isFinite(form.steps) ? form.steps : 0);
  const active = train.state === 'running' || train.state === 'paused';
  const alreadyThere = !active && doneSteps > 0 && form.steps <= doneSteps;
  const canStart = ready && !pending && !importing && !loadingPretrained && !restoring && invalid === null && !active && !alreadyThere;
  const trained = train.state !== 'idle' || train.step > 0 || aeSteps > 0 || denoiserSteps > 0;

  let why: string | null = null;
  if (!ready) why = 'Waiting for the engine…';
  else if (loadingPretrained) why = 'Loading the pretrained model…';
  else if (pending) why = 'Confirm or keep the model change first.';
  else if (train.state === 'running' && train.stage === 'autoencoder' && total > 0 && train.step >= total)
    why = 'Stage 1 steps done: measuring the scale of the latents on training images (this can take a while on a slow GPU)…';
  else if (alreadyThere) why = `${latent ? `Stage ${stage === 'autoencoder' ? 1 : 2}` : 'Training'} is done: raise Steps above ${doneSteps} to continue.`;

  // Stage rules of a latent model, said before the engine has to refuse.
  let stageNote: string | null = null;
  const fineTuneNote =
    pretrainedSteps !== null && !active
      ? `Fine-tuning the pretrained model: training goes on from step ${pretrainedSteps.toLocaleString()} of its pretraining (Steps is the total). A small learning rate keeps what it has learned.`
      : null;
  if (latent && stage === 'denoiser' && aeSteps === 0) stageNote = 'Stage 2 needs stage 1: train the autoencoder first — the latent denoiser learns on its latents.';
  else if (latent && stage === 'autoencoder' && denoiserSteps > 0) stageNote = 'The autoencoder is frozen: the denoiser has trained on its latents. Reset to retrain it.';

  if (distill) {
    return (
      <Panel title="Training">
        <ResumeOffer />
        <StagePicker stage={stage} latent={latent} disabled={train.state === 'running' || distilling} paused={train.state === 'paused'} />
        <DistillStage />
      </Panel>
    );
  }

  return (
    <Panel title="Training">
      <ResumeOffer />
      <StagePicker stage={stage} latent={latent} disabled={train.state === 'running' || distilling} paused={train.state === 'paused'} />
      {stageNote ? (
        <p className="stage-note" role="note">
          {stageNote}
        </p>
      ) : null}
      <div className="grid2">
        <NumberField label="Learning rate" value={form.learningRate} step={0.0001} validate={validateLearningRate} onCommit={(learningRate) => client.setTraining({ learningRate })} />
        <SelectField
          label="Learning-rate schedule"
          value={form.lrSchedule ?? 'constant'}
          options={LR_SCHEDULES.map((v) => ({ value: v, label: LR_SCHEDULE_LABELS[v] }))}
          onChange={(lrSchedule) => client.setTraining({ lrSchedule })}
        />
        <NumberField
          label="Warm-up steps"
          value={form.warmupSteps ?? 0}
          step={1}
          min={0}
          validate={validateWarmupSteps}
          onCommit={(warmupSteps) => client.setTraining({ warmupSteps })}
          hint="The learning rate rises linearly from 0 over these steps; 0: none."
        />
        <NumberField label="Batch size" value={form.batchSize} step={1} min={1} max={256} validate={validateBatchSize} onCommit={(batchSize) => client.setTraining({ batchSize })} />
        <NumberField
          label="Steps"
          value={form.steps}
          step={1}
          min={1}
          validate={validateTrainSteps}
          onCommit={(steps) => client.setTraining({ steps })}
          hint={latent ? 'Total for the chosen stage.' : undefined}
        />
        <NumberField
          label="Preview every N steps"
          value={form.previewEvery}
          step={1}
          min={0}
          validate={validatePreviewEvery}
          onCommit={(previewEvery) => client.setTraining({ previewEvery })}
          hint={latent && stage === 'autoencoder' ? 'Reconstructions; 0 turns them off.' : '0 turns previews off.'}
        />
      </div>
      <MoreSettings>
        <div className="grid2">
          <NumberField
            label="Checkpoint every N steps"
            value={form.checkpointEvery ?? 0}
            step={1}
            min={0}
            validate={validateCheckpointEvery}
            onCommit={(checkpointEvery) => client.setTraining({ checkpointEvery })}
            hint="Saved in this browser (and on pause): a reload or a crash resumes from it."
          />
        </div>
      </MoreSettings>
      <div className="buttons">
        <button type="button" className="primary" disabled={!canStart} onClick={() => client.startTraining()}>
          Start
        </button>
        <button type="button" disabled={train.state !== 'running'} onClick={() => client.pauseTraining()}>
          Pause
        </button>
        <button type="button" disabled={train.state !== 'paused' || invalid !== null || restoring} onClick={() => client.resumeTraining()}>
          Resume
        </button>
        <button type="button" className="danger" disabled={!trained} onClick={() => client.resetTraining()}>
          Reset
        </button>
      </div>
      {why ? <p className="field-hint">{why}</p> : null}
      {fineTuneNote && !why ? <p className="field-hint">{fineTuneNote}</p> : null}
      <progress className="progress" aria-label="Training progress" max={Math.max(1, total)} value={Math.min(train.step, total)} />
      <dl className="run-facts">
        <div>
          <dt>State</dt>
          <dd aria-label="Training state">{train.state}</dd>
        </div>
        {latent ? (
          <div>
            <dt>Stage</dt>
            <dd aria-label="Current stage">{train.stage ? STAGE_LABELS[train.stage] : '–'}</dd>
          </div>
        ) : null}
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
      <LastCheckpoint />
      {latent ? <Reconstructions /> : null}
      <QualityCurve />
    </Panel>
  );
}
