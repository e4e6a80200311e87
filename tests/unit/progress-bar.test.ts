/**
 * The command-line progress bar (src/cli/progress.ts): steps per second and time left from the steps
 * this process did, so a resumed job (pretrain, distill) does not count the steps done before it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatSeconds, ProgressBar } from '../../src/cli/progress';

function sink() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

describe('ProgressBar', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts the rate from where a resumed job started, and the time left from that rate', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    const { lines, stream } = sink();
    const bar = new ProgressBar('distill', 500, stream, 400);
    now.mockReturnValue(10_000); // 10 s for steps 400 → 450
    bar.update(450);
    expect(lines[0]).toMatch(/450\/500 {2}5\.00 steps\/s {2}00:10 left/);
  });

  it('counts from 0 for a fresh job, and prints the last step when stderr is not a terminal', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    const { lines, stream } = sink();
    const bar = new ProgressBar('pretrain', 100, stream);
    now.mockReturnValue(20_000);
    bar.update(40, 'loss 0.5');
    now.mockReturnValue(20_500); // within 5 s of the last line: skipped unless finished
    bar.update(41);
    now.mockReturnValue(50_000);
    bar.update(100);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/40\/100 {2}2\.00 steps\/s {2}00:30 left {2}loss 0\.5/);
    expect(lines[1]).toMatch(/100\/100 {2}2\.00 steps\/s {2}00:00 left/);
    expect(formatSeconds(3725)).toBe('1:02:05');
  });
});
