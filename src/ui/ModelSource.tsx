import { useId, useState } from 'react';
import type { ModelKind } from '../models/setup/model-setup';
import type { PretrainedInfo } from '../io/pretrained-info';
import type { PretrainedState } from '../state/store';
import { useApp, useDistill, useEngine } from './context';
import { formatBytes, formatDuration } from './format';
import './pretrained.css';

const KIND_NAMES: Record<ModelKind, string> = { pixel: 'pixel DDPM', latent: 'latent diffusion (LDM)' };

/** The manifest's evaluation figures worth a line (whatever numbers it has, a few of them). */
function evalLine(figures: Record<string, number> | null): string | null {
  if (figures == null) return null;
  const entries = Object.entries(figures).slice(0, 6);
  if (entries.length === 0) return null;
  return entries.map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(3)}`).join(', ');
}

function PretrainedFacts({ info }: { info: PretrainedInfo }) {
  const figures = evalLine(info.eval);
  const evalFigures = figures && info.evalSampler ? `${info.evalSampler}: ${figures}` : figures;
  return (
    <dl className="run-facts pretrained-facts" aria-label="Pretrained model facts">
      <div>
        <dt>Pretrained steps</dt>
        <dd aria-label="Pretrained steps">
          {info.kind === 'latent' ? `${info.autoencoderSteps.toLocaleString()} + ${info.denoiserSteps.toLocaleString()}` : info.denoiserSteps.toLocaleString()}
        </dd>
      </div>
      <div>
        <dt>Training time</dt>
        <dd aria-label="Pretraining time">{info.trainingSeconds === null ? '–' : formatDuration(info.trainingSeconds)}</dd>
      </div>
      <div>
        <dt>Final loss</dt>
        <dd aria-label="Pretraining final loss">{info.finalLoss === null ? '–' : info.finalLoss.toFixed(4)}</dd>
      </div>
      <div>
        <dt>Files</dt>
        <dd aria-label="Pretrained files size">{formatBytes(info.bytes)}</dd>
      </div>
      {evalFigures ? (
        <div className="pretrained-facts__wide">
          <dt>Evaluation</dt>
          <dd aria-label="Pretrained evaluation">{evalFigures}</dd>
        </div>
      ) : null}
    </dl>
  );
}

/** Where `npm run distill` writes the distilled LDM, under the site's base URL. */
const DISTILLED_PATH = 'models/latent-distilled/';

/** A distilled model's files as the import path takes them, and the step count its manifest names (default 8). */
async function fetchDistilled(): Promise<{ files: File[]; steps: number }> {
  const base = `${import.meta.env.BASE_URL ?? '/'}${DISTILLED_PATH}`;
  const get = async (name: string): Promise<Response> => {
    const r = await fetch(`${base}${name}`);
    if (!r.ok || (r.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${DISTILLED_PATH}${name} is not there: run npm run distill to make it.`);
    return r;
  };
  const files = await Promise.all(['model.json', 'weights.bin'].map(async (name) => new File([await (await get(name)).arrayBuffer()], name)));
  const manifest = (await (await get('manifest.json')).json()) as { sampling?: { steps?: unknown } };
  const steps = typeof manifest.sampling?.steps === 'number' ? manifest.sampling.steps : 8;
  return { files, steps };
}

/**
 * The distilled LDM (progressive distillation of the pretrained one, `npm run distill`): loaded
 * through the import path, with the sampling it was made for (DDIM over trailing timesteps, η = 0,
 * guidance 1: the teacher's guidance is built into the student).
 */
