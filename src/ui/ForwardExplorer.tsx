/**
 * The forward-process explorer: a real digit (one of the Data panel's, which the worker sends) or
 * one drawn with the mouse, noised to any t of the current schedule with a fixed ε from a seed,
 * x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε, with both weights shown as numbers. Plain JS on 784 numbers.
 */
import { useEffect, useId, useMemo, useRef, useState, type PointerEvent } from 'react';
import type { ImageBatch } from '../protocol/messages';
import { validateSeed } from '../state/validate';
import { useApp, useFrames } from './context';
import { drawBatch } from './draw';
import { MathNote } from './Equation';
import { NumberField, Panel, SelectField } from './fields';
import { blankImage, forwardMix, IMAGE_PIXELS, IMAGE_SIZE, paintDot, paintStroke, seededGaussian } from './forward-math';
import { FORWARD_TEX } from './MathNotes';
import { tryMakeSchedule } from './schedule-plot';

const DRAWING = 'drawing';
/** Frames of the Play animation from t = 1 to t = T. */
const PLAY_FRAMES = 120;

type CanvasHandler = (e: PointerEvent<HTMLCanvasElement>) => void;
type DrawingHandlers = Record<'onPointerDown' | 'onPointerMove' | 'onPointerUp' | 'onPointerCancel', CanvasHandler>;

/** One 28x28 image of the explorer, repainted when its pixels change; `drawing` makes it a drawing pad. */
function DigitCanvas({ pixels, label, caption, drawing }: { pixels: Float32Array; label: string; caption: string; drawing?: DrawingHandlers }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current) drawBatch(canvas.current, { pixels, n: 1, h: IMAGE_SIZE, w: IMAGE_SIZE, c: 1 }, 1);
  }, [pixels]);
  return (
    <figure className="forward-fig">
      <canvas ref={canvas} className={`digits digits--forward${drawing ? ' digits--drawable' : ''}`} role="img" aria-label={label} width={IMAGE_SIZE} height={IMAGE_SIZE} {...drawing} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}

/** The k-th real digit of the data preview, or null when there is none (yet). */
function realDigit(data: ImageBatch | null, k: number): Float32Array | null {
  if (!data || data.h * data.w * data.c !== IMAGE_PIXELS || k < 0 || k >= data.n) return null;
  return data.pixels.subarray(k * IMAGE_PIXELS, (k + 1) * IMAGE_PIXELS);
}

