import { useEffect, useRef, useState, type MouseEvent } from 'react';
import type { FrameState } from '../state/frames';
import type { TrainRun } from '../state/store';
import { BatchCanvas } from './BatchCanvas';
import { useApp, useEngine, useFrames } from './context';
import { drawBatch, gridShape } from './draw';
import { Panel } from './fields';
import { runStatus } from '../state/run-caption';
import { useWarmCanvases } from './warm-canvases';

const selectMain = (f: FrameState) => f.main;
const selectX0 = (f: FrameState) => f.x0;
const selectLatentXt = (f: FrameState) => f.latentXt;

/**
 * For one image of a latent sampling run: its decoded x_t, each channel of its 7x7xC latent as a
 * small image (normalized per channel), and its predicted x0, decoded.
 */
function LatentDetail({ index, count, channels, onPick }: { index: number; count: number; channels: number; onPick: (i: number) => void }) {
  return (
    <section className="latent-detail" aria-label="Latent view">
      <div className="latent-head">
        <h3>Inside the latent of image</h3>
        <label className="sr-only" htmlFor="inspect-image">
          Inspect image
        </label>
        <select id="inspect-image" value={index} onChange={(e) => onPick(Number(e.target.value))}>
          {Array.from({ length: count }, (_, i) => (
            <option key={i} value={i}>
              {i + 1}
            </option>
          ))}
        </select>
        <span className="muted">(or click an image in the grid)</span>
      </div>
      <div className="latent-row">
        <figure className="latent-fig latent-fig--image">
          <BatchCanvas select={selectMain} view={{ kind: 'image', index }} label={`Image ${index + 1}: x_t decoded`} className="digits digits--single" />
          <figcaption>x_t decoded</figcaption>
        </figure>
        <span className="latent-arrow" aria-hidden="true">
          ⇐
        </span>
        <div className="latent-channels">
          {Array.from({ length: channels }, (_, k) => (
            <figure key={k} className="latent-fig">
              <BatchCanvas select={selectLatentXt} view={{ kind: 'channel', index, channel: k }} label={`latent channel ${k + 1}`} className="digits digits--latent" />
              <figcaption>latent channel {k + 1}</figcaption>
            </figure>
          ))}
        </div>
        <span className="latent-arrow" aria-hidden="true">
          ⇒
        </span>
        <figure className="latent-fig latent-fig--image">
          <BatchCanvas select={selectX0} view={{ kind: 'image', index }} label={`Image ${index + 1}: predicted x0 decoded`} className="digits digits--single" />
          <figcaption>predicted x₀ decoded</figcaption>
        </figure>
      </div>
      <p className="field-hint">
        The denoiser works on these {channels} channels of 7×7 numbers (each shown stretched to its own range); the decoder turns them into the 28×28 digit.
      </p>
    </section>
  );
}

/**
 * Shown while a run has started and its first frame (sampling) or step (training) has not come: on
 * WebGPU and WebGL that first step compiles the GPU programs (shaders), which takes seconds, a
 * software GPU tens of them. The seconds tick so the page is seen to be alive.
 */
function FirstStepWait({ gpu }: { gpu: boolean }) {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    const t0 = performance.now();
    const id = setInterval(() => setSeconds(Math.floor((performance.now() - t0) / 1000)), 250);
    return () => clearInterval(id);
  }, []);
  return (
    <p className="muted" aria-label="First step">
      {gpu ? (
        <>
          Compiling shaders… {seconds} s <span className="field-hint">(the first step builds the GPU programs; the next steps reuse them)</span>
        </>
      ) : (
        <>Starting…{seconds >= 2 ? ` ${seconds} s` : ''}</>
      )}
    </p>
  );
}

/**
 * A run that has started and has no frame or step yet, and whether its backend compiles shaders.
 * A training run counts from Start (not from Resume, whose programs are already built).
 */
function useFirstStepWait(): { waiting: boolean; gpu: boolean } {
  const gpu = useApp((s) => s.engine.backend === 'webgpu' || s.engine.backend === 'webgl');
  const sampleWaiting = useApp((s) => s.sample.state === 'running' && s.sample.elapsedMs === null);
  const trainState = useApp((s) => s.train.state);
  const trainStep = useApp((s) => s.train.step);
  // The training state last seen, and the step a started run began from (null otherwise).
  const [seen, setSeen] = useState<{ state: TrainRun['state']; from: number | null }>({ state: trainState, from: null });
  if (seen.state !== trainState) setSeen({ state: trainState, from: trainState === 'running' && seen.state !== 'paused' ? trainStep : null });
  const trainWaiting = trainState === 'running' && seen.from !== null && trainStep === seen.from;
  return { waiting: sampleWaiting || trainWaiting, gpu };
}

