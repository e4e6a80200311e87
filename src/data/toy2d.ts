/**
 * The 2D lab's data sets (issue 17), seeded and deterministic: 8 Gaussians, two moons, a swiss roll,
 * a checkerboard, concentric rings, a user-edited Gaussian mixture, and drawn points. Points are
 * interleaved (x, y), [n, 2], scaled to lie roughly within [−2.5, 2.5]² (unit-ish spread, as the
 * N(0, I) prior of diffusion and flow matching expects). The shapes follow the usual toy sets of the
 * literature (FFJORD's 8 Gaussians and checkerboard, scikit-learn's make_moons and swiss roll).
 */
import type { LabComponent, LabDataSpec, LabDatasetKind } from '../protocol/lab-messages';
import type { MixtureComponent2D } from '../diffusion/gaussian-mixture-2d';
import { normalizeMixture2D } from '../diffusion/gaussian-mixture-2d';
import { createRandom, deriveSeed, type Random } from './random';

/** 8 Gaussians: means on a circle of this radius, each with this std. */
export const GAUSSIANS8_RADIUS = 2;
export const GAUSSIANS8_STD = 0.2;
/** Most points a data set may hold. */
export const MAX_TOY2D_POINTS = 20000;

/** What names a data set's distribution (a LabDataSpec without its size and seed). */
export interface Toy2DKind {
  kind: LabDatasetKind;
  components?: readonly MixtureComponent2D[];
  points?: Float32Array;
}

/** The data set's Gaussian mixture where it is one (8 Gaussians, the user's mixture), else null. */
export function toy2dMixture(spec: Toy2DKind): LabComponent[] | null {
  if (spec.kind === 'gaussians8') {
    return Array.from({ length: 8 }, (_, k) => {
      const angle = (2 * Math.PI * k) / 8;
      return { mean: [GAUSSIANS8_RADIUS * Math.cos(angle), GAUSSIANS8_RADIUS * Math.sin(angle)], std: GAUSSIANS8_STD, weight: 1 / 8 };
    });
  }
  if (spec.kind === 'mixture') {
    if (!spec.components || spec.components.length === 0) throw new Error('A Gaussian mixture data set needs at least one component.');
    return normalizeMixture2D(spec.components).map((c) => ({ mean: [c.mean[0], c.mean[1]], std: c.std, weight: c.weight }));
  }
  return null;
}

function sampleMixture(components: readonly MixtureComponent2D[], n: number, rng: Random): Float32Array {
  const comps = normalizeMixture2D(components);
  const cumulative = new Float64Array(comps.length);
  comps.reduce((s, c, k) => (cumulative[k] = s + c.weight), 0);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    let k = 0;
    while (k < comps.length - 1 && u >= cumulative[k]) k++;
    out[2 * i] = comps[k].mean[0] + comps[k].std * rng.gaussian();
    out[2 * i + 1] = comps[k].mean[1] + comps[k].std * rng.gaussian();
  }
  return out;
}

type Shape = (rng: Random) => [number, number];

/** Two interleaved half circles (scikit-learn's make_moons, noise 0.05), centred and scaled by 1.6. */
const moons: Shape = (rng) => {
  const theta = Math.PI * rng.uniform();
  const upper = rng.uniform() < 0.5;
  const x = upper ? Math.cos(theta) : 1 - Math.cos(theta);
  const y = upper ? Math.sin(theta) : 0.5 - Math.sin(theta);
  return [1.6 * (x - 0.5 + 0.05 * rng.gaussian()), 1.6 * (y - 0.25 + 0.05 * rng.gaussian())];
};

/** The 2-D swiss roll (scikit-learn's make_swiss_roll's (x, z) plane, noise 0.3), scaled by 0.18. */
const swissroll: Shape = (rng) => {
  const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
  return [0.18 * (t * Math.cos(t) + 0.3 * rng.gaussian()), 0.18 * (t * Math.sin(t) + 0.3 * rng.gaussian())];
};

/** A 4×4 checkerboard on [−2, 2]² with unit squares, half of them filled (FFJORD's, halved). */
const checkerboard: Shape = (rng) => {
  const x = 4 * rng.uniform() - 2;
  const y0 = rng.uniform() - 2 * rng.int(2);
  return [x, y0 + (((Math.floor(x) % 2) + 2) % 2)];
};

/** Radii of the concentric rings; points are spread by arc length (so ∝ radius) with noise 0.05. */
export const RING_RADII = [0.7, 1.4, 2.1] as const;
const rings: Shape = (rng) => {
  const total = RING_RADII.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  let r: number = RING_RADII[RING_RADII.length - 1];
  for (const radius of RING_RADII) {
    if (u < radius) {
      r = radius;
      break;
    }
    u -= radius;
  }
  const angle = 2 * Math.PI * rng.uniform();
  return [(r + 0.05 * rng.gaussian()) * Math.cos(angle), (r + 0.05 * rng.gaussian()) * Math.sin(angle)];
};

const SHAPES: Partial<Record<LabDatasetKind, Shape>> = { moons, swissroll, checkerboard, rings };

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_TOY2D_POINTS) {
    throw new Error(`The number of points must be an integer in [1, ${MAX_TOY2D_POINTS}], got ${count}.`);
  }
}

/** The drawn points of a 'drawn' spec, checked (at least 2 finite points). */
export function drawnPoints(spec: Pick<Toy2DKind, 'points'>): Float32Array {
  const p = spec.points;
  if (!p || p.length < 4 || p.length % 2 !== 0) throw new Error('Draw at least two points to make a data set.');
  if (p.length / 2 > MAX_TOY2D_POINTS) throw new Error(`At most ${MAX_TOY2D_POINTS} drawn points, got ${p.length / 2}.`);
  for (let i = 0; i < p.length; i++) if (!Number.isFinite(p[i])) throw new Error('Drawn points must be finite numbers.');
  return p;
}

/**
 * `count` points of the data set, deterministic in (spec, seed): the training set uses the spec's
 * seed; fresh samples for quality measurements use other seeds. For 'drawn', the drawn points are
 * resampled with replacement (the empirical distribution).
 */
export function sampleToy2D(spec: Toy2DKind, count: number, seed: number): Float32Array {
  checkCount(count);
  const rng = createRandom(deriveSeed(seed, 0x70792d));
  const mixture = toy2dMixture(spec);
  if (mixture) return sampleMixture(mixture, count, rng);
  if (spec.kind === 'drawn') {
    const p = drawnPoints(spec);
    const m = p.length / 2;
    const out = new Float32Array(2 * count);
    for (let i = 0; i < count; i++) {
      const j = rng.int(m);
      out[2 * i] = p[2 * j];
      out[2 * i + 1] = p[2 * j + 1];
    }
    return out;
  }
  const shape = SHAPES[spec.kind];
  if (!shape) throw new Error(`Unknown 2D data set "${String(spec.kind)}".`);
  const out = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) [out[2 * i], out[2 * i + 1]] = shape(rng);
  return out;
}

/** The training set of a spec: its points ([n, 2]) and its mixture where the data set is one. */
export function makeToy2D(spec: LabDataSpec): { points: Float32Array; mixture: LabComponent[] | null } {
  if (spec.kind === 'drawn') return { points: drawnPoints(spec).slice(), mixture: null };
  return { points: sampleToy2D(spec, spec.count, spec.seed), mixture: toy2dMixture(spec) };
}
