import { useId } from 'react';
import { LAB_SAMPLERS, type LabDenoiser, type LabSamplerKind } from '../../protocol/lab-messages';
import type { PaneId } from '../../state/lab/lab-client';
import { LAB_SAMPLER_LABELS, paneProblem } from '../../state/lab/lab-settings';
import type { ParticleRunState } from '../../state/lab/particle-record';
import { useEngine } from '../context';
import { useLab } from './use-lab';

const SIDE: Record<PaneId, string> = { a: 'Left', b: 'Right' };

/** One pane's sampler, steps and denoiser, and why it cannot sample now (if so). */
export function PaneControls({ pane }: { pane: PaneId }) {
  const lab = useEngine().lab;
  // This pane's settings only (a stable object): a change elsewhere (t while "Play t" runs) does not re-render it.
  const p = useLab((s) => s.settings[pane]);
  const id = useId();
  const set = (patch: Partial<typeof p>) => lab.update({ [pane]: { ...p, ...patch } });
  return (
    <div className="lab-pane-controls">
      <div className="field">
        <label htmlFor={`${id}-s`}>{SIDE[pane]} sampler</label>
        <select id={`${id}-s`} value={p.sampler} onChange={(e) => set({ sampler: e.target.value as LabSamplerKind })}>
          {LAB_SAMPLERS.map((k) => (
            <option key={k} value={k}>
              {LAB_SAMPLER_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-n`}>{SIDE[pane]} steps</label>
        <input id={`${id}-n`} type="number" min={1} max={1000} step={1} value={Number.isNaN(p.steps) ? '' : p.steps} onChange={(e) => set({ steps: e.target.value === '' ? NaN : Number(e.target.value) })} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-d`}>{SIDE[pane]} denoiser</label>
        <select id={`${id}-d`} value={p.denoiser} onChange={(e) => set({ denoiser: e.target.value as LabDenoiser })}>
          <option value="learned">Learned</option>
          <option value="exact">Exact</option>
        </select>
      </div>
    </div>
  );
}

/** Why a pane cannot sample now (under its canvas, so the two panes stay level), or nothing. */
export function PaneProblem({ pane }: { pane: PaneId }) {
  const problem = useLab((s) => paneProblem(s.settings, s.settings[pane], s.data?.exact ?? false));
  return problem ? <p className="field-hint lab-pane-problem">{problem}</p> : null;
}

/** What a pane's run was, and where the player is in it. */
export function paneCaption(r: ParticleRunState, position: number): string {
  if (r.state === 'empty' || !r.pane) return 'No run yet: press Sample.';
  const what = `${LAB_SAMPLER_LABELS[r.pane.sampler]}, ${r.pane.steps} steps, ${r.pane.denoiser} denoiser (${r.objective === 'flow' ? 'flow matching' : 'diffusion'})`;
  const where = r.filled === 0 ? 'starting…' : position <= 0 ? 'x_T: pure noise' : position >= r.total - 1 && r.state === 'done' ? 'the samples' : `step ${position} of ${r.total - 1}`;
  const facts = r.state === 'done' ? ` · ${r.n.toLocaleString()} particles · ${r.evaluations} model evaluations · ${(r.elapsedMs / 1000).toFixed(2)} s` : r.state === 'cancelled' ? ' · stopped' : '';
  return `${what}: ${where}${facts}`;
}
