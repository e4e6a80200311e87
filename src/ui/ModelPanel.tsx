import { PREDICTION_TYPES, type PredictionType } from '../diffusion/config';
import { LATENT_UNET_CONFIGS, LATENT_UNET_PRESETS, UNET_CONFIGS, UNET_PRESETS, type LatentUNetPreset, type UNetPreset } from '../models/setup/unet-config';
import { AUTOENCODER_CONFIGS, AUTOENCODER_PRESETS, type AutoencoderPreset } from '../models/setup/autoencoder-config';
import type { ModelKind, ModelSetup } from '../models/setup/model-setup';
import { useApp, useEngine } from './context';
import { formatBytes, formatCount } from './format';
import { MoreSettings } from './MoreSettings';
import { CheckboxField, Panel, SelectField } from './fields';
import { setupFigures } from './model-stats';
import { presetAttention } from '../models/setup/model-setup';
import { ModelSource } from './ModelSource';

const PREDICTION_LABELS: Record<PredictionType, string> = {
  epsilon: 'ε (the noise)',
  x0: 'x₀ (the clean image)',
  v: 'v (velocity)',
};

const KIND_LABELS: Record<ModelKind, string> = {
  pixel: 'Pixel DDPM',
  latent: 'Latent diffusion (LDM)',
};

const EMA_CHOICES = [0, 0.99, 0.999, 0.9999];
const DROPOUT_CHOICES = [0, 0.1, 0.2];
const KL_CHOICES = [0, 1e-5, 1e-4];
const MIN_SNR_CHOICES = [0, 5];
const LATENT_CHANNELS = [2, 3, 4, 5, 6, 7, 8];

/** Select options for numbers, "off" for 0, plus the current value when it is not one of them (an imported model). */
function numberOptions(choices: number[], current: number): { value: string; label: string }[] {
  const all = choices.includes(current) ? choices : [...choices, current].sort((a, b) => a - b);
  return all.map((v) => ({ value: String(v), label: v === 0 ? 'off' : String(v) }));
}

function describePixel(p: UNetPreset): string {
  const c = UNET_CONFIGS[p];
  return `${c.baseChannels} × [${c.channelMult.join(', ')}] channels, ${c.numResBlocks} res block${c.numResBlocks > 1 ? 's' : ''} per level${c.attention ? ', attention at 7×7' : ''}`;
}

function describeLatent(setup: ModelSetup): string {
  const ae = AUTOENCODER_CONFIGS[setup.latent.autoencoder];
  const d = LATENT_UNET_CONFIGS[setup.latent.denoiser];
  const C = setup.latent.latentChannels;
  const size = 7 * 7 * C;
  return (
    `The autoencoder (${ae.channels.join(' → ')} channels) squeezes each 28×28 digit (784 pixels) into a 7×7×${C} latent ` +
    `(${size} numbers, ${(784 / size).toFixed(1)}× fewer); the denoiser (${d.baseChannels} × [${d.channelMult.join(', ')}] channels${setup.attention ? ', attention at 4×4' : ''}) ` +
    'learns to denoise latents, and the decoder turns its result back into a digit.'
  );
}

