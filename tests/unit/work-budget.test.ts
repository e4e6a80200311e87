/**
 * WorkBudget (src/engine/throttle.ts): optional work (a latent model's decoding for the live view)
 * takes at most its share of the time; the first piece is always allowed.
 */
import { describe, expect, it } from 'vitest';
import { WorkBudget } from '../../src/engine/throttle';

describe('WorkBudget', () => {
  it('allows work again only once the share of the time it took has passed', async () => {
    let now = 0;
    const budget = new WorkBudget(0.2, () => now);
    expect(budget.ready()).toBe(true);
    await budget.spend(async () => {
      now += 10; // 10 ms of work: the next may start 40 ms after it ended
    });
    expect(budget.ready()).toBe(false);
    now += 39;
    expect(budget.ready()).toBe(false);
    now += 1;
    expect(budget.ready()).toBe(true);
  });

  it('books work that throws too', async () => {
    let now = 0;
    const budget = new WorkBudget(0.5, () => now);
    await expect(
      budget.spend(async () => {
        now += 4;
        throw new Error('read failed');
      }),
    ).rejects.toThrow('read failed');
    now += 3;
    expect(budget.ready()).toBe(false);
    now += 1;
    expect(budget.ready()).toBe(true);
  });
});
