/**
 * The 2D lab's targets (issue 17) in Node on the wasm backend (1 thread, as the other benches):
 * (a) the training step of the lab MLP at batch 512 for several widths and depths, ms (median of
 *     `--blocks` blocks of `--steps` steps, after a warm-up), as wall-clock time and as this
 *     process's CPU time (process.cpuUsage: on a shared, loaded machine the wall clock also counts
 *     the time other processes hold the cores; the CPU time is what the step itself costs);
 * (b) 8 Gaussians from a fresh model: seconds of training (evaluation time not counted; wall and
 *     CPU) until the unbiased energy distance of samples of the learned model (`--sampler`,
 *     `--sampleSteps`) to a fresh data sample is ≤ 2× the two-data-sample floor with every mode
 *     covered, checked every `--every` steps, for at most `--limit` seconds of CPU time.
 *
 *   npx tsx src/cli/bench-lab.ts [--shapes 32x2,64x2,64x3,128x3] [--steps 50] [--blocks 5]
 *        [--every 100] [--limit 20] [--samples 1000] [--sampler dpmpp] [--sampleSteps 20]
 *        [--targets 64x3@0.01,48x3@0.01] [--objective diffusion|flow] [--seeds 1,2,3]
 * (for --objective flow pass --sampler heun or euler).
 *
 * Not a test; numbers vary with the machine and its load (this 2-core machine is shared): quote
 * ratios from one run.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backends/node';
import { deriveSeed } from '../data/random';
import { sampleToy2D } from '../data/toy2d';
import { createLabContext, disposeLabContext, type LabContext } from '../engine/lab/lab-context';
import { labSampleRun } from '../engine/lab/lab-sampling';
import { energyDistance, energyDistanceFloor, everyModeCovered, modeShares } from '../eval/sample-distance';
import { median } from '../eval/stats';
import { mlpParamCount } from '../models/mlp-denoiser';
import { DEFAULT_LAB_SETUP, DEFAULT_LAB_TRAINING, type LabSamplerKind, type LabSetup } from '../protocol/lab-messages';
import { parseArgs } from './args';

const opts = parseArgs(process.argv.slice(2), {
  shapes: '32x2,64x2,64x3,96x3,128x3',
  steps: 50,
  blocks: 5,
  every: 100,
  limit: 20,
  samples: 1000,
  sampler: 'dpmpp',
  sampleSteps: 20,
  targets: `${DEFAULT_LAB_SETUP.width}x${DEFAULT_LAB_SETUP.depth}@${DEFAULT_LAB_TRAINING.learningRate}`,
  batch: DEFAULT_LAB_TRAINING.batch,
  objective: 'diffusion',
  seeds: '1',
  // --page: the in-page measurement (see pageBench below) instead of the Node figures.
  page: false,
  port: 4391,
  dist: 'dist-lab',
  seconds: 20,
  trace: '',
  profile: false,
  procs: false,
  until: '',
  out: '',
});

function shapeOf(s: string): { width: number; depth: number } {
  const [width, depth] = s.split('x').map(Number);
  return { width, depth };
}

function stepTiming(shape: { width: number; depth: number }): { wall: number; cpu: number } {
  const ctx = createLabContext({ ...DEFAULT_LAB_SETUP, ...shape });
  for (let i = 0; i < 20; i++) ctx.trainer.trainStep(512, 1e-3);
  const before = tf.memory().numTensors;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < opts.blocks; b++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) ctx.trainer.trainStep(512, 1e-3);
    wall.push((performance.now() - t0) / opts.steps);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / opts.steps);
  }
  if (tf.memory().numTensors !== before) throw new Error('tensors leaked during training steps');
  disposeLabContext(ctx);
  return { wall: median(wall), cpu: median(cpu) };
}

interface Quality {
  distance: number;
  covered: boolean;
}

function evaluate(ctx: LabContext, reference: Float32Array): Quality {
  let last: Float32Array | null = null;
  for (const p of labSampleRun(ctx, { sampler: opts.sampler as LabSamplerKind, steps: opts.sampleSteps, count: opts.samples, seed: 77, denoiser: 'learned' })) last = p.points;
  const means = (ctx.mixture ?? []).map((c) => c.mean);
  return { distance: energyDistance(last!, reference), covered: everyModeCovered(modeShares(last!, means), (ctx.mixture ?? []).map((c) => c.weight)) };
}

function timeToTarget(setup: LabSetup, learningRate: number, floor: number, reference: Float32Array): void {
  const ctx = createLabContext(setup);
  let trainMs = 0;
  let cpuMs = 0;
  let reached = false;
  while (cpuMs < opts.limit * 1000) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < opts.every; i++) ctx.trainer.trainStep(opts.batch, learningRate);
    trainMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuMs += (c.user + c.system) / 1000;
    const q: Quality = evaluate(ctx, reference);
    const line = `  step ${ctx.trainer.step}: ${(trainMs / 1000).toFixed(2)} s trained (CPU ${(cpuMs / 1000).toFixed(2)} s), distance ${q.distance.toFixed(5)} (${(q.distance / floor).toFixed(2)}× floor), modes ${q.covered ? 'all' : 'not all'} covered`;
    console.log(line);
    if (q.distance <= 2 * floor && q.covered) {
      reached = true;
      break;
    }
  }
  const label = `${setup.objective} ${setup.width}x${setup.depth} (${ctx.model.paramCount} params) batch ${opts.batch} lr ${learningRate} seed ${setup.seed}`;
  const when = `${(trainMs / 1000).toFixed(2)} s of training, wall (${(cpuMs / 1000).toFixed(2)} s CPU), ${ctx.trainer.step} steps`;
  console.log(reached ? `(b) ${label}: target reached after ${when}` : `(b) ${label}: target not reached in ${when}`);
  disposeLabContext(ctx);
}

async function main(): Promise<void> {
  await initNodeBackend('wasm');
  console.log(`backend ${tf.getBackend()}, 1 thread; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
  for (const s of opts.shapes.split(',').filter(Boolean)) {
    const shape = shapeOf(s);
    const { wall, cpu } = stepTiming(shape);
    console.log(`(a) ${s} (${mlpParamCount(shape)} params): training step at batch 512: ${wall.toFixed(2)} ms wall, ${cpu.toFixed(2)} ms CPU (medians of ${opts.blocks}×${opts.steps})`);
  }
  const spec = DEFAULT_LAB_SETUP.data;
  const n = opts.samples;
  const seed = (k: number) => deriveSeed(spec.seed, 900 + k);
  const floor = energyDistanceFloor([0, 1, 2].map((k) => [sampleToy2D(spec, n, seed(2 * k)), sampleToy2D(spec, n, seed(2 * k + 1))] as const));
  const reference = sampleToy2D(spec, n, seed(10));
  console.log(`8 Gaussians, ${n} samples: energy-distance floor ${floor.toFixed(5)}; target ≤ ${(2 * floor).toFixed(5)}, ${opts.sampler}-${opts.sampleSteps}`);
  for (const target of opts.targets.split(',').filter(Boolean)) {
    const [s, lr] = target.split('@');
    for (const seed of opts.seeds.split(',').map(Number)) {
      timeToTarget({ ...DEFAULT_LAB_SETUP, ...shapeOf(s), objective: opts.objective as LabSetup['objective'], seed }, Number(lr), floor, reference);
    }
  }
}


// ---------------------------------------------------------------------------------------------
// The in-page measurement (`--page`): the built app in headless Chromium on wasm, the lab driven
// as a user would, with every main-thread task over 50 ms (PerformanceObserver 'longtask') and
// every animation frame over 50 ms ('long-animation-frame', with the scripts it ran) counted per
// phase, and the frame rate. `--trace PHASES` also records a Chromium trace of those phases and
// prints the main thread's CPU time by kind and, for each task over 50 ms, its CPU time (on a loaded
// machine far below its wall time) and what it spent its time in; `--profile` adds the V8 sampling
// profiler (function names; its start adds a long task of its own). Phases: open, lab (scroll to it,
// "8 Gaussians in 10 seconds"), sample, train (training alone), animate (training + the particles
// played over and over, `--seconds`), sampleTraining, sampleIdle, views (t slider, field kind,
// "Play t", pane settings), quality, data (every data set), draw (spray points, use them);
// `--until PHASE` stops after one.
//
//   npx vite build --outDir dist-lab && npm run bench:lab -- --page [--port 4391] [--dist dist-lab]
//        [--seconds 20] [--trace animate,lab] [--profile] [--until animate] [--procs] [--out FILE.json]
// --procs: the CPU of this bench's Chromium processes per phase, as shares of a core (the renderer's
// includes the worker's training). On a shared machine `nice` does not make it a quiet one: Chromium
// resets its renderers' priority, and the kernel's autogroups share the cores between sessions.
//
// Waits in the measured phases are cheap DOM checks (querySelector), never Playwright's
// getByRole / getByLabel, whose accessible-name computing itself makes long tasks on this page.
// (Build with `--minify false` to see the page's own function names in the trace summary.)
// ---------------------------------------------------------------------------------------------

interface PageLongTask {
  start: number;
  duration: number;
}
interface PageScript {
  invoker: string;
  type: string;
  fn: string;
  url: string;
  pos: number;
  duration: number;
  forced: number;
}
interface PageLoaf {
  start: number;
  duration: number;
  blocking: number;
  renderStart: number;
  styleAndLayoutStart: number;
  scripts: PageScript[];
}
interface PagePerf {
  long: PageLongTask[];
  loaf: PageLoaf[];
  frames: number[];
}
interface PhaseResult {
  name: string;
  seconds: number;
  fps: number;
  longTasks: number[];
  /** With --trace: the tasks over 50 ms of main-thread CPU time (ms). */
  cpuLong?: number[];
  loafs: PageLoaf[];
  notes: string[];
}

