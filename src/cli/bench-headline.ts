/**
 * `npm run bench -- --json F`'s `headline`: the article's claim (LDM against pixel DDPM: speed,
 * memory, quality) for the shipped pretrained pair, from this run's cases and the manifests' recorded
 * evaluations (`npm run eval -- --record`).
 *
 * - ldmSpeedupNode: DDIM-N ms/image, pixel ÷ LDM, in Node on wasm at the Node sampling batch;
 * - ldmSpeedupChromiumWasm: the same from the page's Compare panel on Chromium wasm (the page's own
 *   thread choice, or 1 thread when only thread counts were measured);
 * - ldmPeakMemoryRatio: peak tensor bytes while sampling, LDM ÷ pixel, in Node at the same batch;
 * - ldmFdRatio: LDM FD ÷ pixel FD at N = 1000, DDIM-50, each model's proposed guidance (the run the
 *   page headlines, src/io/pretrained.ts) — the same floor, seed and N on both sides.
 * A figure that this run did not measure is null, with the reason in `missing`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { headlineEval } from '../io/pretrained';
import type { BenchCase } from './bench-table';

export interface Headline {
  ldmSpeedupNode: number | null;
  ldmSpeedupChromiumWasm: number | null;
  ldmPeakMemoryRatio: number | null;
  ldmFdRatio: number | null;
  /** How each figure was measured (batch, steps, backend label, guidance, N). */
  details: Record<string, string>;
  missing: string[];
}

export interface RecordedFd {
  fd: number;
  guidance: number;
  n: number;
}

/** The FD of the run the page headlines (DDIM-50 at the largest N, the proposed guidance), from a manifest's `eval`. */
export function recordedFd(manifest: unknown): RecordedFd | null {
  const runs = (manifest as { eval?: unknown } | null)?.eval;
  const { figures } = headlineEval(runs);
  if (!figures || !Array.isArray(runs) || figures.guidance === undefined) return null;
  const run = runs.find((e: Record<string, unknown>) => e.sampler === 'DDIM-50' && e.n === figures.N && e.guidance === figures.guidance) as { samples?: { fd?: unknown } } | undefined;
  const fd = run?.samples?.fd;
  return typeof fd === 'number' && Number.isFinite(fd) ? { fd, guidance: figures.guidance, n: figures.N } : null;
}

function readManifest(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** The headline from this run's cases (model names as the bench gives the pretrained pair) and the manifests in `modelsDir`. */
export function benchHeadline(cases: BenchCase[], names: { pixel: string; latent: string }, steps: number, modelsDir: string): Headline {
  const missing: string[] = [];
  const details: Record<string, string> = {};
  const find = (where: BenchCase['where'], backend: (b: string) => boolean, model: string) =>
    cases.filter((c) => c.where === where && backend(c.backend) && c.kind === 'sample' && c.sampler === 'ddim' && c.steps === steps && c.model === model);
  const pair = (where: BenchCase['where'], backend: (b: string) => boolean): [BenchCase, BenchCase] | null => {
    // The largest batch both models were measured at.
    for (const p of find(where, backend, names.pixel).sort((a, b) => b.batch - a.batch)) {
      const l = find(where, backend, names.latent).find((c) => c.batch === p.batch && c.backend === p.backend);
      if (l) return [p, l];
    }
    return null;
  };
  const node = pair('node', (b) => b === 'wasm');
  const page = pair('chromium', (b) => b === 'wasm') ?? pair('chromium', (b) => b === 'wasm 1t');
  const speed = (p: [BenchCase, BenchCase] | null, key: string, what: string) => {
    if (!p) {
      missing.push(`${key}: ${what} not measured in this run`);
      return null;
    }
    details[key] = `DDIM-${steps}, batch ${p[0].batch}, ${p[0].where} ${p[0].backend}: ${p[0].msPerImage!.toFixed(1)} / ${p[1].msPerImage!.toFixed(1)} ms/image`;
    return p[0].msPerImage! / p[1].msPerImage!;
  };
  const ldmSpeedupNode = speed(node, 'ldmSpeedupNode', 'Node wasm sampling of the pretrained pair');
  const ldmSpeedupChromiumWasm = speed(page, 'ldmSpeedupChromiumWasm', 'the Compare panel on Chromium wasm');
  let ldmPeakMemoryRatio: number | null = null;
  if (node && node[0].peakBytes && node[1].peakBytes) {
    ldmPeakMemoryRatio = node[1].peakBytes / node[0].peakBytes;
    details.ldmPeakMemoryRatio = `Node wasm, batch ${node[0].batch}: ${(node[1].peakBytes / 2 ** 20).toFixed(1)} / ${(node[0].peakBytes / 2 ** 20).toFixed(1)} MiB`;
  } else missing.push('ldmPeakMemoryRatio: no Node peak memory for the pretrained pair');
  const pixelFd = recordedFd(readManifest(join(modelsDir, 'pixel')));
  const latentFd = recordedFd(readManifest(join(modelsDir, 'latent')));
  let ldmFdRatio: number | null = null;
  if (pixelFd && latentFd) {
    ldmFdRatio = latentFd.fd / pixelFd.fd;
    details.ldmFdRatio = `DDIM-50, recorded: LDM FD ${latentFd.fd.toFixed(2)} (w = ${latentFd.guidance}, N = ${latentFd.n}) / pixel FD ${pixelFd.fd.toFixed(2)} (w = ${pixelFd.guidance}, N = ${pixelFd.n})`;
  } else missing.push('ldmFdRatio: a manifest has no recorded DDIM-50 evaluation');
  return { ldmSpeedupNode, ldmSpeedupChromiumWasm, ldmPeakMemoryRatio, ldmFdRatio, details, missing };
}

/** The headline in words, with issue 19's targets. */
export function headlineLines(h: Headline): string[] {
  const f = (x: number | null, digits = 2) => (x === null ? 'not measured' : `${x.toFixed(digits)}x`);
  const v = (x: number | null, ok: (x: number) => boolean) => (x === null ? '' : ` (target ${ok(x) ? 'met' : 'missed'})`);
  return [
    `headline: LDM ${f(h.ldmSpeedupNode)} faster than pixel in Node${v(h.ldmSpeedupNode, (x) => x >= 4)}, ${f(h.ldmSpeedupChromiumWasm)} in Chromium wasm${v(h.ldmSpeedupChromiumWasm, (x) => x >= 4)}, ` +
      `${f(h.ldmPeakMemoryRatio)} the peak memory${v(h.ldmPeakMemoryRatio, (x) => x <= 0.5)}, ${f(h.ldmFdRatio)} the FD${v(h.ldmFdRatio, (x) => x <= 1)}`,
    ...Object.entries(h.details).map(([k, d]) => `  ${k}: ${d}`),
    ...h.missing.map((m) => `  ${m}`),
  ];
}
