/** The worker's rate limits: at most N sends a second, forced sends always pass; steps/s and time left. */
import { describe, it, expect } from 'vitest';
import { RateMeter, Throttle } from '../../src/engine/throttle';
import { RunCancelled, RunControl } from '../../src/engine/run-control';

describe('Throttle', () => {
  it('lets at most perSecond calls through per second, and every forced one', () => {
    let now = 0;
    const throttle = new Throttle(10, () => now);
    let passed = 0;
    for (now = 0; now < 1000; now += 1) if (throttle.ready()) passed++;
    expect(passed).toBe(10);
    expect(throttle.ready(true)).toBe(true);
  });

  it('with perSecond 0 lets only the first and the forced calls through', () => {
    let now = 0;
    const throttle = new Throttle(0, () => now);
    const results = [throttle.ready(), ((now = 5000), throttle.ready()), throttle.ready(true)];
    expect(results).toEqual([true, false, true]);
  });
});

describe('RateMeter', () => {
  it('measures steps per second over its window and the time left', () => {
    let now = 0;
    const meter = new RateMeter(3000, () => now);
    for (let step = 0; step <= 20; step++, now += 250) meter.record(step); // 4 steps/s
    expect(meter.stepsPerSec()).toBeCloseTo(4, 6);
    expect(meter.secondsLeft(100)).toBeCloseTo(25, 6);
    expect(new RateMeter().secondsLeft(5)).toBe(Infinity);
  });
});

describe('RunControl', () => {
  it('waits while paused, resumes, and throws RunCancelled once cancelled', async () => {
    const control = new RunControl();
    await control.stepBoundary();
    control.pause();
    let passed = false;
    const waiting = control.stepBoundary().then(() => (passed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(passed).toBe(false);
    control.resume();
    await waiting;
    expect(passed).toBe(true);
    control.pause();
    const cancelled = control.stepBoundary();
    control.cancel();
    await expect(cancelled).rejects.toBeInstanceOf(RunCancelled);
  });
});