/** What the model is: pixel DDPM or latent diffusion, its parts, conditioning, EMA and loss weighting, with its size, cost and measured memory. */
export function ModelPanel() {
  const client = useEngine();
  const setup = useApp((s) => s.pendingSetup ?? s.setup);
  const hasPending = useApp((s) => s.pendingSetup !== null);
  const batchSize = useApp((s) => s.training.batchSize);
  const reported = useApp((s) => s.model);
  // While a pretrained model loads, its setup is on the way: the controls wait for it.
  const locked = useApp((s) => s.pretrained.status === 'loading');
  const loadingKind = useApp((s) => s.pretrained.kind);
  const update = (change: (m: ModelSetup) => ModelSetup) => client.updateSetup(change);
  /** A change of network (kind or preset) starts from that preset's attention default. */
  const updateNetwork = (change: (m: ModelSetup) => ModelSetup) =>
    update((m) => {
      const next = change(m);
      return { ...next, attention: presetAttention(next) };
    });
  const updateLatent = (patch: Partial<ModelSetup['latent']>) => update((m) => ({ ...m, latent: { ...m.latent, ...patch } }));

  const latent = setup.kind === 'latent';
  const figures = setupFigures(setup);
  // The engine's figures (and measured peaks) describe the model it has: only when no change is pending.
  const engineModel = !hasPending && reported && reported.kind === setup.kind ? reported : null;
  const pixelRows = UNET_PRESETS.map((p) => ({ p, f: setupFigures({ ...setup, kind: 'pixel', preset: p }) }));

  return (
    <Panel title="Model">
      <ModelSource />
      <div className="grid2">
        <SelectField
          label="Model kind"
          wide
          disabled={locked}
          value={locked ? loadingKind : setup.kind}
          options={(['pixel', 'latent'] as const).map((k) => ({ value: k, label: KIND_LABELS[k] }))}
          onChange={(kind) => updateNetwork((m) => ({ ...m, kind }))}
        />
        <SelectField
          disabled={locked}
          label="Prediction type"
          value={setup.prediction}
          options={PREDICTION_TYPES.map((p) => ({ value: p, label: PREDICTION_LABELS[p] }))}
          onChange={(prediction) => update((m) => ({ ...m, prediction }))}
        />
        {latent ? (
          <>
            <SelectField<AutoencoderPreset>
              disabled={locked}
              label="Autoencoder preset"
              value={setup.latent.autoencoder}
              options={AUTOENCODER_PRESETS.map((p) => ({ value: p, label: p }))}
              onChange={(autoencoder) => updateLatent({ autoencoder })}
            />
            <SelectField
              disabled={locked}
              label="Latent channels"
              value={String(setup.latent.latentChannels)}
              options={LATENT_CHANNELS.map((c) => ({ value: String(c), label: `${c} (7×7×${c})` }))}
              onChange={(c) => updateLatent({ latentChannels: Number(c) })}
            />
            <SelectField
              disabled={locked}
              label="Autoencoder KL weight"
              value={String(setup.latent.klWeight)}
              options={KL_CHOICES.map((v) => ({ value: String(v), label: v === 0 ? 'off (plain autoencoder)' : `${v} (VAE)` }))}
              onChange={(v) => updateLatent({ klWeight: Number(v) })}
            />
            <SelectField<LatentUNetPreset>
              disabled={locked}
              label="Latent denoiser preset"
              value={setup.latent.denoiser}
              options={LATENT_UNET_PRESETS.map((p) => ({ value: p, label: p }))}
              onChange={(denoiser) => updateNetwork((m) => ({ ...m, latent: { ...m.latent, denoiser } }))}
            />
          </>
        ) : (
          <SelectField<UNetPreset>
            disabled={locked}
            label="U-Net preset"
            value={setup.preset}
            options={pixelRows.map(({ p, f }) => ({ value: p, label: `${p} (${f ? formatCount(f.paramCount) : '?'})` }))}
            onChange={(preset) => updateNetwork((m) => ({ ...m, preset }))}
          />
        )}
      </div>
      <MoreSettings>
        <div className="grid2">
          <SelectField
            disabled={locked}
            label="EMA decay"
            value={String(setup.emaDecay)}
            options={numberOptions(EMA_CHOICES, setup.emaDecay)}
            onChange={(v) => update((m) => ({ ...m, emaDecay: Number(v) }))}
          />
          <SelectField
            disabled={locked}
            label="Dropout"
            value={String(setup.dropout)}
            options={numberOptions(DROPOUT_CHOICES, setup.dropout)}
            onChange={(v) => update((m) => ({ ...m, dropout: Number(v) }))}
          />
          <SelectField
            disabled={locked}
            label="Min-SNR-γ weighting"
            value={String(setup.minSnrGamma)}
            options={numberOptions(MIN_SNR_CHOICES, setup.minSnrGamma)}
            onChange={(v) => update((m) => ({ ...m, minSnrGamma: Number(v) }))}
          />
        </div>
        <CheckboxField
          disabled={locked}
          label={`Self-attention at the lowest resolution (${latent ? '4×4 latent' : '7×7'})`}
          checked={setup.attention}
          onChange={(attention) => update((m) => ({ ...m, attention }))}
        />
        {latent ? (
          <CheckboxField
            disabled={locked}
            label="Attention in the autoencoder (its 7×7 middle, encoder and decoder)"
            checked={setup.latent.autoencoderAttention ?? false}
            onChange={(on) =>
              update((m) => {
                const { autoencoderAttention: _old, ...rest } = m.latent;
                return { ...m, latent: on ? { ...rest, autoencoderAttention: true } : rest };
              })
            }
          />
        ) : null}
      </MoreSettings>
      <CheckboxField
        disabled={locked}
        label="Class-conditional (learn digit labels, for classifier-free guidance)"
        checked={setup.classConditional}
        onChange={(classConditional) => update((m) => ({ ...m, classConditional }))}
      />
      <p className="field-hint">
        {setup.emaDecay > 0 ? `EMA keeps a running average of the weights (decay ${setup.emaDecay}) that often samples better. ` : ''}
        {setup.minSnrGamma > 0 ? `Min-SNR-γ caps the loss weight of easy (low-noise) timesteps at γ = ${setup.minSnrGamma}. ` : ''}
        {setup.classConditional ? 'Labels are dropped 10 % of the time so the model also learns to draw without one.' : ''}
      </p>

      {latent ? (
        <table className="stats" aria-label="Model parts">
          <thead>
            <tr>
              <th scope="col">Part</th>
              <th scope="col">Parameters</th>
              <th scope="col">FLOPs per image</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Autoencoder ({setup.latent.autoencoder})</th>
              <td>{figures ? formatCount(figures.autoencoderParams) : '–'}</td>
              <td title="encode + decode">{figures ? `${formatCount(figures.encodeFlops)} + ${formatCount(figures.decodeFlops)}` : '–'}</td>
            </tr>
            <tr>
              <th scope="row">Denoiser ({setup.latent.denoiser})</th>
              <td>{figures ? formatCount(figures.denoiserParams) : '–'}</td>
              <td>{figures ? `${formatCount(figures.flopsPerStep)} / step` : '–'}</td>
            </tr>
          </tbody>
        </table>
      ) : (
        <table className="stats" aria-label="Preset sizes">
          <thead>
            <tr>
              <th scope="col">Preset</th>
              <th scope="col">Parameters</th>
              <th scope="col">FLOPs per step</th>
            </tr>
          </thead>
          <tbody>
            {pixelRows.map(({ p, f }) => (
              <tr key={p} className={p === setup.preset ? 'current' : undefined} aria-current={p === setup.preset ? 'true' : undefined}>
                <th scope="row">{p}</th>
                <td>{f ? formatCount(f.paramCount) : '–'}</td>
                <td>{f ? formatCount(f.flopsPerStep) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <dl className="run-facts model-facts" aria-label="Model cost">
        <div>
          <dt>Parameters</dt>
          <dd aria-label="Parameter count">{figures ? formatCount(figures.paramCount) : '–'}</dd>
        </div>
        <div>
          <dt>FLOPs per step</dt>
          <dd aria-label="FLOPs per step">{figures ? formatCount(figures.flopsPerStep) : '–'}</dd>
        </div>
        {latent ? (
          <div>
            <dt>Decode FLOPs</dt>
            <dd aria-label="Decode FLOPs">{figures ? formatCount(figures.decodeFlops) : '–'}</dd>
          </div>
        ) : null}
        <div>
          <dt>Peak train memory</dt>
          <dd aria-label="Peak training memory">{engineModel?.peakTrainBytes != null ? formatBytes(engineModel.peakTrainBytes) : '–'}</dd>
        </div>
        <div>
          <dt>Peak sample memory</dt>
          <dd aria-label="Peak sampling memory">{engineModel?.peakSampleBytes != null ? formatBytes(engineModel.peakSampleBytes) : '–'}</dd>
        </div>
      </dl>
      <p className="field-hint">
        {latent ? describeLatent(setup) : `${describePixel(setup.preset)}.`} FLOPs per step: one forward pass of the denoiser for one image
        {latent ? ' (in latent space; decoding costs the decode FLOPs once per image, at the end)' : ''}
        {figures && Number.isFinite(batchSize) && batchSize > 0
          ? `; a training step at batch ${batchSize} costs about ${formatCount(3 * batchSize * figures.flopsPerStep)} (forward + backward ≈ 3×)`
          : ''}
        . Peak memory is measured on the first training and sampling step (all live tensors, weights included).
        {engineModel && figures && engineModel.paramCount !== figures.paramCount ? ` The engine reports ${formatCount(engineModel.paramCount)} parameters.` : ''}
      </p>
      {!figures ? <p className="field-error">These parts do not fit together; pick other presets.</p> : null}
    </Panel>
  );
}
