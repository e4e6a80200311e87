/**
 * What `npm run bench:lab -- --page` (./bench-lab-page.ts) reads beside the page's own counts: a
 * Chromium trace's main-thread tasks over 50 ms with their CPU time and what they spent it in, and
 * the CPU time of the bench's Chromium processes (from /proc).
 */
export interface TraceEvent {
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
export function summarizeTrace(events: TraceEvent[]): { lines: string[]; cpu: number[] } {
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
export async function chromiumCpu(): Promise<Map<string, number>> {
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
