/**
 * `npm run bench`'s cases and how they print: the markdown table and the ratios the project's speed
 * and memory targets are about (README, "Benchmarks"), each computed from cases of one run, on one
 * backend.
 */
import { samplerStepsLabel, type SamplerKind } from '../diffusion/config';

export interface BenchCase {
  /** Node (the CLI's wasm or cpu backend) or the built app in Chromium. */
  where: 'node' | 'chromium';
  backend: string;
  kind: 'train' | 'sample';
  sampler?: SamplerKind;
  model: string;
  batch: number;
  steps?: number;
  msPerStep?: number;
  stepsPerSec?: number;
  msPerImage?: number;
  imagesPerSec?: number;
  peakBytes?: number;
  flopsPerImage: number;
}

export function benchTable(cases: BenchCase[]): string {
  const mb = (b?: number) => (b == null ? '' : (b / 2 ** 20).toFixed(1));
  const rows = cases.map((c) => {
    const head = `| ${c.where} | ${c.backend}`;
    return c.kind === 'train'
      ? `${head} | train | ${c.model} | ${c.batch} | | ${c.msPerStep!.toFixed(0)} ms/step | ${c.stepsPerSec!.toFixed(2)} steps/s | ${mb(c.peakBytes)} | ${(c.flopsPerImage / 1e6).toFixed(1)} |`
      : `${head} | sample ${samplerStepsLabel(c.sampler ?? 'ddim', c.steps!)} | ${c.model} | ${c.batch} | ${c.steps} | ${c.msPerImage!.toFixed(1)} ms/image | ${c.imagesPerSec!.toFixed(2)} images/s | ${mb(c.peakBytes)} | ${(c.flopsPerImage / 1e6).toFixed(1)} |`;
  });
  return ['| where | backend | case | model | batch | steps | time | rate | peak MiB | MFLOP/image |', '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/** The pixel / LDM pairs compared: Node's untrained presets, and the app's pretrained pair. */
const PAIRS: [string, string][] = [
  ['pixel small', 'LDM small'],
  ['pixel base', 'LDM small'],
  ['pixel (pretrained', 'LDM (pretrained'],
];

/** The sampler targets are defined at DDIM / DPM-Solver++ 20 against DDPM 1000; other settings get no verdict. */
const verdict = (ok: boolean, target: string, applies = true) => (applies ? ` (target ${target}: ${ok ? 'met' : 'missed'})` : '');

/** "ddim-20,ddpm-1000" → sampler cases; an entry that is not sampler-steps is an error naming it. */
export function parseCases(text: string): { sampler: SamplerKind; steps: number }[] {
  return text.split(',').filter((p) => p.trim() !== '').map((part) => {
    const m = /^(ddpm|ddim|dpmpp)-(\d+)$/.exec(part.trim());
    const steps = m ? Number(m[2]) : NaN;
    if (!m || !(steps >= 1 && steps <= 1000)) throw new Error(`bench: --cases: '${part}' is not sampler-steps (ddpm, ddim or dpmpp, 1 to 1000 steps), e.g. ddim-20`);
    return { sampler: m[1] as SamplerKind, steps };
  });
}

/** "1,2" → wasm thread counts for the page (`?threads=N`, 1 to 4); '' → none (the page's own choice). */
export function parseThreads(text: string): number[] {
  return text.split(',').filter((p) => p.trim() !== '').map((part) => {
    const n = Number(part.trim());
    if (!Number.isInteger(n) || n < 1 || n > 4) throw new Error(`bench: --browser-threads: '${part}' is not a thread count from 1 to 4`);
    return n;
  });
}

/**
 * The page against Node and against itself, from one run: the Compare panel's DDIM time per image
 * on Chromium wasm over Node wasm's for the same pretrained model and batch (target ≤ 1.2× at the same
 * thread count: a page row labelled `wasm Nt` against Node's `nodeThreads`), and the Sampling panel
 * (recorder and frames) over the Compare panel on the same backend.
 */
export function pageLines(cases: BenchCase[], steps: number, nodeThreads: number): string[] {
  const lines: string[] = [];
  const ddim = (c: BenchCase) => c.kind === 'sample' && c.sampler === 'ddim' && c.steps === steps;
  for (const p of cases.filter((c) => c.where === 'chromium' && ddim(c) && !c.model.includes('Sampling panel'))) {
    const threads = /^wasm (\d)t$/.exec(p.backend)?.[1];
    const node = cases.find((c) => c.where === 'node' && c.backend === 'wasm' && ddim(c) && c.model === p.model && c.batch === p.batch);
    if (p.backend.startsWith('wasm') && node) {
      const ratio = p.msPerImage! / node.msPerImage!;
      const same = threads !== undefined && Number(threads) === nodeThreads;
      lines.push(`chromium ${p.backend} vs node wasm (${nodeThreads} thread${nodeThreads > 1 ? 's' : ''}): ${p.model}, ${samplerStepsLabel('ddim', steps)}, batch ${p.batch}: the page takes ${ratio.toFixed(2)}x Node's time per image${verdict(ratio <= 1.2, '≤ 1.2x', same)}`);
    }
    const panel = cases.find((c) => c.where === 'chromium' && c.backend === p.backend && ddim(c) && c.model.startsWith(`${p.model}, Sampling panel`));
    if (panel) lines.push(`chromium ${p.backend}: ${p.model}, ${samplerStepsLabel('ddim', steps)}: the Sampling panel (recorder, frames) takes ${(panel.msPerImage! / p.msPerImage!).toFixed(2)}x the Compare panel's time per image`);
  }
  // wasm threads in the page: each case on N threads against 1.
  for (const one of cases.filter((c) => c.where === 'chromium' && c.backend === 'wasm 1t')) {
    for (const many of cases.filter((c) => c.where === 'chromium' && /^wasm [2-4]t$/.test(c.backend) && c.kind === one.kind && c.model === one.model && c.sampler === one.sampler && c.steps === one.steps && c.batch === one.batch)) {
      const speed = one.kind === 'train' ? many.stepsPerSec! / one.stepsPerSec! : one.msPerImage! / many.msPerImage!;
      const what = one.kind === 'train' ? 'train' : `sample ${samplerStepsLabel(one.sampler ?? 'ddim', one.steps!)}`;
      lines.push(`chromium wasm threads: ${what} ${one.model}, batch ${one.batch}: ${many.backend.replace('wasm ', '').replace('t', ' threads')} ${speed.toFixed(2)}x the speed of 1`);
    }
  }
  return lines;
}

/** The ratios, per place and backend: LDM against pixel, few-step samplers against DDPM, wasm against cpu. */
export function ratioLines(cases: BenchCase[], steps: number, ddpmSteps: number): string[] {
  const lines: string[] = [];
  const groups = new Map<string, BenchCase[]>();
  for (const c of cases) groups.set(`${c.where} ${c.backend}`, [...(groups.get(`${c.where} ${c.backend}`) ?? []), c]);
  for (const [group, cs] of groups) {
    const sample = (model: string, sampler: SamplerKind, st: number) => cs.find((c) => c.kind === 'sample' && c.model.startsWith(model) && c.sampler === sampler && c.steps === st);
    for (const [pixel, ldm] of PAIRS) {
      const p = sample(pixel, 'ddim', steps);
      const l = sample(ldm, 'ddim', steps);
      if (!p || !l) continue;
      const speed = p.msPerImage! / l.msPerImage!;
      const memory = l.peakBytes! / p.peakBytes!;
      lines.push(`${group}: ${l.model} vs ${p.model}, ${samplerStepsLabel('ddim', steps)}: ${speed.toFixed(1)}x faster per image${verdict(speed >= 8, '8x')}, ${memory.toFixed(2)}x the peak memory${verdict(memory <= 0.25, '0.25x')}`);
    }
    for (const model of new Set(cs.filter((c) => c.kind === 'sample').map((c) => c.model))) {
      const slow = sample(model, 'ddpm', ddpmSteps);
      if (!slow) continue;
      for (const fast of (['ddim', 'dpmpp'] as const).map((k) => sample(model, k, steps))) {
        if (!fast) continue;
        const speed = slow.msPerImage! / fast.msPerImage!;
        lines.push(`${group}: ${model}: ${samplerStepsLabel(fast.sampler!, steps)} vs ${samplerStepsLabel('ddpm', ddpmSteps)}: ${speed.toFixed(1)}x faster per image${verdict(speed >= 40, '40x', steps === 20 && ddpmSteps === 1000)}`);
      }
    }
  }
  for (const c of cases.filter((x) => x.kind === 'train' && x.backend === 'cpu')) {
    const w = cases.find((x) => x.kind === 'train' && x.backend === 'wasm' && x.where === c.where && x.model === c.model && x.batch === c.batch);
    if (w) lines.push(`${c.where}: train ${c.model}: wasm ${(w.stepsPerSec! / c.stepsPerSec!).toFixed(1)}x the cpu backend's steps/s${verdict(w.stepsPerSec! / c.stepsPerSec! >= 20, '20x')}`);
  }
  return lines;
}
