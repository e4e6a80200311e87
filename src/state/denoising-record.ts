/**
 * The page's half of the denoising player: every position of a sampling run (x_T, each step's x_t
 * with the predicted x0 and noise ε̂, the final sample), kept as bytes in typed arrays allocated
 * once per run, outside React. A run of 1000 steps × 16 images is 38 MB for a pixel model; when a
 * run would exceed the memory budget, every k-th position is kept (x_T and the final sample always).
 * Only the small RecordState (counts) is a store that React reads.
 *
 * A latent model's run decodes only the steps it shows live: the other positions arrive with their
 * latents alone, and `requestDecode` asks the worker for their decodings when the player shows them
 * (the position's latent bytes go back in 'sample/decode'; 'sample/decoded' fills them in).
 */
import { createStore } from 'zustand/vanilla';
import type { PageToWorker, RecordShape, SampleDecoded, SampleSteps, SampleSummary } from '../protocol/messages';

/** The most bytes a run's record may hold. */
export const RECORD_BUDGET_BYTES = 80 * 1024 * 1024;

export interface RecordState {
  /** The run recorded (the page's id), or −1 before the first. */
  run: number;
  /** Reverse steps N of the run: positions 0..N. */
  steps: number;
  /** Positions kept (N + 1 within the budget), the positions between two kept ones, and how many have arrived. */
  capacity: number;
  stride: number;
  filled: number;
  /** Images per position, and for a latent model its latent channels (0 for a pixel model). */
  n: number;
  latentChannels: number;
  /** What the run cost (evaluations, early stop, the adaptive solver's tries), once it has ended. */
  summary: SampleSummary | null;
  /** Counts decodings that arrived after their position (a latent model's), so that the player repaints. */
  decodedSeq: number;
}

/** Bytes of one batch (see src/protocol/quantize.ts): n images of h×w×c. */
export interface ByteImages extends RecordShape {
  pixels: Uint8Array;
}

/** One kept position of the run, as views into the record (valid until the next run begins). */
export interface RecordedFrame {
  /** 0 = x_T, k = the x_t of step k + 1, steps = the final sample. */
  position: number;
  /** Timestep of x_t (−1 for the final sample). */
  t: number;
  /** x_t and the predicted x0 as images (decoded for a latent model). */
  x: ByteImages;
  x0: ByteImages;
  /** Pixel models: the predicted noise ε̂ (±3 across black..white). */
  eps: ByteImages | null;
  /** Latent models: x_t, x0 and ε̂ as latents. */
  latents: { x: ByteImages; x0: ByteImages; eps: ByteImages } | null;
  /** False while a latent model's x and x0 have not been decoded yet (their bytes are zero). */
  decoded: boolean;
}

const EMPTY: RecordState = { run: -1, steps: 0, capacity: 0, stride: 1, filled: 0, n: 0, latentChannels: 0, summary: null, decodedSeq: 0 };

/** Decode requests in flight at most: the player asks again for what it still shows once they answer. */
const MAX_DECODES_IN_FLIGHT = 2;

const sizeOf = (s: RecordShape) => s.n * s.h * s.w * s.c;

/** How many of `positions` are kept with one every `stride` (the last always). */
export function keptCount(positions: number, stride: number): number {
  const last = positions - 1;
  return Math.floor(last / stride) + 1 + (last % stride ? 1 : 0);
}

/** The smallest stride whose kept positions fit `budget` (never fewer than the first and the last). */
export function strideFor(positions: number, bytesPerPosition: number, budget: number): number {
  const most = Math.max(2, Math.floor(budget / bytesPerPosition));
  let stride = 1;
  while (keptCount(positions, stride) > most) stride++;
  return stride;
}

interface Layout {
  images: RecordShape;
  latents: RecordShape | null;
  x: Uint8Array;
  x0: Uint8Array;
  eps: Uint8Array | null;
  lx: Uint8Array | null;
  lx0: Uint8Array | null;
  leps: Uint8Array | null;
  t: Int32Array;
  positions: Int32Array;
  /** 1 where x and x0 hold images (always for pixel models). */
  decoded: Uint8Array;
}

