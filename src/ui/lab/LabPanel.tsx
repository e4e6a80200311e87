import { startTransition, useEffect, useId, useRef, useState } from 'react';
import { LAB_PRESETS, presetMatches } from '../../state/lab/lab-presets';
import { syncLabUrl } from '../../state/lab/lab-url';
import { useApp, useEngine } from '../context';
import { MathNote } from '../Equation';
import { ErrorBoundary } from '../ErrorBoundary';
import { Panel } from '../fields';
import { DataControls } from './DataControls';
import { FieldViews } from './FieldViews';
import { ModelControls } from './ModelControls';
import { ParticleView } from './ParticleView';
import { QualityView } from './QualityView';
import { TrainingControls } from './TrainingControls';
import { useLab, useSetting } from './use-lab';
import './lab.css';

let urlApplied = false;

/** The lab's parts appear in this many frames (see the stages below). */
const LAST_STAGE = 7;

/**
 * The 2D lab (issue 17): a point-cloud data set, an MLP denoiser that trains in seconds, particles
 * flowing from noise to data, and the learned field beside the exact one. Its settings live in the
 * address bar under `lab.`; the worker gets its setup once the engine is ready.
 */
export function LabPanel() {
  const client = useEngine();
  const lab = client.lab;
  const ready = useApp((s) => s.engine.status === 'ready');
  const error = useLab((s) => s.error);
  const notice = useLab((s) => s.notice);

  // A link's lab settings apply once, before the first setup; then the address bar follows them.
  useEffect(() => {
    if (typeof location === 'undefined') return;
    if (!urlApplied) {
      urlApplied = true;
      lab.applyUrl(location.search);
    }
    const sync = syncLabUrl(lab.store, window);
    return () => sync.dispose();
  }, [lab]);

  // The lab's model is built when the lab comes near the view, not at the page's start: the stage's
  // first sampling run does not wait for it, and a visit that never reaches the lab never builds it.
  // Its controls, canvases and equations are rendered then too (as a transition, which React renders
  // in slices of a few milliseconds): at the page's start they added their canvases' first paints
  // and equations to the page's longest tasks.
  const root = useRef<HTMLElement>(null);
  const [near, setNear] = useState(() => typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    const el = root.current;
    if (near || !el) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && startTransition(() => setNear(true)), { rootMargin: '400px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [near]);

  // Its parts appear one frame after another (controls, particles, fields, quality, then each of the
  // three equations), so that the browser's style and layout of the new elements is split over
  // frames: all at once it took one task of 50 ms of CPU (150-190 ms on the loaded 2-core machine),
  // and the quality view with the three equations together (KaTeX: most of the lab's elements) still
  // made one of 50-60 ms.
  const [stage, setStage] = useState(0);
  useEffect(() => {
    if (!near || stage >= LAST_STAGE) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const raf = requestAnimationFrame(() => {
      timer = setTimeout(() => startTransition(() => setStage((s) => Math.min(LAST_STAGE, s + 1))), 0);
    });
    return () => {
      cancelAnimationFrame(raf);
      clearTimeout(timer);
    };
  }, [near, stage]);

  useEffect(() => {
    // A restarted engine has lost the lab's model: it gets the setup again.
    if (ready && near) lab.connect();
    else lab.disconnect();
  }, [lab, ready, near]);

  return (
    <section ref={root} className="panel lab" aria-labelledby="lab-title">
      <h2 id="lab-title">2D lab</h2>
      <LabPresets />
      {notice ? (
        <p className="lab-notice" role="status" aria-label="Lab message">
          {notice}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" role="alert" aria-label="Lab error">
          {error}
        </p>
      ) : null}
      {ready ? null : <p className="muted">The lab starts with the engine…</p>}
      {stage > 0 ? null : <div className="lab-placeholder" aria-hidden="true" />}
      {stage > 0 ? (
        <div className="lab-grid">
          <div className="lab-side">
            <ErrorBoundary name="Lab data">
              <DataControls />
            </ErrorBoundary>
            <ErrorBoundary name="Lab model">
              <ModelControls />
            </ErrorBoundary>
            <ErrorBoundary name="Lab training">
              <TrainingControls />
            </ErrorBoundary>
          </div>
          <div className="lab-main">
            {stage >= 2 ? (
              <ErrorBoundary name="Particles">
                <ParticleView />
              </ErrorBoundary>
            ) : null}
            {stage >= 3 ? (
              <ErrorBoundary name="Density and field">
                <FieldViews />
              </ErrorBoundary>
            ) : null}
            {stage >= 4 ? (
              <div className="lab-bottom">
                <ErrorBoundary name="Lab quality">
                  <QualityView />
                </ErrorBoundary>
                {stage >= 5 ? (
                  <ErrorBoundary name="Lab equations">
                    <LabMath shown={stage - 4} />
                  </ErrorBoundary>
                ) : null}
              </div>
            ) : null}
          </div>
        </div>
      ) : null}
    </section>
  );
}

/** The lab's presets: each sets every lab setting (the defaults and its own values). */
export function LabPresets() {
  const lab = useEngine().lab;
  const titleId = useId();
  const compareId = useId();
  const chosenName = useLab((s) => s.preset);
  const chosen = LAB_PRESETS.find((p) => p.name === chosenName || p.alternatives.some((a) => a.name === chosenName)) ?? null;
  // Which alternatives the settings match, as a string (re-renders only when that changes, not with every setting).
  const matches = useLab((s) => (chosen ? chosen.alternatives.map((a) => (presetMatches(s.settings, a) ? '1' : '0')).join('') : ''));
  return (
    <div className="presets lab-presets">
      <div className="presets__row" role="group" aria-labelledby={titleId}>
        <span id={titleId} className="presets__title">
          Lab presets
        </span>
        {LAB_PRESETS.map((p) => (
          <button key={p.name} type="button" aria-pressed={chosen === p} onClick={() => lab.applyPreset(p)}>
            {p.name}
          </button>
        ))}
      </div>
      {chosen ? (
        <div className="presets__note" role="note" aria-label="Lab preset note">
          <p>{chosen.note}</p>
          {chosen.alternatives.length > 0 ? (
            <div className="presets__row" role="group" aria-labelledby={compareId}>
              <span id={compareId} className="presets__title">
                Compare
              </span>
              {chosen.alternatives.map((a, k) => (
                <button key={a.name} type="button" aria-pressed={matches[k] === '1'} onClick={() => lab.applyPreset(a, a.name)}>
                  {a.name}
                </button>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

const MARGINAL = String.raw`q(x_t) = \sum_k \pi_k\, \mathcal{N}\!\big(x_t;\ \sqrt{\bar\alpha_t}\,\mu_k,\ (\bar\alpha_t s_k^2 + 1 - \bar\alpha_t)\, I\big)`;
const SCORE = String.raw`\nabla_{x_t} \log q(x_t) = -\sum_k r_k(x_t)\, \frac{x_t - \sqrt{\bar\alpha_t}\,\mu_k}{\bar\alpha_t s_k^2 + 1 - \bar\alpha_t}, \qquad r_k(x_t) \propto \pi_k\, \mathcal{N}\!\big(x_t;\ \sqrt{\bar\alpha_t}\,\mu_k,\ (\bar\alpha_t s_k^2 + 1 - \bar\alpha_t) I\big)`;
const EPS = String.raw`\hat\varepsilon^*(x_t) = \mathbb{E}[\varepsilon \mid x_t] = -\sqrt{1-\bar\alpha_t}\ \nabla_{x_t} \log q(x_t)`;
const FLOW_XT = String.raw`x_t = (1 - t)\, x_0 + t\, \varepsilon, \qquad t \in [0, 1]`;
const FLOW_TARGET = String.raw`\mathcal{L} = \mathbb{E}_{t, x_0, \varepsilon}\, \big\| v_\theta(x_t, t) - (\varepsilon - x_0) \big\|^2, \qquad \frac{dx_t}{dt} = v_\theta(x_t, t)\ \text{from } t = 1 \text{ to } 0`;

/**
 * The lab's equations: the noised mixture and its exact score, and flow matching's path and target.
 * `shown`: how many of the three notes are rendered yet (they appear one frame after another).
 */
export function LabMath({ shown = 3 }: { shown?: number }) {
  const objective = useSetting('objective');
  return (
    <Panel title="Lab equations" className="lab-panel lab-math">
      <MathNote title="The noised mixture" tex={MARGINAL} chosen={objective === 'diffusion'}>
        For data from a mixture of Gaussians N(μ_k, s_k² I) with weights π_k, noising keeps it a mixture: each mean shrinks by √ᾱ_t and each variance
        moves towards 1. So q(x_t) — the density view — is known exactly.
      </MathNote>
      {shown >= 2 ? (
        <MathNote title="Its exact score and the optimal denoiser" tex={[SCORE, EPS]}>
          The score pulls x_t towards each shrunken mean, weighted by how likely that component made x_t. The best possible ε-prediction is the score
          times −√(1−ᾱ_t): the “exact” field and denoiser beside the learned ones.
        </MathNote>
      ) : null}
      {shown >= 3 ? (
        <MathNote title="Flow matching" tex={[FLOW_XT, FLOW_TARGET]} chosen={objective === 'flow'}>
          Rectified flow joins data and noise by straight lines; the network learns the velocity ε − x₀ along them. Sampling integrates the velocity from
          noise (t = 1) back to data (t = 0) with Euler or Heun steps, on paths that are nearly straight.
        </MathNote>
      ) : null}
    </Panel>
  );
}