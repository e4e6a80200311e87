/**
 * The lab's quality target, read from the worker's quality rows: the distance to fresh data within
 * TARGET_RATIO times the floor (two independent data samples of the same size), and, for mixtures,
 * every mode covered (a component is covered when at least COVER_SHARE of its own weight's share of
 * the samples lands nearest it).
 */
import type { LabComponent, LabQualityRequest, LabQualityRow } from '../../protocol/lab-messages';
import { DIFFUSION_SAMPLERS, FLOW_SAMPLERS, type LabSettings } from './lab-settings';

export const TARGET_RATIO = 2;
export const COVER_SHARE = 0.5;
/** Samples per quality measurement. */
export const QUALITY_COUNT = 1000;

export interface QualityVerdict {
  /** distance / floor (a floor ≤ 0 is taken as a tiny positive number). */
  ratio: number;
  /** Modes covered and in all (null: not a mixture). */
  covered: number | null;
  modes: number | null;
  met: boolean;
}

export function normalizedWeights(components: readonly LabComponent[]): number[] {
  const sum = components.reduce((a, c) => a + Math.max(0, c.weight), 0);
  return components.map((c) => (sum > 0 ? Math.max(0, c.weight) / sum : 1 / components.length));
}

/** Modes whose share of the samples is at least COVER_SHARE of their weight. */
export function modesCovered(shares: readonly number[], weights: readonly number[]): number {
  let covered = 0;
  for (let k = 0; k < shares.length; k++) if (shares[k] >= COVER_SHARE * (weights[k] ?? 1 / shares.length)) covered++;
  return covered;
}

/**
 * The ratio of distance to floor. The unbiased MMD² of two samples of one distribution is centred
 * on 0 and may be negative; a distance at or below a positive floor is as good as data.
 */
export function distanceRatio(row: Pick<LabQualityRow, 'distance' | 'floor'>): number {
  const floor = Math.max(Math.abs(row.floor), 1e-12);
  return Math.max(0, row.distance) / floor;
}

export function verdict(row: LabQualityRow, components: readonly LabComponent[] | null): QualityVerdict {
  const ratio = distanceRatio(row);
  if (!row.modeShares || !components || components.length !== row.modeShares.length) {
    return { ratio, covered: null, modes: null, met: ratio <= TARGET_RATIO };
  }
  const covered = modesCovered(row.modeShares, normalizedWeights(components));
  const modes = row.modeShares.length;
  return { ratio, covered, modes, met: ratio <= TARGET_RATIO && covered === modes };
}

/** The best learned row (lowest ratio, most modes covered), or null. */
export function bestLearned(rows: readonly LabQualityRow[], components: readonly LabComponent[] | null): { row: LabQualityRow; verdict: QualityVerdict } | null {
  let best: { row: LabQualityRow; verdict: QualityVerdict } | null = null;
  for (const row of rows) {
    if (row.denoiser !== 'learned') continue;
    const v = verdict(row, components);
    if (!best || Number(v.met) > Number(best.verdict.met) || (v.met === best.verdict.met && v.ratio < best.verdict.ratio)) best = { row, verdict: v };
  }
  return best;
}

/** A sweep over the objective's samplers at `steps`, learned and (for mixtures) exact. */
export function qualityRequestOf(s: LabSettings, exact: boolean, id: number, steps: number[]): LabQualityRequest {
  return {
    id,
    samplers: [...(s.objective === 'flow' ? FLOW_SAMPLERS : DIFFUSION_SAMPLERS)],
    steps: steps.filter((k) => s.objective === 'flow' || k <= s.T),
    denoisers: exact ? ['learned', 'exact'] : ['learned'],
    count: QUALITY_COUNT,
  };
}
