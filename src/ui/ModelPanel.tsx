import { PREDICTION_TYPES, type PredictionType } from '../diffusion/config';
import { UNET_CONFIGS, UNET_PRESETS, unetStats, type UNetPreset } from '../models/config';
import { useApp, useEngine } from './context';
import { formatCount } from './format';
import { Panel, SelectField } from './fields';

const PREDICTION_LABELS: Record<PredictionType, string> = {
  epsilon: 'ε (the noise)',
  x0: 'x₀ (the clean image)',
  v: 'v (velocity)',
};

/** Parameter count and forward FLOPs per image, computed from the configs (no tfjs needed). */
const PRESET_STATS: Record<UNetPreset, { paramCount: number; flopsPerImage: number }> = Object.fromEntries(
  UNET_PRESETS.map((p) => [p, unetStats(UNET_CONFIGS[p])]),
) as Record<UNetPreset, { paramCount: number; flopsPerImage: number }>;

function describePreset(p: UNetPreset): string {
  const c = UNET_CONFIGS[p];
  return `${c.baseChannels} × [${c.channelMult.join(', ')}] channels, ${c.numResBlocks} res block${c.numResBlocks > 1 ? 's' : ''} per level`;
}

/** U-Net preset with its size and cost, and the prediction target. */
export function ModelPanel() {
  const client = useEngine();
  const preset = useApp((s) => (s.pendingSetup ?? s.setup).preset);
  const prediction = useApp((s) => (s.pendingSetup ?? s.setup).prediction);
  const batchSize = useApp((s) => s.training.batchSize);
  const reported = useApp((s) => s.model);

  const stats = PRESET_STATS[preset];
  return (
    <Panel title="Model">
      <div className="grid2">
        <SelectField
          label="U-Net preset"
          value={preset}
          options={UNET_PRESETS.map((p) => ({ value: p, label: `${p} (${formatCount(PRESET_STATS[p].paramCount)})` }))}
          onChange={(next) => client.updateSetup((m) => ({ ...m, preset: next }))}
        />
        <SelectField
          label="Prediction type"
          value={prediction}
          options={PREDICTION_TYPES.map((p) => ({ value: p, label: PREDICTION_LABELS[p] }))}
          onChange={(next) => client.updateSetup((m) => ({ ...m, prediction: next }))}
        />
      </div>
      <table className="stats" aria-label="Preset sizes">
        <thead>
          <tr>
            <th scope="col">Preset</th>
            <th scope="col">Parameters</th>
            <th scope="col">FLOPs per step</th>
          </tr>
        </thead>
        <tbody>
          {UNET_PRESETS.map((p) => (
            <tr key={p} className={p === preset ? 'current' : undefined} aria-current={p === preset ? 'true' : undefined}>
              <th scope="row">{p}</th>
              <td>{formatCount(PRESET_STATS[p].paramCount)}</td>
              <td>{formatCount(PRESET_STATS[p].flopsPerImage)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="field-hint">
        {describePreset(preset)}. FLOPs per step: one forward pass for one image (a sampling step)
        {Number.isFinite(batchSize) ? `; a training step at batch ${batchSize} costs about ${formatCount(3 * batchSize * stats.flopsPerImage)} (forward + backward ≈ 3×)` : ''}.
        {reported && reported.preset === preset && reported.paramCount !== stats.paramCount
          ? ` The engine reports ${formatCount(reported.paramCount)} parameters.`
          : ''}
      </p>
    </Panel>
  );
}
