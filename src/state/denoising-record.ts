/**
 * The page's half of the denoising player: every position of a sampling run (x_T, each step's x_t
 * with the predicted x0 and noise ε̂, the final sample), kept as bytes in typed arrays allocated
 * once per run, outside React. A run of 1000 steps × 16 images is 38 MB for a pixel model; when a
 * run would exceed the memory budget, every k-th position is kept (x_T and the final sample always).
 * Only the small RecordState (counts) is a store that React reads.
 */
import { createStore } from 'zustand/vanilla';
import type { RecordShape, SampleSteps, SampleSummary } from '../protocol/messages';

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
}

const EMPTY: RecordState = { run: -1, steps: 0, capacity: 0, stride: 1, filled: 0, n: 0, latentChannels: 0, summary: null };

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
}

export class DenoisingRecord {
  readonly store = createStore<RecordState>()(() => EMPTY);
  private expected = -1;
  private layout: Layout | null = null;

  constructor(readonly budgetBytes = RECORD_BUDGET_BYTES) {}

  /** A new run: its messages are the only ones recorded from now on (a cancelled run's late ones are dropped). */
  begin(run: number): void {
    this.expected = run;
    this.layout = null;
    this.store.setState({ ...EMPTY, run });
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

  add(message: SampleSteps | SampleSummary): void {
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
    };
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
    };
    this.store.setState({ run: m.run, steps: m.steps, capacity, stride, filled: 0, n: images.n, latentChannels: latents?.c ?? 0, summary: null });
  }
}
