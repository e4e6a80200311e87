import { useEffect, useMemo, useRef } from 'react';
import type { ScheduleConfig } from '../diffusion/config';
import { makeSchedule } from '../diffusion/schedule';
import type { DenoisingRecord } from '../state/denoising-record';
import { drawImage } from './draw';

/** Frames in the film strip, x_T to x_0. */
const FILM_FRAMES = 8;

/** Evenly spaced slots of the record, first and last included. */
export function filmSlots(filled: number, count = FILM_FRAMES): number[] {
  if (filled <= 0) return [];
  if (filled <= count) return Array.from({ length: filled }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.round((i * (filled - 1)) / (count - 1)));
}

/**
 * The selected image across the run, x_T → x_0, as a strip of frames; each frame jumps the player
 * there. The shown step is marked.
 */
export function FilmStrip({ record, filled, selected, shown, onGo }: { record: DenoisingRecord; filled: number; selected: number; shown: number; onGo: (slot: number) => void }) {
  const slots = filmSlots(filled);
  const canvases = useRef<(HTMLCanvasElement | null)[]>([]);
  useEffect(() => {
    canvases.current.forEach((canvas, i) => {
      const slot = i < slots.length ? slots[i] : -1;
      const own = slot >= 0 ? record.frame(slot) : null;
      // A latent model's position not decoded yet: the nearest decoded one before it, until its decoding arrives.
      const frame = own && !own.decoded ? record.nearestDecoded(slot) : own;
      if (!canvas) return;
      if (frame) drawImage(canvas, frame.x, Math.min(selected, frame.x.n - 1));
      else if (canvas.width !== 1) canvas.width = 1; // an empty frame: cleared
    });
  });
  // Always FILM_FRAMES frames, keyed by position: a run fills them without re-creating canvases or re-laying out the page.
  return (
    <ol className="film-strip" aria-label="Film strip of the selected image, from noise to digit">
      {Array.from({ length: FILM_FRAMES }, (_, i) => {
        const slot = i < slots.length ? slots[i] : -1;
        const frame = slot >= 0 ? record.frame(slot) : null;
        const label = frame ? (frame.t < 0 ? 'final sample' : `t = ${frame.t}`) : '';
        return (
          <li key={i}>
            <button type="button" className={`film-frame${slot >= 0 && slot === shown ? ' film-frame--shown' : ''}`} aria-label={frame ? `Go to ${label}` : `Film frame ${i + 1} (empty)`} disabled={!frame} onClick={() => onGo(slot)}>
              <canvas
                ref={(el) => {
                  canvases.current[i] = el;
                }}
                className="digits"
                width={1}
                height={1}
              />
              <span>{label || '\u00a0'}</span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}

/**
 * The signal left at each recorded step, √ᾱ_t (1 at the final sample), drawn behind the player's
 * slider so that the schedule and the frames are one picture.
 */
export function AlphaBarTrack({ record, filled, schedule }: { record: DenoisingRecord; filled: number; schedule: ScheduleConfig | null }) {
  const sqrtAlphaBar = useMemo(() => (schedule ? makeSchedule(schedule).sqrtAlphasCumprod : null), [schedule]);
  if (!sqrtAlphaBar || filled < 2) return null;
  const points: string[] = [];
  for (let slot = 0; slot < filled; slot++) {
    const t = record.frame(slot)?.t ?? -1;
    const signal = t < 0 ? 1 : sqrtAlphaBar[Math.min(t, sqrtAlphaBar.length - 1)];
    points.push(`${((slot / (filled - 1)) * 100).toFixed(2)},${((1 - signal) * 100).toFixed(2)}`);
  }
  return (
    <svg className="alpha-track" viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
      <polygon points={`0,100 ${points.join(' ')} 100,100`} />
    </svg>
  );
}