export function ForwardExplorer() {
  const config = useApp((s) => (s.pendingSetup ?? s.setup).schedule);
  const data = useFrames((s) => s.data);
  const labels = useApp((s) => s.data?.labels ?? null);
  const [source, setSource] = useState<string>('0');
  const [drawing, setDrawing] = useState<Float32Array>(() => blankImage());
  const [tChosen, setT] = useState<number | null>(null);
  const [seed, setSeed] = useState(0);
  const [playing, setPlaying] = useState(false);
  const sliderId = useId();
  const stroke = useRef<{ ink: Float32Array; x: number; y: number } | null>(null);

  const schedule = useMemo(() => tryMakeSchedule(config), [config]);
  const T = schedule?.T ?? 1;
  const t = Math.min(T, Math.max(1, tChosen ?? Math.round(T / 4)));
  const signal = schedule ? schedule.sqrtAlphasCumprod[t - 1] : 1;
  const noise = schedule ? schedule.sqrtOneMinusAlphasCumprod[t - 1] : 0;
  const real = useMemo(() => (source === DRAWING ? null : realDigit(data, Number(source))), [data, source]);
  // Until the real digits arrive, the drawing (blank at first) is shown.
  const shown = real ? source : DRAWING;
  const x0 = real ?? drawing;
  const eps = useMemo(() => seededGaussian(validateSeed(seed) === null ? seed : 0), [seed]);
  const xt = useMemo(() => forwardMix(x0, eps, signal, noise), [x0, eps, signal, noise]);

  // Play: sweep t up to T, one animation frame per step of T / PLAY_FRAMES, then stop.
  useEffect(() => {
    if (!playing) return;
    const raf = requestAnimationFrame(() => {
      const next = Math.min(T, t + Math.max(1, Math.round(T / PLAY_FRAMES)));
      setT(next);
      if (next >= T) setPlaying(false);
    });
    return () => cancelAnimationFrame(raf);
  }, [playing, t, T]);
  const togglePlay = () => {
    if (playing) return setPlaying(false);
    if (t >= T) setT(1);
    setPlaying(true);
  };
  const clearDrawing = () => {
    setDrawing(blankImage());
    setSource(DRAWING);
  };

  /** Drawing on x0 starts from the digit shown (so a real digit can be edited) and switches to "My drawing". */
  const toImage = (e: PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * IMAGE_SIZE, y: ((e.clientY - r.top) / r.height) * IMAGE_SIZE };
  };
  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    const ink = Float32Array.from(x0);
    const { x, y } = toImage(e);
    paintDot(ink, x, y);
    stroke.current = { ink, x, y };
    setSource(DRAWING);
    setDrawing(Float32Array.from(ink));
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const s = stroke.current;
    if (!s) return;
    const { x, y } = toImage(e);
    if (paintStroke(s.ink, s.x, s.y, x, y)) setDrawing(Float32Array.from(s.ink));
    s.x = x;
    s.y = y;
  };
  const endStroke = () => {
    stroke.current = null;
  };

  const digitOptions = [
    ...Array.from({ length: data && labels ? Math.min(data.n, labels.length) : 0 }, (_, k) => ({ value: String(k), label: `Real digit ${k + 1}: a ${labels?.[k]}` })),
    { value: DRAWING, label: 'My drawing' },
  ];
  return (
    <Panel title="Forward process" className="panel--forward">
      <div className="grid2">
        <SelectField label="Digit x₀" value={shown} options={digitOptions} onChange={setSource} />
        <NumberField label="Noise seed" value={seed} step={1} min={0} validate={validateSeed} onCommit={setSeed} />
      </div>
      <div className="field field--range">
        <label htmlFor={sliderId}>Timestep t</label>
        <div className="range-row">
          <input id={sliderId} type="range" min={1} max={T} step={1} value={t} disabled={!schedule} onChange={(e) => setT(Number(e.target.value))} />
          <output htmlFor={sliderId} aria-label="Timestep t value">
            {t}
          </output>
          <button type="button" disabled={!schedule} onClick={togglePlay}>
            {playing ? 'Pause' : 'Play'}
          </button>
        </div>
      </div>
      {!schedule ? <p className="field-error">Fix the schedule's settings to explore the forward process.</p> : null}
      <div className="forward-row">
        <DigitCanvas
          pixels={x0}
          label="Clean digit x0 (draw on it with the mouse)"
          caption="x₀: draw on it"
          drawing={{ onPointerDown, onPointerMove, onPointerUp: endStroke, onPointerCancel: endStroke }}
        />
        <span className="forward-op" aria-hidden="true">
          <span>×&nbsp;{signal.toFixed(4)}</span>
          <span>+</span>
        </span>
        <DigitCanvas pixels={eps} label="Noise ε" caption={`ε (seed ${validateSeed(seed) === null ? seed : 0})`} />
        <span className="forward-op" aria-hidden="true">
          <span>×&nbsp;{noise.toFixed(4)}</span>
          <span>=</span>
        </span>
        <DigitCanvas pixels={xt} label="Noisy digit x_t" caption={`x_t at t = ${t}`} />
      </div>
      <div className="buttons buttons--forward">
        <button type="button" onClick={clearDrawing}>
          Clear drawing
        </button>
        {!data ? <span className="muted">Loading real digits… (or draw one)</span> : null}
      </div>
      <dl className="run-facts math-facts">
        <div>
          <dt>Signal weight √ᾱ_t</dt>
          <dd aria-label="Signal weight">{signal.toFixed(4)}</dd>
        </div>
        <div>
          <dt>Noise weight √(1−ᾱ_t)</dt>
          <dd aria-label="Noise weight">{noise.toFixed(4)}</dd>
        </div>
        <div>
          <dt>ᾱ_t</dt>
          <dd aria-label="Alpha bar">{schedule ? (signal * signal).toPrecision(4) : '–'}</dd>
        </div>
      </dl>
      <MathNote title="The forward process" tex={FORWARD_TEX}>
        Noising needs no loop: to reach step t, shrink the digit by √ᾱ_t and add noise ε scaled by √(1−ᾱ_t). The two weights squared add up
        to 1, so the image keeps its overall spread while the digit fades into noise as t grows.
      </MathNote>
    </Panel>
  );
}
