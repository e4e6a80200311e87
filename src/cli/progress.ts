/**
 * A one-line progress bar for the command-line tools: done / total, steps per second and time left,
 * redrawn in place on a terminal (stderr), or printed every few seconds when stderr is a file or pipe.
 * A resumed job passes the step it resumes from (`startAt`): its rate and time left count only the
 * steps done in this process, not the ones done before it started.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastPrint = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly startAt = 0,
  ) {}

  update(done: number, extra = ''): void {
    const now = performance.now();
    const tty = this.stream.isTTY === true;
    const finished = done >= this.total;
    if (!finished && now - this.lastPrint < (tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? Math.max(0, done - this.startAt) / elapsed : 0;
    const left = rate > 0 ? (this.total - done) / rate : Infinity;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(1, this.total));
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const line = `${this.label} [${bar}] ${done}/${this.total}  ${rate.toFixed(2)} steps/s  ${formatSeconds(left)} left${extra ? '  ' + extra : ''}`;
    this.stream.write(tty ? `\r${line}\x1b[K${finished ? '\n' : ''}` : `${line}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}