export class DenoisingRecord {
  readonly store = createStore<RecordState>()(() => EMPTY);
  private expected = -1;
  private layout: Layout | null = null;
  /** Slots asked to be decoded and not answered yet, and the requests in flight. */
  private readonly pending = new Set<number>();
  private inFlight = 0;
  /** Sends decode requests to the worker (set by the engine client). */
  send: ((message: PageToWorker) => void) | null = null;

  constructor(readonly budgetBytes = RECORD_BUDGET_BYTES) {}

  /** A new run: its messages are the only ones recorded from now on (a cancelled run's late ones are dropped). */
  begin(run: number): void {
    this.expected = run;
    this.layout = null;
    this.pending.clear();
    this.inFlight = 0;
    this.store.setState({ ...EMPTY, run });
  }

  /** The worker that had the requests in flight is gone: nothing is pending, and the slots may be asked for again. */
  forgetRequests(): void {
    this.pending.clear();
    this.inFlight = 0;
  }

  /** Bytes held by the current run's record. */
  get bytes(): number {
    const l = this.layout;
    if (!l) return 0;
    return [l.x, l.x0, l.eps, l.lx, l.lx0, l.leps].reduce((n, a) => n + (a?.length ?? 0), 0);
  }

  /** The kept slot of a position, or −1 when the stride skips it. */
  slotOf(position: number): number {
    const { stride, steps, capacity } = this.store.getState();
    if (position % stride === 0) return position / stride;
    return position === steps ? capacity - 1 : -1;
  }

  add(message: SampleSteps | SampleSummary | SampleDecoded): void {
    if (message.type === 'sample/decoded') return this.addDecoded(message);
    if (message.run !== this.expected) return;
    if (message.type === 'sample/summary') {
      this.store.setState({ summary: message });
      return;
    }
    if (this.layout == null) this.allocate(message);
    if (message.final !== undefined) {
      // The run ended before the steps it was laid out for: its final sample takes the next kept slot.
      const { stride } = this.store.getState();
      this.store.setState({ steps: message.final, capacity: Math.ceil(message.final / stride) + 1 });
    }
    const l = this.layout!;
    const img = sizeOf(l.images);
    const lat = l.latents ? sizeOf(l.latents) : 0;
    let filled = this.store.getState().filled;
    for (let i = 0; i < message.count; i++) {
      const slot = this.slotOf(message.first + i);
      if (slot < 0) continue;
      l.x.set(message.x.subarray(i * img, (i + 1) * img), slot * img);
      l.x0.set(message.x0.subarray(i * img, (i + 1) * img), slot * img);
      if (l.eps && message.eps) l.eps.set(message.eps.subarray(i * img, (i + 1) * img), slot * img);
      if (l.lx && l.lx0 && l.leps && message.latents) {
        l.lx.set(message.latents.x.subarray(i * lat, (i + 1) * lat), slot * lat);
        l.lx0.set(message.latents.x0.subarray(i * lat, (i + 1) * lat), slot * lat);
        l.leps.set(message.latents.eps.subarray(i * lat, (i + 1) * lat), slot * lat);
      }
      l.t[slot] = message.t[i];
      l.positions[slot] = message.first + i;
      l.decoded[slot] = message.decoded ? message.decoded[i] : 1;
      filled = slot + 1;
    }
    if (filled !== this.store.getState().filled) this.store.setState({ filled });
  }

  /** The kept position in `slot` (0..filled − 1), or null when it has not arrived. */
  frame(slot: number): RecordedFrame | null {
    const l = this.layout;
    if (!l || !Number.isInteger(slot) || slot < 0 || slot >= this.store.getState().filled) return null;
    const view = (a: Uint8Array, s: RecordShape): ByteImages => ({ ...s, pixels: a.subarray(slot * sizeOf(s), (slot + 1) * sizeOf(s)) });
    return {
      position: l.positions[slot],
      t: l.t[slot],
      x: view(l.x, l.images),
      x0: view(l.x0, l.images),
      eps: l.eps ? view(l.eps, l.images) : null,
      latents: l.latents && l.lx && l.lx0 && l.leps ? { x: view(l.lx, l.latents), x0: view(l.lx0, l.latents), eps: view(l.leps, l.latents) } : null,
      decoded: l.decoded[slot] === 1,
    };
  }

