/**
 * The equations of training and sampling, each beside the panel whose controls it explains, with a
 * sentence or two in plain language. They follow the settings: the loss shows the target the model
 * predicts (ε, x0 or v) and the sampler's note is marked when that sampler is chosen.
 */
import { SAMPLER_LABELS, type PredictionType } from '../diffusion/config';
import { useApp } from './context';
import { MathNote } from './Equation';

/** ᾱ_t and log-SNR from β_t (beside the Schedule panel's plots). */
export const SCHEDULE_TEX = [String.raw`\bar\alpha_t = \prod_{s=1}^{t} (1-\beta_s), \qquad \log\mathrm{SNR}(t) = \log\frac{\bar\alpha_t}{1-\bar\alpha_t}`];

/** The forward process q(x_t | x_0) in closed form (Ho et al. 2020, Eq. 4) and its reparameterization. */
export const FORWARD_TEX = [
  String.raw`q(x_t \mid x_0) = \mathcal{N}\!\left(x_t;\ \sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t)\,\mathbf{I}\right)`,
  String.raw`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon, \qquad \epsilon \sim \mathcal{N}(0, \mathbf{I})`,
];

const LOSS_TEX: Record<PredictionType, string[]> = {
  epsilon: [String.raw`L_{\text{simple}} = \mathbb{E}_{t,\,x_0,\,\epsilon}\Big[\big\lVert \epsilon - \epsilon_\theta(x_t, t) \big\rVert^2\Big]`],
  x0: [String.raw`L = \mathbb{E}_{t,\,x_0,\,\epsilon}\Big[\big\lVert x_0 - \hat{x}_\theta(x_t, t) \big\rVert^2\Big]`],
  v: [
    String.raw`L = \mathbb{E}_{t,\,x_0,\,\epsilon}\Big[\big\lVert v - v_\theta(x_t, t) \big\rVert^2\Big]`,
    String.raw`v = \sqrt{\bar\alpha_t}\,\epsilon - \sqrt{1-\bar\alpha_t}\,x_0`,
  ],
};

const LOSS_WORDS: Record<PredictionType, string> = {
  epsilon: 'Each training step takes real digits, picks a random t, adds noise ε with the forward process, and asks the network which noise was added. The loss is the squared error of its guess.',
  x0: 'Each training step noises real digits to a random t and asks the network for the clean digit x₀ back. The loss is the squared error of its guess.',
  v: 'Each training step noises real digits to a random t and asks the network for the "velocity" v, a mix of the noise and the clean digit (Salimans & Ho). The loss is the squared error of its guess.',
};

/** Min-SNR-γ's weight as the loss of each parameterization sees it (src/diffusion/loss.ts, Hang et al. 2023). */
const MIN_SNR_WEIGHT: Record<PredictionType, string> = {
  epsilon: 'min(SNR(t), γ) / SNR(t)',
  x0: 'min(SNR(t), γ)',
  v: 'min(SNR(t), γ) / (SNR(t) + 1)',
};

/** The training objective for the model's prediction type (beside the Training panel). */
export function TrainingMath() {
  const prediction = useApp((s) => (s.pendingSetup ?? s.setup).prediction);
  const gamma = useApp((s) => (s.pendingSetup ?? s.setup).minSnrGamma);
  return (
    <aside className="math-panel" aria-label="Training objective">
      <MathNote title="What training minimizes" tex={LOSS_TEX[prediction]}>
        {LOSS_WORDS[prediction]}
        {gamma > 0 ? ` Min-SNR-γ (γ = ${gamma}) weights each t's loss by ${MIN_SNR_WEIGHT[prediction]}, so easy low-noise steps count less.` : ''}
      </MathNote>
    </aside>
  );
}

const DDPM_TEX = [
  String.raw`x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\left(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}\,\epsilon_\theta(x_t, t)\right) + \sigma_t\,z`,
  String.raw`z \sim \mathcal{N}(0, \mathbf{I})`,
];

const DDIM_TEX = [
  String.raw`\hat{x}_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta(x_t, t)}{\sqrt{\bar\alpha_t}}`,
  String.raw`x_{s} = \sqrt{\bar\alpha_{s}}\,\hat{x}_0 + \sqrt{1-\bar\alpha_{s}-\sigma_t^2}\;\epsilon_\theta(x_t, t) + \sigma_t\,z`,
  String.raw`\sigma_t = \eta\sqrt{\frac{1-\bar\alpha_{s}}{1-\bar\alpha_t}\left(1-\frac{\bar\alpha_t}{\bar\alpha_{s}}\right)}`,
];

/** The DDPM reverse step and the DDIM step (beside the Sampling panel); the chosen one is marked. */
export function SamplerMath() {
  const kind = useApp((s) => s.sampling.kind);
  const eta = useApp((s) => s.sampling.eta);
  const variance = useApp((s) => s.sampling.ddpmVariance);
  return (
    <aside className="math-panel" aria-label="Sampler equations">
      <MathNote title={`${SAMPLER_LABELS.ddpm} reverse step`} tex={DDPM_TEX} chosen={kind === 'ddpm'}>
        From the noisy x_t, subtract a little of the noise the network sees, then add back a little fresh noise z: one of T small steps
        from pure noise to a digit. σ_t² is {variance === 'beta' ? 'β_t' : 'β̃_t, the posterior variance'} (the DDPM variance setting).
      </MathNote>
      <MathNote title={`${SAMPLER_LABELS.ddim} step`} tex={DDIM_TEX} chosen={kind === 'ddim'}>
        Guess the clean digit x̂₀, then jump straight to an earlier time s (which may skip many steps) along the same noise direction.
        {kind === 'ddim' ? ` With η = ${eta}` : ' With η = 0'} {kind === 'ddim' && eta > 0 ? 'some fresh noise is added each step.' : 'no fresh noise is added: the same seed always gives the same digits.'}
      </MathNote>
      {kind === 'dpmpp' ? (
        <p className="field-hint">{SAMPLER_LABELS.dpmpp}(2M), the chosen sampler, takes DDIM-like steps that also use the previous step&apos;s x̂₀ to follow the curve more closely (second order).</p>
      ) : null}
    </aside>
  );
}
