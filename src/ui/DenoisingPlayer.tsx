import { useEffect, useId, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { RecordState } from '../state/denoising-record';
import { useApp, useEngine } from './context';
import { Panel } from './fields';
import { imageAt, paintPosition } from './player-paint';
import { AlphaBarTrack, FilmStrip, filmSlots } from './PlayerFilm';
import './player.css';
import { useWarmCanvases } from './warm-canvases';

/** What the player shows: a slot of the run's record, following the newest one until the user takes over. */
interface View {
  run: number;
  slot: number;
  follow: boolean;
  playing: boolean;
}

const fresh = (run: number): View => ({ run, slot: 0, follow: true, playing: false });
/** Playback takes about four seconds, whatever the number of steps (one position per tick, 40-300 ms each). */
const tickMs = (positions: number) => Math.min(300, Math.max(40, 4000 / Math.max(1, positions)));

function useRecord<T>(select: (s: RecordState) => T): T {
  return useStore(useEngine().record.store, select);
}

/**
 * The denoising player: a timeline over every position of the last sampling run (x_T, each step's
 * x_t, the final sample) with play / pause / step back / step forward and a scrub slider. The grid
 * shows every image at the chosen step; the selected image's x_t, predicted x̂0 and predicted noise
 * ε̂ are shown large beside it (x_t = √ᾱ_t·x̂0 + √(1−ᾱ_t)·ε̂). Frames come from the record's typed
 * arrays (src/state/denoising-record.ts) and are drawn straight to the canvases.
 */
export function DenoisingPlayer() {
  const client = useEngine();
  const run = useRecord((s) => s.run);
  const steps = useRecord((s) => s.steps);
  const capacity = useRecord((s) => s.capacity);
  const filled = useRecord((s) => s.filled);
  const stride = useRecord((s) => s.stride);
  const stop = useRecord((s) => s.summary?.earlyStop ?? null);
  const planned = useRecord((s) => s.summary?.plannedSteps ?? null);
  const n = useRecord((s) => s.n);
  // Decodings that arrived after their position (latent models decode on demand): repaint.
  const decodedSeq = useRecord((s) => s.decodedSeq);
  const recordChannels = useRecord((s) => s.latentChannels);
  // Before the first run, laid out for the model in use (so the first frame only paints).
  const setupChannels = useApp((s) => (s.setup.kind === 'latent' ? s.setup.latent.latentChannels : 0));
  const runSchedule = useApp((s) => s.sample.schedule);
  const [stored, setView] = useState<View>(() => fresh(run));
  const [picked, setPicked] = useState(0);
  const view = stored.run === run ? stored : fresh(run);
  const last = filled - 1;
  const shown = filled === 0 ? -1 : view.follow ? last : Math.min(view.slot, last);
  const selected = Math.min(picked, Math.max(0, n - 1));
  const complete = filled > 0 && filled === capacity;
  const channels = filled === 0 ? recordChannels || setupChannels : recordChannels;
  useWarmCanvases('stage', channels);
  const sliderId = useId();
  const imageId = useId();

  const grid = useRef<HTMLCanvasElement>(null);
  const x = useRef<HTMLCanvasElement>(null);
  const x0 = useRef<HTMLCanvasElement>(null);
  const eps = useRef<HTMLCanvasElement>(null);
  const epsChannels = useRef<(HTMLCanvasElement | null)[]>([]);

  const frame = shown >= 0 ? client.record.frame(shown) : null;
  const position = frame?.position ?? 0;
  const t = frame?.t ?? null;

  const decodedShown = frame?.decoded ?? true;
  useEffect(() => {
    const record = client.record;
    const f = shown >= 0 ? record.frame(shown) : null;
    if (!f) return;
    // A latent model's position the run did not decode: show the nearest decoded one before it
    // until its decoding arrives; ask for it (and the film strip's) once the player is not
    // following a run still in progress (whose newest steps are decoded as they are shown live).
    paintPosition(f, selected, { grid: grid.current, x: x.current, x0: x0.current, eps: eps.current, epsChannels: epsChannels.current }, f.decoded ? f : record.nearestDecoded(shown));
    if (!view.follow || complete) record.requestDecode([shown, ...filmSlots(filled)]);
  }, [client, shown, selected, run, filled, channels, decodedSeq, view.follow, complete]);

  const go = (slot: number, playing = false) => setView({ run, slot: Math.max(0, Math.min(last, slot)), follow: false, playing });

  // Playback: one position per tick; it stops at the end of a finished run, and waits at the newest step of one still running.
  useEffect(() => {
    if (!view.playing) return;
    const timer = setInterval(() => {
      setView((v) => {
        const cur = v.run === run ? v : fresh(run);
        if (cur.slot < last) return { ...cur, slot: cur.slot + 1 };
        return complete ? { ...cur, playing: false } : cur;
      });
    }, tickMs(capacity));
    return () => clearInterval(timer);
  }, [view.playing, run, last, complete, capacity]);

  const play = () => go(shown >= last && complete ? 0 : shown, true);
  const empty = filled === 0;
  const tText = t === null ? '–' : t < 0 ? 'final sample' : String(t);

  return (
    <Panel title="Denoising player" className="panel--player">
      {empty ? <p className="muted">Press Sample: every step of the run is recorded here, to play back, pause and scrub.</p> : null}
      <div className="player-controls">
        <button type="button" disabled={empty || shown <= 0} onClick={() => go(shown - 1)}>
          <span aria-hidden="true">◀ </span>Step back
        </button>
        {view.playing ? (
          <button type="button" onClick={() => setView({ ...view, playing: false, slot: shown, follow: false })}>
            Pause
          </button>
        ) : (
          <button type="button" className="primary" disabled={empty || filled < 2} onClick={play}>
            Play
          </button>
        )}
        <button type="button" disabled={empty || shown >= last} onClick={() => go(shown + 1)}>
          Step forward<span aria-hidden="true"> ▶</span>
        </button>
        <label htmlFor={imageId}>Selected image</label>
        <select id={imageId} value={selected} disabled={empty} onChange={(e) => setPicked(Number(e.target.value))}>
          {Array.from({ length: Math.max(1, n) }, (_, i) => (
            <option key={i} value={i}>
              {i + 1}
            </option>
          ))}
        </select>
      </div>
      <div className="player-timeline">
        <label htmlFor={sliderId}>Denoising step</label>
        <span className="alpha-slider">
        <AlphaBarTrack record={client.record} filled={filled} schedule={runSchedule} />
        <input
          id={sliderId}
          type="range"
          min={0}
          max={Math.max(0, capacity - 1)}
          step={1}
          value={Math.max(0, shown)}
          disabled={empty}
          aria-valuetext={`step ${position} of ${steps}`}
          onChange={(e) => go(Number(e.target.value))}
        />
        </span>
        <output aria-label="Player step">{empty ? '–' : `${position} / ${steps}`}</output>
        <span className="player-t">
          t = <span aria-label="Player timestep">{tText}</span>
        </span>
      </div>
      {stop && complete ? (
        <p className="field-hint player-early-stop" aria-label="Early stop">
          <span aria-hidden="true">■ </span>Early stop at step {stop.index + 1}
          {planned !== null ? ` of ${planned}: ${stop.saved} model evaluation${stop.saved === 1 ? '' : 's'} saved` : ''} (measure {Number(stop.value.toPrecision(3))}); the last position is the x̂₀ predicted there.
        </p>
      ) : null}
      {stride > 1 ? <p className="field-hint">A long run: one step in every {stride} is kept (and the final sample), to stay within memory.</p> : null}
      <p className="field-hint alpha-legend">Shaded behind the slider: the signal left in x_t, √ᾱ_t, at each step of the run.</p>
      <FilmStrip record={client.record} filled={filled} selected={selected} shown={shown} onGo={(slot) => go(slot)} />
      <div className="player-body">
        <figure className="player-grid">
          <canvas
            ref={grid}
            className="digits digits--main"
            role="img"
            aria-label="Every image at this step"
            width={1}
            height={1}
            onClick={(e) => {
              const i = frame ? imageAt(e.currentTarget, e.clientX, e.clientY, frame.x.n, frame.x.h, frame.x.w) : -1;
              if (i >= 0) setPicked(i);
            }}
          />
          <figcaption>{decodedShown ? '' : 'decoding this step… '}{empty ? 'every image at the chosen step' : position === 0 ? 'x_T: pure noise' : t !== null && t < 0 ? (stop ? `the final samples: x̂₀ at the early stop (step ${stop.index + 1})` : 'the final samples') : `x_t at step ${position}`} (click an image to select it)</figcaption>
        </figure>
        <div className="player-detail" aria-label={`Image ${selected + 1} at this step`} role="group">
          <figure>
            <canvas ref={x} className="digits player-big" role="img" aria-label="Selected image: x_t" width={1} height={1} />
            <figcaption>x_t{channels ? ' (decoded)' : ''}</figcaption>
          </figure>
          <figure>
            <canvas ref={x0} className="digits player-big" role="img" aria-label="Selected image: predicted x0" width={1} height={1} />
            <figcaption>predicted x̂₀{channels ? ' (decoded)' : ''}</figcaption>
          </figure>
          {channels ? (
            <figure className="player-eps-latent">
              <div className="player-channels">
                {Array.from({ length: channels }, (_, k) => (
                  <canvas
                    key={k}
                    ref={(el) => {
                      epsChannels.current[k] = el;
                    }}
                    className="digits digits--latent"
                    role="img"
                    aria-label={`Selected image: predicted noise ε, latent channel ${k + 1}`}
                    width={1}
                    height={1}
                  />
                ))}
              </div>
              <figcaption>predicted noise ε̂ (latent channels)</figcaption>
            </figure>
          ) : (
            <figure>
              <canvas ref={eps} className="digits player-big" role="img" aria-label="Selected image: predicted noise ε" width={1} height={1} />
              <figcaption>predicted noise ε̂ (−3 black … +3 white)</figcaption>
            </figure>
          )}
        </div>
        <p className="field-hint">x_t = √ᾱ_t·x̂₀ + √(1−ᾱ_t)·ε̂: the model sees x_t and splits it into a clean image and the noise in it.</p>
      </div>
    </Panel>
  );
}