function DistilledChoice({ disabled }: { disabled: boolean }) {
  const client = useEngine();
  const [state, setState] = useState<{ busy: boolean; problem: string | null }>({ busy: false, problem: null });
  const load = async () => {
    setState({ busy: true, problem: null });
    try {
      const { files, steps } = await fetchDistilled();
      await client.importModel(files);
      client.setSampling({ kind: 'ddim', steps, spacing: 'trailing', eta: 0, guidance: 1, adaptive: 'off', earlyStop: 'off' });
      setState({ busy: false, problem: null });
    } catch (err) {
      setState({ busy: false, problem: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <div className="model-source__distilled">
      <button type="button" disabled={disabled || state.busy} onClick={() => void load()}>
        Load the distilled LDM (8 steps)
      </button>
      <p className="field-hint">
        The pretrained LDM distilled round after round (Salimans &amp; Ho 2022) until one step does the work of many; its guidance is
        built in. Loading it sets Sampling to DDIM with its step count, trailing spacing, guidance 1.
      </p>
      {state.problem ? (
        <p className="field-hint" role="alert" aria-label="Distilled model problem">
          {state.problem}
        </p>
      ) : null}
    </div>
  );
}

/** One sentence on where the weights come from now. */
function statusText(p: PretrainedState): string {
  const kind = KIND_NAMES[p.kind];
  switch (p.status) {
    case 'loading': {
      const amount = p.loaded > 0 ? ` ${formatBytes(p.loaded)}${p.total !== null ? ` of ${formatBytes(p.total)}` : ''}` : '';
      return `Loading the pretrained ${kind}…${amount}`;
    }
    case 'ready': {
      const info = p.info;
      if (info == null) return `Pretrained ${kind}.`;
      const steps = info.kind === 'latent' ? `${info.autoencoderSteps.toLocaleString()} autoencoder + ${info.denoiserSteps.toLocaleString()} denoiser steps` : `${info.denoiserSteps.toLocaleString()} steps`;
      return (
        `Pretrained ${kind} (${info.name}${info.plan ? `, plan ${info.plan}` : ''}): ${steps}` +
        `${info.trainingSeconds !== null ? ` in ${formatDuration(info.trainingSeconds)}` : ''}. ` +
        `Sample it now; Start in Training fine-tunes it (steps go on from ${info.denoiserSteps.toLocaleString()}). Switch the model kind to load the other pretrained model.`
      );
    }
    default:
      if (p.source === 'imported') return 'Imported from files: training goes on from their step counts.';
      return 'Fresh weights from the setup below: train the model, then sample.';
  }
}

/**
 * Where the model's weights come from: the pretrained files of the chosen kind (loaded at start),
 * or fresh weights to train from scratch. Says what is loading, what was loaded and how it was
 * trained, and why loading failed.
 */
export function ModelSource() {
  const client = useEngine();
  const name = useId();
  const pretrained = useApp((s) => s.pretrained);
  const kind = useApp((s) => (s.pendingSetup ?? s.setup).kind);
  const engineFailed = useApp((s) => s.engine.status === 'failed');
  // While the current model is put aside (or the kept one comes back), the source waits.
  const keepBusy = useApp((s) => s.keep.status !== 'idle');
  const loading = pretrained.status === 'loading';
  const source = pretrained.source;
  // A student distilled in Training (the Distill stage) came in as an import does: say what it is.
  const adopted = useDistill((s) => s.adopted);

  return (
    <div className="model-source">
      <fieldset className="stages" disabled={engineFailed || keepBusy}>
        <legend>Model source</legend>
        <label className={`stage${source === 'pretrained' ? ' stage--current' : ''}`}>
          <input type="radio" name={name} value="pretrained" checked={source === 'pretrained'} onChange={() => client.loadPretrained(kind)} />
          <span className="stage-name">Pretrained</span>
          <span className="stage-steps">ready to sample</span>
        </label>
        <label className={`stage${source === 'scratch' ? ' stage--current' : ''}`}>
          <input type="radio" name={name} value="scratch" checked={source === 'scratch'} onChange={() => client.trainFromScratch()} />
          <span className="stage-name">Train from scratch</span>
          <span className="stage-steps">fresh weights</span>
        </label>
      </fieldset>
      <DistilledChoice disabled={engineFailed || keepBusy || loading} />
      {pretrained.status === 'failed' && pretrained.message ? (
        <div className="stage-note pretrained-problem" role="alert" aria-label="Pretrained model problem">
          <p>
            <strong>The pretrained {KIND_NAMES[pretrained.kind]} could not be loaded.</strong> {pretrained.message}
          </p>
          {source === 'scratch' ? <p>Training from scratch instead: set the steps in Training and press Start, then sample.</p> : null}
        </div>
      ) : null}
      <p className="field-hint pretrained-status" role="status" aria-label="Model source status">
        {adopted && source === 'imported'
          ? `Distilled here (Training, Distill): the ${adopted.studentSteps}-step student of its ${adopted.teacherSteps}-step teacher, sampled with DDIM-${adopted.studentSteps}, trailing spacing, guidance 1.`
          : statusText(pretrained)}
      </p>
      {loading ? (
        <progress
          className="progress"
          aria-label="Pretrained model download"
          max={pretrained.total ?? 1}
          value={pretrained.total !== null ? Math.min(pretrained.loaded, pretrained.total) : undefined}
        />
      ) : null}
      {loading ? (
        <p className="field-hint" aria-label="Download speed">
          {pretrained.bytesPerSec ? `${formatBytes(pretrained.bytesPerSec)}/s` : 'Measuring the download speed…'}
          {pretrained.bytesPerSec && pretrained.total !== null ? ` · ${formatDuration((pretrained.total - pretrained.loaded) / pretrained.bytesPerSec)} left` : ''}
        </p>
      ) : null}
      {pretrained.status === 'ready' && pretrained.info ? <PretrainedFacts info={pretrained.info} /> : null}
    </div>
  );
}
