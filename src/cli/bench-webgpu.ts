/**
 * WebGPU train-step benchmark in headless Chromium: fast ops (conv gradients per
 * CONV_GRAD_BY_BACKEND in src/kernels/fast-ops.ts) against tfjs's own gradients, same backend, one run.
 *
 *   npm run bench:webgpu -- [--presets tiny,small] [--batch 2] [--reps 3] [--conv-reps 3] [--conv-batch N]
 *                           [--backend webgpu] [--json FILE] [--timeout 1800]
 *
 * Starts Vite's dev server on a free port (the project's vite.config.ts, with the bench page as an
 * extra dependency-scan entry so that no on-demand optimisation reloads the page mid-run), launches
 * Chromium headless with the flags of playwright.config.ts (Debian's /usr/bin/chromium, or
 * $CHROMIUM_PATH), opens tests/perf/webgpu-bench.html, echoes its progress on stderr, waits for
 * window.__benchResult and prints markdown tables. Here WebGPU runs on SwiftShader, a CPU emulation:
 * keep batches and presets small. On a real GPU, run it in a normal (headed) Chrome profile or with
 * the GPU flags your platform needs; the page is the same.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { createServer } from 'vite';
import { chromium } from '@playwright/test';
import { parseArgs } from './args';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright.config';
import type { BenchResult } from '../../tests/perf/webgpu-bench';

/** A free TCP port on 127.0.0.1 (asks the OS for one, then releases it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address != null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

function printTables(r: BenchResult): void {
  const adapter = r.adapter == null ? 'none reported' : Object.entries(r.adapter).filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`).join(', ');
  console.log(`\n## ${r.backend} train step: fast ops vs tfjs's own gradients (${r.date})\n`);
  console.log(`- tf.getBackend(): \`${r.backend}\`; adapter: ${adapter}`);
  console.log(`- conv2dFast gradients on ${r.backend}: dW ${r.choice.filter}, dx ${r.choice.input}`);
  console.log(`- ${r.userAgent}`);
  if (r.adapter?.architecture === 'swiftshader') console.log('- SwiftShader is a CPU emulation of WebGPU: ratios only, not GPU speed.');
  const other = r.presets[0]?.otherFilter ?? 'other';
  console.log(`\n| preset | params | batch | train step, tfjs's own | train step, fast (dW ${r.choice.filter}) | speedup | train step, fast, dW ${other} | speedup | forward, tfjs | forward, fast | speedup |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const p of r.presets) {
    console.log(
      `| ${p.preset} | ${p.params.toLocaleString('en-US')} | ${p.batch} | ${fmtMs(p.plain.trainMs)} | ${fmtMs(p.fast.trainMs)} | ` +
        `**${p.trainSpeedup.toFixed(2)}×** | ${fmtMs(p.fastOther.trainMs)} | ${p.trainSpeedupOther.toFixed(2)}× | ` +
        `${fmtMs(p.plain.forwardMs)} | ${fmtMs(p.fast.forwardMs)} | ${p.forwardSpeedup.toFixed(2)}× |`,
    );
  }
  console.log(`\nMedians of ${r.presets[0]?.reps ?? 0} alternating reps after one warm-up each; speedup = tfjs's own / fast (target ≥ 2× for the train step).`);
  if (r.convTimings.length > 0) {
    console.log('\n| one conv, forward + backward | variant | ms |\n|---|---|---|');
    for (const c of r.convTimings) console.log(`| ${c.conv} | ${c.variant} | ${c.ms.toFixed(1)} |`);
  }
  console.log('\n| gradient check (fast vs tfjs, same backend) | dW, dx by | max abs diff value | dx | dW (max abs dW) | db |\n|---|---|---|---|---|---|');
  for (const g of r.gradChecks) {
    const d = g.maxAbsDiff;
    console.log(
      `| ${g.conv} | ${g.strategy.filter}, ${g.strategy.input} | ${d.value.toExponential(1)} | ${d.dx.toExponential(1)} | ` +
        `${d.dW.toExponential(1)} (${g.maxAbs.dW.toFixed(1)}) | ${d.db.toExponential(1)} |`,
    );
  }
  console.log(`\nTotal ${r.totalSeconds.toFixed(0)} s in the page.`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    presets: 'tiny,small', batch: 2, reps: 3, 'conv-reps': 3, 'conv-batch': 0, backend: 'webgpu', json: '', timeout: 1800,
  });
  const port = await freePort();
  const server = await createServer({
    logLevel: 'warn',
    server: { host: '127.0.0.1', port, strictPort: true },
    optimizeDeps: { entries: ['index.html', 'tests/perf/webgpu-bench.html'] },
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  let result: BenchResult | undefined;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      const text = m.text();
      if (text.startsWith('[bench]') || m.type() === 'error') process.stderr.write(`${text}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    const query = new URLSearchParams({
      backend: args.backend, presets: args.presets, batch: String(args.batch), reps: String(args.reps), convReps: String(args['conv-reps']),
      convBatch: String(args['conv-batch'] || Math.max(args.batch, 2)),
    });
    const url = `http://127.0.0.1:${port}/tests/perf/webgpu-bench.html?${query}`;
    process.stderr.write(`opening ${url}\n`);
    await page.goto(url);
    await page.waitForFunction(() => window.__benchResult !== undefined, undefined, { timeout: args.timeout * 1000, polling: 1000 });
    result = await page.evaluate(() => window.__benchResult!);
  } finally {
    await browser.close();
    await server.close();
  }
  if (!result.ok) throw new Error(`the bench page failed: ${result.error}`);
  printTables(result);
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
}

void main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
