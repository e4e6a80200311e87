/**
 * One kind of view request (a field, a density) whose answers only matter while they are the
 * newest: at most one is in flight; asking again meanwhile marks the newest settings as wanted and
 * sends them as soon as the answer arrives (or after `staleMs`, should it never come). An answer
 * is kept only if it is newer than the one shown, so an old one never replaces a newer one.
 */
export class LatestRequest {
  private inFlight: number | null = null;
  private sentAt = 0;
  private wanted = false;
  private shown = 0;

  constructor(
    private readonly send: () => number,
    private readonly now: () => number,
    private readonly staleMs = 3000,
  ) {}

  /** Asks for the current settings' answer; returns the id sent, or null if it waits for the one in flight. */
  ask(): number | null {
    if (this.inFlight !== null && this.now() - this.sentAt < this.staleMs) {
      this.wanted = true;
      return null;
    }
    this.wanted = false;
    this.sentAt = this.now();
    this.inFlight = this.send();
    return this.inFlight;
  }

  /** An answer arrived: whether to show it. A request still wanted is sent now. */
  answered(id: number): boolean {
    const show = id > this.shown;
    if (show) this.shown = id;
    if (id === this.inFlight) {
      this.inFlight = null;
      if (this.wanted) this.ask();
    }
    return show;
  }

  /** Forgets what is in flight (an error, a new model): the next ask sends at once; older answers are dropped. */
  reset(lastId: number): void {
    this.inFlight = null;
    this.wanted = false;
    this.shown = Math.max(this.shown, lastId);
  }
}
