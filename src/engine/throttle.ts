/**
 * Rate limits for what the worker streams to the page: at most `perSecond` sends, the last one
 * always allowed through (`force`), so the page sees the final state of a run.
 */
export class Throttle {
  private last = -Infinity;
  private readonly intervalMs: number;

  /** `perSecond` 0 lets only forced calls through. */
  constructor(perSecond: number, private readonly now: () => number = () => performance.now()) {
    this.intervalMs = perSecond > 0 ? 1000 / perSecond : Infinity;
  }

  /** True when enough time has passed since the last accepted call (or when forced); records the call. */
  ready(force = false): boolean {
    const t = this.now();
    if (!force && t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }
}

/** Steps per second over a sliding window, and the time left for the remaining steps. */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly steps: number[] = [];

  constructor(private readonly windowMs = 3000, private readonly now: () => number = () => performance.now()) {}

  record(step: number): void {
    const t = this.now();
    this.times.push(t);
    this.steps.push(step);
    while (this.times.length > 2 && t - this.times[0] > this.windowMs) {
      this.times.shift();
      this.steps.shift();
    }
  }

  stepsPerSec(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    const dt = (this.times[n - 1] - this.times[0]) / 1000;
    return dt > 0 ? (this.steps[n - 1] - this.steps[0]) / dt : 0;
  }

  secondsLeft(remainingSteps: number): number {
    const rate = this.stepsPerSec();
    return rate > 0 ? remainingSteps / rate : Infinity;
  }
}

/**
 * Keeps an optional piece of work (a latent model's decoding for the live view) to at most `share`
 * of the time: after a piece that took D ms, the next one is allowed once D / share − D ms have
 * passed since it ended.
 */
export class WorkBudget {
  private nextAt = -Infinity;

  constructor(
    private readonly share: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  ready(): boolean {
    return this.now() >= this.nextAt;
  }

  /** Times `work` and books it against the budget. */
  async spend<T>(work: () => Promise<T>): Promise<T> {
    const start = this.now();
    try {
      return await work();
    } finally {
      this.book(this.now() - start);
    }
  }

  /** Books `workMs` of work that ended now (e.g. work done in slices, the waits between them left out). */
  book(workMs: number): void {
    this.nextAt = this.now() + workMs * (1 / this.share - 1);
  }
}
