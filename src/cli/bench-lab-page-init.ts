/**
 * The page side of `npm run bench:lab -- --page` (./bench-lab-page.ts): what it installs in the page
 * before the app's own scripts (long-task and long-animation-frame observers, a frame counter, cheap
 * element finders that do not compute accessible names) and the shapes of what it reads back.
 */
export interface PageLongTask {
  start: number;
  duration: number;
}
export interface PageScript {
  invoker: string;
  type: string;
  fn: string;
  url: string;
  pos: number;
  duration: number;
  forced: number;
}
export interface PageLoaf {
  start: number;
  duration: number;
  blocking: number;
  renderStart: number;
  styleAndLayoutStart: number;
  scripts: PageScript[];
}
export interface PagePerf {
  long: PageLongTask[];
  loaf: PageLoaf[];
  frames: number[];
}
export interface PhaseResult {
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
export function pageInit(): void {
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
