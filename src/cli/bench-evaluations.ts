/**
 * `npm run bench`'s quality-against-evaluations rows (issue 20), in Node on wasm: the Compare panel's
 * configurations (src/protocol/compare-evaluations.ts: fixed-step DDIM and DPM-Solver++, the adaptive
 * DPM-Solver-12 at several tolerances, early stopping at several thresholds, the distilled student at
 * 1, 2, 4 and 8 steps) on the pretrained LDM, measured by `npm run eval:steps`' code (measureSteps):
 * a table of method, model evaluations, FD / floor and ms / image.
 *
 *   npm run bench -- --no-browser --eval-n 100           # with the other Node rows
 *   npm run bench -- --no-node --no-browser --eval-n 50  # these rows only
 *   --eval-n 0 leaves them out; --eval-guidance 1.3; --eval-families ddim,dpmpp,adaptive,early-stop,student
 */
import { DISTILLED_MODEL_PATH, EVALUATION_FAMILIES, evaluationBatch, parseEvaluationCase, planEvaluationCases, type EvaluationFamily } from '../protocol/compare-evaluations';
import { UsageError } from './args';
import { measureSteps, type StepsRow } from './eval-steps';
import { defaultModelDir } from './sampling-options';

export interface BenchEvaluationsArgs {
  'eval-n': number;
  'eval-guidance': number;
  'eval-families': string;
  'eval-seed': number;
}

export const BENCH_EVALUATIONS_DEFAULTS: BenchEvaluationsArgs = { 'eval-n': 50, 'eval-guidance': 1.3, 'eval-families': EVALUATION_FAMILIES.join(','), 'eval-seed': 0 };

export interface BenchEvaluations {
  model: 'latent';
  n: number;
  guidance: number;
  seed: number;
  floorFd: number;
  rows: StepsRow[];
}

/** The families asked for; throws a UsageError naming an unknown one. */
export function parseFamilies(text: string): EvaluationFamily[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const f of names) if (!(EVALUATION_FAMILIES as readonly string[]).includes(f)) throw new UsageError(`--eval-families: unknown '${f}' (expected ${EVALUATION_FAMILIES.join(', ')})`);
  return names as EvaluationFamily[];
}

/** Measures the rows (null when --eval-n is 0). */
export async function benchEvaluations(args: BenchEvaluationsArgs, log: (line: string) => void): Promise<BenchEvaluations | null> {
  const n = args['eval-n'];
  if (n === 0) return null;
  if (!(Number.isInteger(n) && n >= 2 && n <= 1000)) throw new UsageError(`--eval-n must be 0 or a whole number from 2 to 1000, got ${n}`);
  const guidance = args['eval-guidance'];
  if (!(Number.isFinite(guidance) && guidance >= 0 && guidance <= 20)) throw new UsageError(`--eval-guidance must be a number from 0 to 20, got ${guidance}`);
  const cases = planEvaluationCases(parseFamilies(args['eval-families']), 'latent').map(parseEvaluationCase);
  const seed = args['eval-seed'];
  const { rows, floor } = await measureSteps(
    {
      model: 'latent', modelDir: defaultModelDir('latent'), classifierDir: defaultModelDir('classifier'), studentDir: defaultModelDir(DISTILLED_MODEL_PATH),
      cases, n, batch: evaluationBatch(n), seed, guidance,
    },
    (line) => log(`eval: ${line}`),
  );
  return { model: 'latent', n, guidance, seed, floorFd: floor.fd, rows };
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** The table: method, model evaluations, FD / floor, ms / image (one untimed pass of N samples), and a line on how it was measured. */
export function evaluationsTable(b: BenchEvaluations): string {
  const lines = [
    `Quality against model evaluations: pretrained LDM, Node wasm, N = ${b.n} per configuration (batch ${evaluationBatch(b.n)}, seed ${b.seed}), guidance ${b.guidance} (the student: 1, built in); floor FD ${fmt(b.floorFd, 2)} at N = ${b.n}`,
    '',
    '| method | model evaluations | FD | FD / floor | ms / image |',
    '|---|---|---|---|---|',
  ];
  for (const r of b.rows) {
    if (r.skipped) {
      lines.push(`| ${r.name} | not measured: ${r.skipped} | | | |`);
      continue;
    }
    const range = r.evaluationsMin === r.evaluationsMax ? '' : ` (${r.evaluationsMin}-${r.evaluationsMax})`;
    lines.push(`| ${r.name} | ${fmt(r.evaluations, 1)}${range} | ${fmt(r.fd, 2)} | ${fmt(r.fdOverFloor, 3)} | ${fmt(r.msPerImage, 1)} |`);
  }
  return lines.join('\n');
}