/**
 * The image grids: x_t and the predicted x0 while sampling (decoded, for a latent model, with its
 * latent channels below), the latest training preview while training. Frames arrive through the
 * frame store's subscribe and are drawn with putImageData at most once per animation frame; React
 * re-renders only when the mode, caption or latent shape changes.
 */
export function SampleCanvas() {
  const client = useEngine();
  const mode = useFrames((s) => s.mode);
  const previewStep = useFrames((s) => s.previewStep);
  const latentCount = useFrames((s) => (s.mode === 'sample' ? (s.latentXt?.n ?? 0) : 0));
  const latentChannels = useFrames((s) => (s.mode === 'sample' ? (s.latentXt?.c ?? 0) : 0));
  const run = useApp((s) => s.sample);
  // Before the first run the views of the model in use are laid out already, empty, so that the first
  // frame only paints them (re-laying out the page then made a main-thread task of 50-100 ms).
  const setupChannels = useApp((s) => (s.setup.kind === 'latent' ? s.setup.latent.latentChannels : 0));
  const modelReady = useApp((s) => s.model !== null);
  const main = useRef<HTMLCanvasElement>(null);
  const x0 = useRef<HTMLCanvasElement>(null);
  const [picked, setPicked] = useState(0);
  const wait = useFirstStepWait();
  const latent = latentCount > 0 || (mode === 'empty' && setupChannels > 0);
  const inspect = Math.min(picked, Math.max(0, latentCount - 1));
  useWarmCanvases('stage', `${latent}:${latentChannels || setupChannels}`);

  useEffect(() => {
    let raf = 0;
    let drawnSeq = -1;
    const draw = () => {
      raf = 0;
      const f = client.frames.getState();
      if (f.seq === drawnSeq) return;
      drawnSeq = f.seq;
      if (f.main && main.current) drawBatch(main.current, f.main);
      if (f.x0 && x0.current) drawBatch(x0.current, f.x0);
    };
    draw();
    const unsubscribe = client.frames.subscribe((s, prev) => {
      if ((s.main !== prev.main || s.x0 !== prev.x0) && raf === 0) raf = requestAnimationFrame(draw);
    });
    return () => {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [client]);

  /** A click on the grid picks that image for the latent view. */
  const pickFromGrid = (e: MouseEvent<HTMLCanvasElement>) => {
    const f = client.frames.getState();
    if (!latent || !f.main) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const { cols } = gridShape(f.main.n);
    const cw = e.currentTarget.width;
    const ch = e.currentTarget.height;
    const x = ((e.clientX - rect.left) / rect.width) * cw;
    const y = ((e.clientY - rect.top) / rect.height) * ch;
    const i = Math.floor(y / (f.main.h + 1)) * cols + Math.floor(x / (f.main.w + 1));
    if (i >= 0 && i < f.main.n) setPicked(i);
  };

  const status = runStatus(run);
  const atStep = run.total > 0 ? `step ${Math.min(run.index + 1, run.total)} / ${run.total}` : '';
  const made = run.caption ? ` — ${[run.caption, status, status === 'finished' ? '' : atStep].filter(Boolean).join(', ')}` : '';
  const mainLabel =
    mode === 'sample'
      ? `${status === 'finished' ? 'Samples' : latent ? 'x_t decoded' : 'x_t'}${made}`
      : mode === 'preview'
        ? `Training preview at step ${previewStep ?? '?'}`
        : 'Samples';
  const x0Caption = latent ? 'Predicted x₀, decoded' : 'Predicted x₀';
  return (
    <Panel title="Samples" className="panel--canvas">
      {wait.waiting ? <FirstStepWait gpu={wait.gpu} /> : mode === 'empty' ? <p className="muted">{modelReady ? 'Press Sample: the model turns noise into digits here, step by step.' : 'Train the model (2 · Learn) or load the pretrained one, then press Sample to see images here.'}</p> : null}
      <div className={`canvases${latent ? ' canvases--latent' : ''}${mode === 'empty' ? ' canvases--empty' : ''}`}>
        <figure className="canvas-main">
          <canvas ref={main} className="digits digits--main" role="img" aria-label={mainLabel} width={1} height={1} onClick={pickFromGrid} />
          <figcaption>{mode === 'empty' ? 'x_t: the images being denoised' : mainLabel}</figcaption>
        </figure>
        <figure hidden={mode === 'preview'}>
          <canvas ref={x0} className="digits digits--main" role="img" aria-label="Predicted x0" width={1} height={1} />
          <figcaption>{x0Caption}</figcaption>
        </figure>
      </div>
      {latent ? <LatentDetail index={inspect} count={Math.max(1, latentCount)} channels={latentChannels || setupChannels} onPick={setPicked} /> : null}
    </Panel>
  );
}
