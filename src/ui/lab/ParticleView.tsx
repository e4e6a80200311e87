import { useEffect, useId, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { PaneId } from '../../state/lab/lab-client';
import { LAB_LIMITS } from '../../state/lab/lab-settings';
import { integerIn } from '../../state/validate';
import { useEngine } from '../context';
import { NumberField, Panel } from '../fields';
import { PaneControls, paneCaption, PaneProblem } from './PaneControls';
import { paintPane, pathIndices } from './particle-paint';
import { useLab, useSetting } from './use-lab';

/** Playback of a whole run takes this long, whatever its number of steps. */
const PLAY_MS = 4000;

interface PlayerView {
  runs: string;
  /** Position on the shared timeline (0: x_T .. span: the samples). */
  u: number;
  follow: boolean;
  playing: boolean;
}
const fresh = (runs: string): PlayerView => ({ runs, u: 0, follow: true, playing: false });
const validateParticles = integerIn(...LAB_LIMITS.particles, 'Particles');
const validateSeed = integerIn(0, 2 ** 31 - 1, 'Noise seed');
const validatePaths = integerIn(0, 64, 'Paths shown');

/**
 * Reverse sampling of a few thousand particles in two panes from the same starting noise, with the
 * paths of a chosen few. One timeline drives both (each pane at the same share of its run), with
 * the denoising player's controls: play / pause, step back / forward, and a scrub slider.
 */
export function ParticleView() {
  const client = useEngine();
  const lab = client.lab;
  const recA = lab.records.a;
  const recB = lab.records.b;
  const a = useStore(recA.store);
  const b = useStore(recB.store);
  const particles = useSetting('particles');
  const seed = useSetting('sampleSeed');
  const data = useLab((s) => s.data);
  const connected = useLab((s) => s.connected);
  const [paths, setPaths] = useState(16);
  // One press of Sample (one or two runs, one after the other): the player follows them from the start.
  const runs = String(useLab((st) => st.sampleBatch));
  // The player's view of the current pair of runs: a new run is followed as it arrives.
  const [stored, setStored] = useState<PlayerView>(() => fresh(runs));
  const view = stored.runs === runs ? stored : fresh(runs);
  const { u, follow, playing } = view;
  const setView = (patch: Partial<PlayerView>) => setStored((v) => ({ ...(v.runs === runs ? v : fresh(runs)), ...patch }));
  const canvases = { a: useRef<HTMLCanvasElement>(null), b: useRef<HTMLCanvasElement>(null) };
  const figure = useRef<HTMLDivElement>(null);
  const frames = useRef(0);

  const sliderId = useId();

  const span = Math.max(a.total, b.total, 1) - 1;
  const shown = follow ? span : Math.min(u, span);
  const running = a.state === 'running' || b.state === 'running';
  const empty = a.filled === 0 && b.filled === 0;

  // Draw on the next frame after any change; while playing, every frame advances the timeline.
  const scene = useRef({ shown, paths, data, span });
  useEffect(() => {
    scene.current = { shown, paths, data, span };
  });
  useEffect(() => {
    let raf = 0;
    let last = performance.now();
    let pos = scene.current.shown;
    const draw = (position: number) => {
      const { data: d, paths: p, span: sp } = scene.current;
      for (const id of ['a', 'b'] as PaneId[]) {
        const canvas = canvases[id].current;
        const record = lab.records[id];
        const total = record.store.getState().total;
        if (!canvas) continue;
        paintPane(canvas, {
          record,
          position: sp > 0 ? (position * (total - 1)) / sp : 0,
          data: d?.points ?? null,
          extent: d?.extent ?? 3.5,
          paths: pathIndices(p, record.store.getState().n),
        });
      }
      frames.current++;
      figure.current?.setAttribute('data-frames', String(frames.current));
    };
    let committed = last;
    const tick = (now: number) => {
      if (playing) {
        const sp = scene.current.span;
        pos = Math.min(sp, pos + ((now - last) * sp) / PLAY_MS);
        last = now;
        draw(pos);
        // The particles move every frame; the slider, its number and the captions (React) a few
        // times a second: repainting the controls every frame cost more than drawing the particles.
        if (pos >= sp) return setView({ u: pos, playing: false });
        if (now - committed > 250) {
          committed = now;
          setView({ u: pos });
        }
        raf = requestAnimationFrame(tick);
      } else {
        draw(scene.current.shown);
      }
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
    // While playing the loop reads `scene`; it restarts only when play starts or stops.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lab, playing, playing ? 0 : shown, playing ? 0 : paths, playing ? null : data, a.filled, b.filled, a.run, b.run]);

  const go = (to: number) => setView({ playing: false, follow: false, u: Math.max(0, Math.min(span, Math.round(to))) });
  const play = () => setView({ follow: false, playing: true, u: shown >= span ? 0 : shown });
  const pos = (total: number) => (span > 0 ? Math.round((shown * (total - 1)) / span) : 0);

  return (
    <Panel title="Particles" className="lab-panel lab-particles">
      <div className="lab-row">
        <NumberField label="Particles" value={particles} step={100} min={10} max={5000} validate={validateParticles} onCommit={(v) => lab.update({ particles: v })} />
        <NumberField label="Noise seed" value={seed} step={1} min={0} validate={validateSeed} onCommit={(v) => lab.update({ sampleSeed: v })} />
        <NumberField label="Paths shown" value={paths} step={1} min={0} max={64} validate={validatePaths} onCommit={(v) => validatePaths(v) === null && setPaths(v)} />
        <div className="buttons">
          <button type="button" className="primary" disabled={!connected} onClick={() => lab.sample()}>
            Sample
          </button>
          <button type="button" disabled={!running} onClick={() => lab.cancelSampling()}>
            Stop sampling
          </button>
        </div>
      </div>
      <div className="lab-panes" ref={figure} data-frames={0}>
        {(['a', 'b'] as PaneId[]).map((id) => {
          const r = id === 'a' ? a : b;
          return (
            <figure key={id} className="lab-pane" data-run={r.run} data-state={r.state}>
              <PaneControls pane={id} />
              <canvas ref={canvases[id]} className="lab-canvas" role="img" aria-label={`Particles: ${id === 'a' ? 'left' : 'right'} pane`} width={1} height={1} />
              <figcaption aria-label={`${id === 'a' ? 'Left' : 'Right'} pane run`}>{paneCaption(r, pos(r.total))}</figcaption>
              <PaneProblem pane={id} />
            </figure>
          );
        })}
      </div>
      <div className="player-controls">
        <button type="button" disabled={empty || shown <= 0} onClick={() => go(shown - 1)}>
          <span aria-hidden="true">◀ </span>Step back
        </button>
        {playing ? (
          <button type="button" onClick={() => go(u)}>
            Pause
          </button>
        ) : (
          <button type="button" className="primary" disabled={empty || span < 1} onClick={play}>
            Play
          </button>
        )}
        <button type="button" disabled={empty || shown >= span} onClick={() => go(shown + 1)}>
          Step forward<span aria-hidden="true"> ▶</span>
        </button>
      </div>
      <div className="player-timeline">
        <label htmlFor={sliderId}>Reverse step</label>
        <input
          id={sliderId}
          type="range"
          min={0}
          max={span}
          step={1}
          value={Math.round(shown)}
          disabled={empty}
          aria-valuetext={`step ${Math.round(shown)} of ${span}`}
          onChange={(e) => go(Number(e.target.value))}
        />
        <output aria-label="Particle player step">{empty ? '–' : `${Math.round(shown)} / ${span}`}</output>
      </div>
      <p className="field-hint">
        Both panes start from the same noise x_T (seed {seed}). Grey: the training data. Coloured lines: the paths of {paths} particles so far.
      </p>
    </Panel>
  );
}