  /** The nearest kept slot at or before `slot` whose images have arrived (a latent model's decodings), or null. */
  nearestDecoded(slot: number): RecordedFrame | null {
    for (let s = Math.min(slot, this.store.getState().filled - 1); s >= 0; s--) {
      if (this.layout?.decoded[s]) return this.frame(s);
    }
    return null;
  }

  /**
   * Asks the worker to decode the slots among `slots` that arrived without their decodings (a
   * latent model's; nothing for pixels), at most MAX_DECODES_IN_FLIGHT requests at a time.
   */
  requestDecode(slots: readonly number[]): void {
    const l = this.layout;
    const { filled, run } = this.store.getState();
    if (!l || !l.latents || !l.lx || !l.lx0 || this.send == null || this.inFlight >= MAX_DECODES_IN_FLIGHT) return;
    const wanted = [...new Set(slots)].filter((s) => Number.isInteger(s) && s >= 0 && s < filled && !l.decoded[s] && !this.pending.has(s));
    if (wanted.length === 0) return;
    const lat = sizeOf(l.latents);
    const x = new Uint8Array(wanted.length * lat);
    const x0 = new Uint8Array(wanted.length * lat);
    wanted.forEach((slot, i) => {
      x.set(l.lx!.subarray(slot * lat, (slot + 1) * lat), i * lat);
      x0.set(l.lx0!.subarray(slot * lat, (slot + 1) * lat), i * lat);
      this.pending.add(slot);
    });
    this.inFlight++;
    this.send({ type: 'sample/decode', run, positions: wanted.map((s) => l.positions[s]), shape: { ...l.latents }, x, x0 });
  }

  private addDecoded(message: SampleDecoded): void {
    if (message.run !== this.expected) return;
    this.inFlight = Math.max(0, this.inFlight - 1);
    const l = this.layout;
    if (!l) return;
    const img = sizeOf(l.images);
    // Not decodable (the worker has another model now): those slots stay pending, never asked for again.
    if (sizeOf(message.images) !== img || message.x.length !== message.positions.length * img) return;
    message.positions.forEach((position, i) => {
      const slot = this.slotOf(position);
      this.pending.delete(slot);
      if (slot < 0 || l.positions[slot] !== position) return;
      l.x.set(message.x.subarray(i * img, (i + 1) * img), slot * img);
      l.x0.set(message.x0.subarray(i * img, (i + 1) * img), slot * img);
      l.decoded[slot] = 1;
    });
    this.store.setState((s) => ({ decodedSeq: s.decodedSeq + 1 }));
  }

  private allocate(m: SampleSteps): void {
    const images = { ...m.images };
    const latents = m.latents ? { ...m.latents.shape } : null;
    const img = sizeOf(images);
    const lat = latents ? sizeOf(latents) : 0;
    const perPosition = img * (m.eps ? 3 : 2) + lat * 3;
    const positions = m.steps + 1;
    const stride = strideFor(positions, perPosition, this.budgetBytes);
    const capacity = keptCount(positions, stride);
    const bytes = (size: number) => new Uint8Array(capacity * size);
    this.layout = {
      images,
      latents,
      x: bytes(img),
      x0: bytes(img),
      eps: m.eps ? bytes(img) : null,
      lx: latents ? bytes(lat) : null,
      lx0: latents ? bytes(lat) : null,
      leps: latents ? bytes(lat) : null,
      t: new Int32Array(capacity),
      positions: new Int32Array(capacity),
      decoded: new Uint8Array(capacity),
    };
    this.store.setState({ run: m.run, steps: m.steps, capacity, stride, filled: 0, n: images.n, latentChannels: latents?.c ?? 0, summary: null, decodedSeq: 0 });
  }
}
