import { describe, expect, it } from 'vitest';
import { filmSlots } from '../../src/ui/PlayerFilm';

describe("the player's film strip", () => {
  it('spans the whole run, x_T first and the final sample last, evenly', () => {
    const slots = filmSlots(1001);
    expect(slots).toHaveLength(8);
    expect(slots[0]).toBe(0);
    expect(slots.at(-1)).toBe(1000);
    const gaps = slots.slice(1).map((s, i) => s - slots[i]);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
  });
  it('shows every position of a short run, and nothing before a run', () => {
    expect(filmSlots(3)).toEqual([0, 1, 2]);
    expect(filmSlots(0)).toEqual([]);
  });
});
