/**
 * Pause / resume / cancel for a long-running loop (a training run or a sampling run).
 * The loop calls `await control.stepBoundary()` between steps: it resolves at once while running,
 * waits while paused, and throws `RunCancelled` once cancelled, so that every loop stops at a step
 * boundary and its `finally` blocks free its tensors. A new run gets a new control, so a stale loop
 * can never resume after a reset (TF Playground's run counter, in object form).
 */

export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'RunCancelled';
  }
}

export type RunPhase = 'running' | 'paused' | 'cancelled';

export class RunControl {
  private phase: RunPhase = 'running';
  private wake: (() => void) | null = null;

  get state(): RunPhase {
    return this.phase;
  }

  pause(): void {
    if (this.phase === 'running') this.phase = 'paused';
  }

  resume(): void {
    if (this.phase !== 'paused') return;
    this.phase = 'running';
    this.wakeUp();
  }

  cancel(): void {
    this.phase = 'cancelled';
    this.wakeUp();
  }

  /** Yields to the event loop (so that pause / cancel messages get through), then waits while paused. */
  async stepBoundary(): Promise<void> {
    await yieldToEventLoop();
    while (this.phase === 'paused') {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.phase === 'cancelled') throw new RunCancelled();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** A macrotask boundary: lets queued messages be handled. MessageChannel avoids setTimeout's 4 ms clamp. */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