declare global {
  interface Window {
    __perf: PagePerf;
    __labq: {
      panel(title: string): HTMLElement;
      button(root: Element, text: string): HTMLButtonElement | null;
      control(root: Element, label: string): HTMLInputElement | HTMLSelectElement;
      text(root: Element, aria: string): string;
    };
    __autoplay: number;
  }
}

/** Installed before the page's own scripts: observers, a frame counter, cheap element finders. */
function pageInit(): void {
  window.__perf = { long: [], loaf: [], frames: [] };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__perf.long.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // no longtask entries in this browser
  }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as Array<PerformanceEntry & Record<string, unknown>>) {
        if (e.duration <= 50) continue;
        const scripts = (e.scripts as Array<Record<string, unknown>>).map((s) => ({
          invoker: String(s.invoker),
          type: String(s.invokerType),
          fn: String(s.sourceFunctionName),
          url: String(s.sourceURL).replace(/^.*\//, ''),
          pos: Number(s.sourceCharPosition),
          duration: Number(s.duration),
          forced: Number(s.forcedStyleAndLayoutDuration),
        }));
        window.__perf.loaf.push({ start: e.startTime, duration: e.duration, blocking: Number(e.blockingDuration), renderStart: Number(e.renderStart), styleAndLayoutStart: Number(e.styleAndLayoutStart), scripts });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // no long-animation-frame entries in this browser
  }
  const tick = (t: number) => {
    window.__perf.frames.push(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__labq = {
    panel(title) {
      const found = [...document.querySelectorAll('section.panel')].find((s) => s.querySelector(':scope > h2')?.textContent === title);
      if (!found) throw new Error(`no panel "${title}"`);
      return found as HTMLElement;
    },
    button(root, text) {
      return ([...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text) as HTMLButtonElement | undefined) ?? null;
    },
    control(root, label) {
      const l = [...root.querySelectorAll('label')].find((x) => x.textContent?.trim() === label);
      const el = l && document.getElementById(l.htmlFor);
      if (!el) throw new Error(`no control "${label}"`);
      return el as HTMLInputElement | HTMLSelectElement;
    },
    text(root, aria) {
      return root.querySelector(`[aria-label="${aria}"]`)?.textContent ?? '';
    },
  };
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time of the event, µs: on a loaded machine far below `dur`. */
  tdur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: Record<string, unknown> & { data?: Record<string, unknown>; name?: string };
}

/** For every main-thread task over 50 ms in a trace: its length and what it spent the time in. */
function summarizeTrace(events: TraceEvent[]): { lines: string[]; cpu: number[] } {
  const mains = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const busiest = mains
    .map((m) => ({ pid: m.pid, tid: m.tid, n: events.filter((e) => e.pid === m.pid && e.tid === m.tid).length }))
    .sort((a, b) => b.n - a.n)[0];
  if (!busiest) return { lines: ['no renderer main thread in the trace'], cpu: [] };
  const onMain = events.filter((e) => e.pid === busiest.pid && e.tid === busiest.tid && e.ph === 'X' && e.dur !== undefined);
  // Outermost tasks only (RunTask and ThreadControllerImpl::RunTask nest).
  const all: TraceEvent[] = [];
  for (const e of onMain.filter((x) => x.name === 'RunTask' || x.name === 'ThreadControllerImpl::RunTask')) {
    const prev = all.at(-1);
    if (!prev || e.ts >= prev.ts + prev.dur!) all.push(e);
  }
  const tasks = all.filter((e) => e.dur! > 50_000);
  const span = all.length > 0 ? all[all.length - 1].ts + all[all.length - 1].dur! - all[0].ts : 1;
  const busy = all.reduce((t, e) => t + (e.tdur ?? e.dur!), 0);
  const busyWall = all.reduce((t, e) => t + e.dur!, 0);
  // Where the main thread's time went, by event kind (summed over all its tasks, nested events counted once each).
  const byKind = new Map<string, number>();
  for (const e of onMain) {
    const k = /^(FunctionCall|Layout|UpdateLayoutTree|Paint|PrePaint|Layerize|Commit|MajorGC|MinorGC|HitTest|ParseHTML|EvaluateScript)$/.test(e.name) ? e.name : null;
    if (k) byKind.set(k, (byKind.get(k) ?? 0) + (e.tdur ?? e.dur!) / 1000);
  }
  // The V8 sampling profile of the main thread (Profile + ProfileChunk events of one id).
  const profile = events.find((e) => e.name === 'Profile' && e.pid === busiest.pid && e.tid === busiest.tid);
  const nodes = new Map<number, { parent?: number; label: string }>();
  const samples: { t: number; node: number }[] = [];
  if (profile) {
    let t = Number((profile.args?.data as { startTime?: number })?.startTime ?? 0);
    for (const c of events.filter((e) => e.name === 'ProfileChunk' && e.id === profile.id && e.pid === profile.pid)) {
      const data = c.args?.data as { cpuProfile?: { nodes?: Array<{ id: number; parent?: number; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples?: number[] }; timeDeltas?: number[] };
      for (const n of data.cpuProfile?.nodes ?? []) {
        const cf = n.callFrame;
        nodes.set(n.id, { parent: n.parent, label: `${cf.functionName || '(anonymous)'}${cf.url ? ` ${cf.url.replace(/^.*\//, '')}:${cf.lineNumber + 1}` : ''}` });
      }
      const s = data.cpuProfile?.samples ?? [];
      const d = data.timeDeltas ?? [];
      for (let i = 0; i < s.length; i++) {
        t += d[i] ?? 0;
        samples.push({ t, node: s[i] });
      }
    }
  }
  const lines: string[] = [
    `  main thread: ${all.length} tasks in ${(span / 1e6).toFixed(1)} s, busy ${((100 * busy) / span).toFixed(0)} % of the time in CPU (${((100 * busyWall) / span).toFixed(0)} % wall); CPU ms by kind: ${[...byKind.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ')}`,
  ];
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, ms]) => `${ms.toFixed(0)} ms ${name}`)
      .join('; ');
  for (const task of tasks) {
    const end = task.ts + task.dur!;
    const inside = onMain.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur! <= end);
    const kinds = new Map<string, number>();
    for (const e of inside) {
      const d = e.args?.data ?? {};
      let key = e.name;
      if (e.name === 'FunctionCall') key = `FunctionCall ${String(d.functionName || '?')} ${String(d.url ?? '').replace(/^.*\//, '')}:${String(d.lineNumber ?? '')}`;
      else if (e.name === 'EventDispatch') key = `EventDispatch ${String(d.type)}`;
      else if (e.name === 'TimerFire' || e.name === 'FireAnimationFrame' || e.name === 'HandlePostMessage' || e.name === 'v8.callFunction') key = e.name;
      else if (!/Layout|Style|Paint|Layerize|Commit|GC|EvaluateScript|compile|Parse|FunctionCall|Microtask|PostMessage|Decode|Raster|HitTest|Animation|Canvas|ImageData/i.test(e.name)) continue;
      kinds.set(key, (kinds.get(key) ?? 0) + e.dur! / 1000);
    }
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    const inTask = samples.filter((s) => s.t >= task.ts && s.t <= end);
    for (let i = 0; i < inTask.length; i++) {
      const dt = (i + 1 < inTask.length ? inTask[i + 1].t - inTask[i].t : 0) / 1000;
      const leaf = nodes.get(inTask[i].node);
      if (!leaf) continue;
      self.set(leaf.label, (self.get(leaf.label) ?? 0) + dt);
      const seen = new Set<string>();
      for (let n: number | undefined = inTask[i].node; n !== undefined; n = nodes.get(n)?.parent) {
        const label = nodes.get(n)?.label;
        if (!label || seen.has(label)) continue;
        seen.add(label);
        incl.set(label, (incl.get(label) ?? 0) + dt);
      }
    }
    lines.push(`  task ${(task.dur! / 1000).toFixed(0)} ms (CPU ${task.tdur === undefined ? '?' : (task.tdur / 1000).toFixed(0)} ms) at +${((task.ts - events[0].ts) / 1e6).toFixed(2)} s`);
    lines.push(`    events: ${top(kinds, 8)}`);
    if (inTask.length > 0) {
      lines.push(`    JS self: ${top(self, 8)}`);
      lines.push(`    JS inclusive: ${top(new Map([...incl].filter(([k]) => !/^\((root|program|idle)\)/.test(k))), 12)}`);
      // React components (capitalised names) and the lab's own functions, inclusive.
      const own = new Map([...incl].filter(([k]) => /^[A-Z][A-Za-z]+ /.test(k) || /lab|paint|draw|Lab/.test(k.split(' ')[0])));
      if (own.size > 0) lines.push(`    components / lab code: ${top(own, 10)}`);
    }
  }
  if (tasks.length === 0) lines.push('  no main-thread task over 50 ms in the trace');
  else {
    const cpu = tasks.filter((t) => (t.tdur ?? t.dur!) > 50_000);
    lines.push(`  trace: ${tasks.length} tasks over 50 ms wall, ${cpu.length} of them over 50 ms of CPU (longest CPU ${(Math.max(...tasks.map((t) => t.tdur ?? 0)) / 1000).toFixed(0)} ms)`);
  }
  // The tasks over 50 ms of the main thread's own CPU time (what a loaded machine's wall clock hides).
  return { lines, cpu: tasks.map((t) => (t.tdur ?? t.dur!) / 1000).filter((ms) => ms > 50) };
}

/**
 * CPU seconds so far of every Chromium process on this machine, summed by kind (browser, renderer,
 * gpu-process, utility), from /proc (Linux): what the page's frames cost beyond its main thread.
 * Only the processes this bench started count (the renderer includes the worker's training).
 */
async function chromiumCpu(): Promise<Map<string, number>> {
  const { readdirSync, readFileSync } = await import('node:fs');
  const out = new Map<string, number>();
  const tick = 100; // USER_HZ on Linux
  const procs = new Map<number, { parent: number; cmd: string; cpu: number }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(pid), { parent: Number(fields[1]), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8'), cpu: (Number(fields[11]) + Number(fields[12])) / tick });
    } catch {
      // the process ended meanwhile
    }
  }
  // Only this bench's own Chromium (descendants of this process).
  const mine = (pid: number): boolean => {
    for (let p = procs.get(pid)?.parent, n = 0; p !== undefined && p > 1 && n < 20; p = procs.get(p)?.parent, n++) if (p === process.pid) return true;
    return false;
  };
  for (const [pid, p] of procs) {
    if (!p.cmd.includes('chromium') || !mine(pid)) continue;
    const kind = /--type=([\w-]+)/.exec(p.cmd)?.[1] ?? 'browser';
    out.set(kind, (out.get(kind) ?? 0) + p.cpu);
  }
  return out;
}

/** Thrown after the phase named by --until: the run ends there. */
class StopHere extends Error {}

async function pageBench(o: typeof opts): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { chromium } = await import('@playwright/test');
  const { CHROMIUM_ARGS, CHROMIUM_PATH } = await import('../../playwright.config');
  const base = `http://127.0.0.1:${o.port}`;
  const server = spawn('npx', ['vite', 'preview', '--outDir', o.dist, '--host', '127.0.0.1', '--port', String(o.port), '--strictPort'], { stdio: 'ignore', detached: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const traced = new Set(o.trace ? String(o.trace).split(',') : []);
  const results: PhaseResult[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(base)).ok) break;
      } catch {
        // not up yet
      }
      if (i > 100) throw new Error(`vite preview did not answer at ${base}: build ${o.dist} first`);
      await sleep(200);
    }
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && console.log(`console.error: ${m.text()}`));
    // tsx (esbuild) wraps named functions in __name(): give the page one.
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.addInitScript(pageInit);
    const cdp = await page.context().newCDPSession(page);
    // The page's CSP forbids evaluating strings: predicates are functions (of one serializable argument).
    const until = (fn: (arg: string | null) => boolean, arg: string | null, timeout = 120_000) => page.waitForFunction(fn, arg, { polling: 100, timeout });
    const click = (panel: string, text: string) =>
      page.evaluate(([p, t]) => {
        const b = window.__labq.button(window.__labq.panel(p), t);
        if (!b) throw new Error(`no button "${t}" in "${p}"`);
        b.click();
      }, [panel, text] as const);
    const setValue = (panel: string, label: string, value: string) =>
      page.evaluate(([p, l, v]) => {
        const el = window.__labq.control(window.__labq.panel(p), l);
        const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, v);
        el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
      }, [panel, label, value] as const);
    const labText = (panel: string, aria: string) => page.evaluate(([p, a]) => window.__labq.text(window.__labq.panel(p), a), [panel, aria] as const);
    const sampleAndWait = async () => {
      const before = await page.evaluate(() => [...document.querySelectorAll('figure.lab-pane')].map((f) => f.getAttribute('data-run')).join(','));
      await click('Particles', 'Sample');
      await until((b) => {
        const f = [...document.querySelectorAll('figure.lab-pane')];
        return f.map((x) => x.getAttribute('data-run')).join(',') !== b && f.every((x) => x.getAttribute('data-state') === 'done');
      }, before);
    };

    const phase = async (name: string, run: (notes: string[]) => Promise<void>) => {
      const notes: string[] = [];
      if (traced.has(name)) {
        await cdp.send('Tracing.start', {
          transferMode: 'ReturnAsStream',
          // The sampling profiler (--profile) names the functions but adds a long task of its own at the start.
          traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'toplevel', 'v8', 'blink', 'disabled-by-default-v8.gc', ...(o.profile ? ['disabled-by-default-v8.cpu_profiler'] : [])] },
        });
      }
      // The first phase opens the page: its own timeline starts at 0.
      const t0 = name === 'open' ? 0 : await page.evaluate(() => performance.now());
      const cpu0 = o.procs ? await chromiumCpu() : null;
      const w0 = performance.now();
      await run(notes);
      const t1 = await page.evaluate(() => performance.now());
      if (cpu0) {
        const cpu1 = await chromiumCpu();
        const wall = (performance.now() - w0) / 1000;
        notes.push(`Chromium CPU: ${[...cpu1.entries()].map(([k, v]) => `${k} ${(((v - (cpu0.get(k) ?? 0)) / wall) * 100).toFixed(0)} %`).join(', ')} of a core`);
      }
      const perf = await page.evaluate(([a, b]) => ({
        long: window.__perf.long.filter((e) => e.start >= a && e.start < b),
        loaf: window.__perf.loaf.filter((e) => e.start >= a && e.start < b),
        frames: window.__perf.frames.filter((t) => t >= a && t < b).length,
      }), [t0, t1] as const);
      results.push({ name, seconds: (t1 - t0) / 1000, fps: (perf.frames * 1000) / (t1 - t0), longTasks: perf.long.map((e) => e.duration), loafs: perf.loaf, notes });
      const r = results.at(-1)!;
      console.log(`${name}: ${r.seconds.toFixed(1)} s, ${r.fps.toFixed(1)} frames/s, ${r.longTasks.length} long tasks${r.longTasks.length ? ` (${r.longTasks.map((d) => d.toFixed(0)).join(', ')} ms)` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}`);
      for (const l of perf.loaf) {
        const scripts = l.scripts.filter((s) => s.duration >= 5).map((s) => `${s.type} ${s.invoker}${s.fn ? ` → ${s.fn}` : ''} ${s.url}:${s.pos} ${s.duration.toFixed(0)} ms${s.forced >= 5 ? ` (forced layout ${s.forced.toFixed(0)})` : ''}`);
        const render = l.renderStart > 0 ? l.start + l.duration - l.renderStart : 0;
        const layout = l.styleAndLayoutStart > 0 ? l.start + l.duration - l.styleAndLayoutStart : 0;
        console.log(`  frame ${l.duration.toFixed(0)} ms (blocking ${l.blocking.toFixed(0)}, render ${render.toFixed(0)}, style+layout ${layout.toFixed(0)}): ${scripts.join(' | ') || 'no script ≥ 5 ms'}`);
      }
      if (traced.has(name)) await endTrace(name);
      if (name === o.until) throw new StopHere();
    };
    const endTrace = async (name: string) => {
      {
        const done = new Promise<string>((resolve) => cdp.once('Tracing.tracingComplete', (e: { stream?: string }) => resolve(e.stream ?? '')));
        await cdp.send('Tracing.end');
        const stream = await done;
        let text = '';
        for (;;) {
          const chunk = (await cdp.send('IO.read', { handle: stream, size: 1 << 20 })) as { data: string; eof: boolean; base64Encoded?: boolean };
          text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data;
          if (chunk.eof) break;
        }
        await cdp.send('IO.close', { handle: stream });
        const parsed = JSON.parse(text) as { traceEvents?: TraceEvent[] } | TraceEvent[];
        const events = (Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? [])).sort((a, b) => a.ts - b.ts);
        if (o.out) writeFileSync(`${o.out}.${name}.trace.json`, text);
        const summary = summarizeTrace(events);
        console.log(summary.lines.join('\n'));
        const r = results.find((x) => x.name === name);
        if (r) r.cpuLong = summary.cpu;
      }
    };

    try {
      console.log(`in-page lab measurement, ${o.dist} on :${o.port}, Chromium ${browser.version()}, ${new Date().toISOString()}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      await phase('open', async () => {
        await page.goto(`${base}/?backend=wasm&pretrained=0`);
        await until(() => {
          const t = document.querySelector('[aria-label="Active backend"]')?.textContent ?? '';
          return t !== '' && !/starting/.test(t);
        }, null);
        await sleep(2000);
      });
      await phase('lab', async () => {
        await page.evaluate(() => document.querySelector('section.panel.lab')!.scrollIntoView({ block: 'start' }));
        await until(() => (document.querySelector('[aria-label="Lab parameter count"]')?.textContent ?? '–') !== '–', null);
        await page.evaluate(() => window.__labq.button(document.querySelector('section.panel.lab')!, '8 Gaussians in 10 seconds')!.click());
        await until(() => /2,000 training points.*exact score is known/.test(document.querySelector('[aria-label="Data facts"]')?.textContent ?? ''), null);
        await sleep(3000);
      });
      await phase('sample', async () => {
        await page.evaluate(() => window.__labq.panel('Particles').scrollIntoView({ block: 'start' }));
        await sampleAndWait();
        await sleep(1000);
      });
      await setValue('Lab training', 'Training steps', '100000');
      await phase('train', async (notes) => {
        await click('Lab training', 'Train');
        await until(() => document.querySelector('[aria-label="Lab training state"]')?.textContent === 'running', null);
        await sleep(o.seconds * 500);
        notes.push(`${await labText('Lab training', 'Lab steps per second')} steps/s`);
      });
      await phase('animate', async (notes) => {
        const before = await page.evaluate(() => Number(document.querySelector('.lab-panes')!.getAttribute('data-frames')));
        // Play again whenever a playback ends (a run plays in 4 s).
        await page.evaluate(() => {
          window.__autoplay = window.setInterval(() => {
            const b = window.__labq.button(window.__labq.panel('Particles'), 'Play');
            if (b && !b.disabled) b.click();
          }, 50);
        });
        const rates: string[] = [];
        for (let s = 0; s < o.seconds; s += 5) {
          await sleep(5000);
          rates.push(await labText('Lab training', 'Lab steps per second'));
        }
        await page.evaluate(() => window.clearInterval(window.__autoplay));
        const drawn = (await page.evaluate(() => Number(document.querySelector('.lab-panes')!.getAttribute('data-frames')))) - before;
        notes.push(`${drawn} particle redraws (2 panes × 2,000)`, `training ${rates.join(', ')} steps/s`, `state ${await labText('Lab training', 'Lab training state')}`);
      });
      await phase('sampleTraining', async (notes) => {
        for (let k = 0; k < 3; k++) await sampleAndWait();
        notes.push(`state ${await labText('Lab training', 'Lab training state')} at step ${await labText('Lab training', 'Lab training step')}`);
      });
      await click('Lab training', 'Pause');
      await until(() => document.querySelector('[aria-label="Lab training state"]')?.textContent === 'paused', null);
      await phase('sampleIdle', async () => {
        for (let k = 0; k < 3; k++) await sampleAndWait();
      });
      await phase('views', async () => {
        await page.evaluate(() => window.__labq.panel('Density and field').scrollIntoView({ block: 'start' }));
        for (const t of ['0.1', '0.3', '0.5', '0.8', '0.2']) {
          await setValue('Density and field', 'Noise level t', t);
          await sleep(700);
        }
        await setValue('Density and field', 'Field shown', 'eps');
        await sleep(700);
        await setValue('Density and field', 'Field shown', 'score');
        await sleep(700);
        await click('Density and field', 'Play t');
        await sleep(5500);
        await page.evaluate(() => window.__labq.panel('Particles').scrollIntoView({ block: 'start' }));
        await setValue('Particles', 'Right denoiser', 'exact');
        await setValue('Particles', 'Right sampler', 'ddpm');
        await sampleAndWait();
        await setValue('Particles', 'Right denoiser', 'learned');
        await setValue('Particles', 'Right sampler', 'ddim');
        await sleep(1000);
      });
      await phase('quality', async (notes) => {
        await page.evaluate(() => window.__labq.panel('Lab quality').scrollIntoView({ block: 'start' }));
        await click('Lab quality', 'Measure quality');
        await until(() => document.querySelector('[aria-label="Quality state"]')?.textContent === 'done', null, 180_000);
        notes.push(await labText('Lab quality', 'Quality target'));
        await sleep(1000);
      });
      await phase('data', async () => {
        await page.evaluate(() => document.querySelector('section.panel.lab')!.scrollIntoView({ block: 'start' }));
        for (const kind of ['moons', 'swissroll', 'checkerboard', 'rings', 'mixture', 'gaussians8']) {
          await setValue('Lab data', 'Data set', kind);
          await sleep(1500);
        }
      });
      await phase('draw', async (notes) => {
        await setValue('Lab data', 'Data set', 'drawn');
        await until(() => !!document.querySelector('canvas.lab-canvas--edit'), null);
        const box = (await page.locator('canvas.lab-canvas--edit').boundingBox())!;
        const cx = box.x + box.width / 2;
        const cy = box.y + box.height / 2;
        await page.mouse.move(cx + box.width * 0.3, cy);
        await page.mouse.down();
        for (let k = 1; k <= 120; k++) await page.mouse.move(cx + box.width * 0.3 * Math.cos((k * Math.PI) / 30), cy + box.width * 0.3 * Math.sin((k * Math.PI) / 30));
        await page.mouse.up();
        notes.push(await labText('Lab data', 'Drawn points'));
        await click('Lab data', 'Use these points');
        await until(() => /no exact score/.test(document.querySelector('[aria-label="Data facts"]')?.textContent ?? ''), null);
        await sleep(1500);
      });
    } catch (err) {
      if (!(err instanceof StopHere)) throw err;
    }
    const all = results.flatMap((r) => r.longTasks);
    console.log(`\nall phases: ${all.length} long tasks, longest ${Math.max(0, ...all).toFixed(0)} ms; load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('\n| phase | seconds | frames/s | tasks > 50 ms | longest | over 50 ms of CPU (traced) | notes |\n|---|---|---|---|---|---|---|');
    for (const r of results) {
      const cpu = r.cpuLong === undefined ? '' : r.cpuLong.length === 0 ? '0' : `${r.cpuLong.length} (${r.cpuLong.map((d) => d.toFixed(0)).join(', ')} ms)`;
      console.log(`| ${r.name} | ${r.seconds.toFixed(1)} | ${r.fps.toFixed(1)} | ${r.longTasks.length} | ${r.longTasks.length ? `${Math.max(...r.longTasks).toFixed(0)} ms` : '–'} | ${cpu} | ${r.notes.join('; ')} |`);
    }
    if (o.out) writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), results }, null, 2));
  } finally {
    await browser.close();
    // vite preview runs under npx: end the whole group this bench started.
    if (server.pid) process.kill(-server.pid);
  }
}

await (opts.page ? pageBench(opts) : main());
