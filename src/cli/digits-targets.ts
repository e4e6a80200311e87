/**
 * Issue 18's "time to digits" targets, read off a live quality curve (src/engine/quality-curve.ts):
 * evaluation-classifier confidence ≥ 0.9, label entropy ≥ 2.2 nats and FD ≤ 5× the real-digit
 * floor at the same N. Shared by `npm run bench:digits` in Node and its `--page` mode.
 */
import type { QualityPoint } from '../protocol/quality-messages';
import { formatSeconds } from './progress';

export const DIGITS_TARGETS = { confidence: 0.9, entropy: 2.2, fdOverFloor: 5 } as const;

/** The first point (training seconds, step) at which each target holds, and all three at once; null where none did. */
export interface FirstTimes {
  confidence: QualityPoint | null;
  entropy: QualityPoint | null;
  fd: QualityPoint | null;
  all: QualityPoint | null;
}

const meets = {
  confidence: (p: QualityPoint) => p.confidence >= DIGITS_TARGETS.confidence,
  entropy: (p: QualityPoint) => p.labelEntropy >= DIGITS_TARGETS.entropy,
  fd: (p: QualityPoint) => p.fd <= DIGITS_TARGETS.fdOverFloor * p.floorFd,
};

export function firstTimes(points: readonly QualityPoint[]): FirstTimes {
  const first = (ok: (p: QualityPoint) => boolean) => points.find(ok) ?? null;
  return {
    confidence: first(meets.confidence),
    entropy: first(meets.entropy),
    fd: first(meets.fd),
    all: first((p) => meets.confidence(p) && meets.entropy(p) && meets.fd(p)),
  };
}

/** The curve as a Markdown table; with `cpu`, a column of the CPU seconds at each point. */
export function formatCurve(points: readonly QualityPoint[], cpu?: readonly number[]): string {
  const rows = points.map((p, i) => `| ${formatSeconds(p.trainingSec)} |${cpu ? ` ${formatSeconds(cpu[i])} |` : ''} ${p.step} | ${p.confidence.toFixed(3)} | ${p.labelEntropy.toFixed(3)} | ${(p.fd / p.floorFd).toFixed(2)} | ${p.fd.toFixed(1)} / ${p.floorFd.toFixed(1)} |`);
  const head = `| time |${cpu ? ' CPU time |' : ''} step | confidence | entropy | FD / floor | FD / floor FD |`;
  return [head, head.replace(/[^|]+/g, '---'), ...rows].join('\n');
}

/** When each target was first met ("not met" where it was not); with `cpuOf`, the CPU time then too. */
export function formatTargets(f: FirstTimes, cpuOf?: (p: QualityPoint) => number): string {
  const at = (p: QualityPoint | null) => (p ? `${formatSeconds(p.trainingSec)} (step ${p.step}${cpuOf ? `, ${formatSeconds(cpuOf(p))} CPU` : ''})` : 'not met');
  return [
    `confidence ≥ ${DIGITS_TARGETS.confidence}: ${at(f.confidence)}`,
    `label entropy ≥ ${DIGITS_TARGETS.entropy}: ${at(f.entropy)}`,
    `FD ≤ ${DIGITS_TARGETS.fdOverFloor}× floor: ${at(f.fd)}`,
    `all three at once: ${at(f.all)}`,
  ].join('\n');
}
