/**
 * The denoising player's record on the page: every position of a run is stored and fetched back
 * byte for byte (1000 steps × 16 images kept whole), the memory budget is never exceeded (a longer
 * run keeps every k-th position, x_T and the final sample always), and a superseded run's late
 * messages are dropped.
 */
import { describe, expect, it } from 'vitest';
import { DenoisingRecord, RECORD_BUDGET_BYTES, keptCount, strideFor } from '../../src/state/denoising-record';
import type { RecordShape, SampleSteps } from '../../src/protocol/messages';

/** Positions [first, first + count) of a run whose bytes encode (position, which array). */
function message(run: number, steps: number, first: number, count: number, images: RecordShape, latents: RecordShape | null = null): SampleSteps {
  const img = images.n * images.h * images.w * images.c;
  const fill = (size: number, salt: number) => {
    const a = new Uint8Array(count * size);
    for (let i = 0; i < count; i++) a.fill((first + i + salt) % 256, i * size, (i + 1) * size);
    return a;
  };
  const lat = latents ? latents.n * latents.h * latents.w * latents.c : 0;
  return {
    type: 'sample/steps',
    run,
    steps,
    first,
    count,
    t: Int32Array.from({ length: count }, (_, i) => (first + i === steps ? -1 : 1000 - first - i)),
    images,
    x: fill(img, 0),
    x0: fill(img, 1),
    eps: latents ? null : fill(img, 2),
    latents: latents ? { shape: latents, x: fill(lat, 3), x0: fill(lat, 4), eps: fill(lat, 5) } : null,
  };
}

function feed(record: DenoisingRecord, run: number, steps: number, batch: number, images: RecordShape, latents: RecordShape | null = null): void {
  for (let first = 0; first <= steps; first += batch) record.add(message(run, steps, first, Math.min(batch, steps + 1 - first), images, latents));
}

const digits = (n: number): RecordShape => ({ n, h: 28, w: 28, c: 1 });

describe('DenoisingRecord', () => {
  it('keeps every position of a 1000-step run of 16 images, and gives each back intact', () => {
    const record = new DenoisingRecord();
    record.begin(3);
    feed(record, 3, 1000, 37, digits(16));
    expect(record.store.getState()).toMatchObject({ run: 3, steps: 1000, capacity: 1001, stride: 1, filled: 1001, n: 16, latentChannels: 0 });
    expect(record.bytes).toBe(1001 * 16 * 784 * 3);
    expect(record.bytes).toBeLessThanOrEqual(RECORD_BUDGET_BYTES);
    for (const p of [0, 1, 36, 37, 500, 999, 1000]) {
      const f = record.frame(p)!;
      expect(f.position).toBe(p);
      expect(f.t).toBe(p === 1000 ? -1 : 1000 - p);
      expect(f.x).toMatchObject({ n: 16, h: 28, w: 28, c: 1 });
      expect(f.x.pixels.length).toBe(16 * 784);
      expect(f.x.pixels.every((b) => b === p % 256)).toBe(true);
      expect(f.x0.pixels.every((b) => b === (p + 1) % 256)).toBe(true);
      expect(f.eps!.pixels.every((b) => b === (p + 2) % 256)).toBe(true);
      expect(f.latents).toBeNull();
    }
    expect(record.frame(1001)).toBeNull();
  });

  it('grows position by position as messages arrive', () => {
    const record = new DenoisingRecord();
    record.begin(1);
    record.add(message(1, 8, 0, 3, digits(4)));
    expect(record.store.getState().filled).toBe(3);
    expect(record.frame(3)).toBeNull();
    record.add(message(1, 8, 3, 6, digits(4)));
    expect(record.store.getState().filled).toBe(9);
    expect(record.frame(8)!.t).toBe(-1);
  });

  it('stays within its memory budget: every k-th position, with x_T and the final sample', () => {
    const budget = 1_000_000;
    const record = new DenoisingRecord(budget);
    record.begin(1);
    feed(record, 1, 999, 50, digits(8));
    const s = record.store.getState();
    const perPosition = 8 * 784 * 3;
    expect(1000 * perPosition).toBeGreaterThan(budget);
    expect(s.stride).toBeGreaterThan(1);
    expect(record.bytes).toBeLessThanOrEqual(budget);
    expect(record.bytes).toBe(s.capacity * perPosition);
    expect(s.filled).toBe(s.capacity);
    const positions = Array.from({ length: s.capacity }, (_, k) => record.frame(k)!.position);
    expect(positions[0]).toBe(0);
    expect(positions.at(-1)).toBe(999);
    expect(record.frame(s.capacity - 1)!.t).toBe(-1);
    for (let k = 1; k < positions.length - 1; k++) expect(positions[k]).toBe(k * s.stride);
    for (let k = 0; k < positions.length; k++) expect(record.frame(k)!.x.pixels[0]).toBe(positions[k] % 256);
  });

  it('chooses the smallest stride that fits', () => {
    expect(keptCount(1001, 1)).toBe(1001);
    expect(keptCount(1001, 3)).toBe(335); // 0, 3, …, 999, and 1000
    expect(strideFor(1001, 100, 1001 * 100)).toBe(1);
    expect(strideFor(1001, 100, 1000 * 100)).toBe(2);
    expect(strideFor(1001, 1e9, 1)).toBeGreaterThan(500); // always the first and the last
    expect(keptCount(1001, strideFor(1001, 1e9, 1))).toBe(2);
  });

  it('keeps a latent model’s decoded images and its latents', () => {
    const record = new DenoisingRecord();
    record.begin(2);
    feed(record, 2, 4, 2, digits(3), { n: 3, h: 7, w: 7, c: 4 });
    expect(record.store.getState()).toMatchObject({ filled: 5, latentChannels: 4 });
    const f = record.frame(2)!;
    expect(f.eps).toBeNull();
    expect(f.latents!.eps).toMatchObject({ n: 3, h: 7, w: 7, c: 4 });
    expect(f.latents!.eps.pixels.length).toBe(3 * 49 * 4);
    expect(f.latents!.x0.pixels[0]).toBe(6);
    expect(record.bytes).toBe(5 * (3 * 784 * 2 + 3 * 196 * 3));
  });

  it('drops the messages of a run it no longer waits for, and starts afresh on begin', () => {
    const record = new DenoisingRecord();
    record.begin(1);
    record.add(message(1, 4, 0, 2, digits(2)));
    record.begin(2);
    expect(record.store.getState()).toMatchObject({ run: 2, filled: 0 });
    expect(record.frame(0)).toBeNull();
    record.add(message(1, 4, 2, 3, digits(2)));
    expect(record.store.getState().filled).toBe(0);
    expect(record.bytes).toBe(0);
    record.add(message(2, 2, 0, 3, digits(2)));
    expect(record.store.getState()).toMatchObject({ run: 2, steps: 2, filled: 3 });
  });
});
