import { BAND_WINDOW, bandRange } from '../state/loss-bands';
import { useApp, useEngine } from './context';
import './loss-bands.css';

const W = 400;
const H = 170;
const LEFT = 44;
const RIGHT = 8;
const TOP = 12;
const BOTTOM = 34;

/** 1, 2 or 5 times a power of ten, at least `v`: the top of the axis. */
function niceTop(v: number): number {
  if (!(v > 0)) return 1;
  const mag = Math.pow(10, Math.floor(Math.log10(v)));
  return ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= v * (1 - 1e-9)) ?? 10 * mag);
}

const formatLoss = (v: number) => (v >= 1 ? v.toFixed(2) : v >= 0.01 ? v.toFixed(3) : v.toExponential(1));

/**
 * The training loss by timestep: one bar per band of t (10 bands over 1..T), each the mean loss
 * of its last BAND_WINDOW training examples. Plain SVG, re-rendered with the loss chart's counter
 * (a few times a second at most).
 */
export function LossByTimestep() {
  const client = useEngine();
  // Re-render when the loss history changes (the bands are read from the client, not the store).
  useApp((s) => s.train.lossVersion);
  const setupT = useApp((s) => s.setup.schedule.T);
  const bands = client.lossBands;
  const T = bands.T || setupT;
  const means = bands.means();
  const filled = means.filter((m) => m !== null).length;
  const top = niceTop(Math.max(0, ...means.map((m) => m ?? 0)));
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const slot = plotW / bands.bands;
  const y = (v: number) => TOP + plotH * (1 - Math.min(1, v / top));
  const ticks = [0, top / 2, top];

  return (
    <figure className="chart loss-bands" aria-label="Loss by timestep" data-bands-filled={filled}>
      <svg viewBox={`0 0 ${W} ${H}`} className="loss-bands-svg">
        {ticks.map((v) => (
          <g key={v} aria-hidden="true">
            <line x1={LEFT} x2={W - RIGHT} y1={y(v)} y2={y(v)} className="loss-bands-grid" />
            <text x={LEFT - 4} y={y(v) + 4} textAnchor="end" className="loss-bands-tick">
              {v === 0 ? '0' : formatLoss(v)}
            </text>
          </g>
        ))}
        {means.map((m, b) => {
          const [lo, hi] = bandRange(b, T, bands.bands);
          const label = m === null ? `t ${lo}–${hi}: no examples yet` : `t ${lo}–${hi}: mean loss ${formatLoss(m)} over the last ${Math.min(bands.seen(b), BAND_WINDOW)} examples`;
          const x = LEFT + b * slot + slot * 0.12;
          return (
            <g key={b}>
              <rect role="img" aria-label={label} x={x} width={slot * 0.76} y={m === null ? TOP + plotH : y(m)} height={m === null ? 0 : TOP + plotH - y(m)} className="loss-bands-bar">
                <title>{label}</title>
              </rect>
              <text x={LEFT + (b + 0.5) * slot} y={H - BOTTOM + 14} textAnchor="middle" className="loss-bands-tick" aria-hidden="true">
                {lo}
              </text>
            </g>
          );
        })}
        <text x={LEFT + plotW / 2} y={H - 4} textAnchor="middle" className="loss-bands-axis" aria-hidden="true">
          band of t (first t shown) · nearly clean → pure noise
        </text>
      </svg>
      <figcaption>
        Loss by timestep: each bar is the mean loss of the last {BAND_WINDOW} training examples whose t fell in that tenth of 1..{T}. Low bars are noise levels the
        model has learned.{filled === 0 ? ' No denoiser steps yet.' : ''}
      </figcaption>
    </figure>
  );
}
