/**
 * The soak's two-tab mode (`npm run soak -- --tabs 2 --minutes 10`): several tabs of one origin
 * (one browser context, so one IndexedDB) train at once; each in turn trains a while, pauses,
 * reloads and resumes. Every resume must be its own run — the step it paused at and its loss history
 * to the entry — never another tab's (crossed) nor a damaged one (corrupted).
 */
import type { Browser } from '@playwright/test';
import { lossHistory, reloadAndResume, trainAWhile } from './soak-steps';

export interface TabsResult {
  /** Per tab: resumes checked, and what went wrong (crossed or corrupted checkpoints, errors). */
  tabs: { resumes: number; problems: string[] }[];
}

export async function soakTabs(browser: Browser, url: string, tabs: number, minutes: number, trainSeconds: number, onLoop: (tab: number, resumes: number) => void): Promise<TabsResult> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const started = Date.now();
  const result: TabsResult = { tabs: Array.from({ length: tabs }, () => ({ resumes: 0, problems: [] })) };
  const run = async (tab: number) => {
    const page = await context.newPage();
    const mine = result.tabs[tab];
    page.on('pageerror', (e) => mine.problems.push(`page error: ${e.message}`));
    await page.goto(url);
    await page.getByLabel('Active backend').filter({ hasNotText: /starting/ }).waitFor({ timeout: 120_000 });
    // Start a little apart so the tabs' checkpoints and reloads interleave rather than coincide.
    await page.waitForTimeout(tab * 2500);
    while ((Date.now() - started) / 60_000 < minutes) {
      const pausedAt = await trainAWhile(page, trainSeconds);
      const before = await lossHistory(page);
      const problem = await reloadAndResume(page, pausedAt, before);
      mine.resumes++;
      if (problem) mine.problems.push(`resume ${mine.resumes}: ${problem}`);
      const errors = await page.getByRole('alert', { name: 'Errors' }).locator('li').allTextContents();
      if (errors.length > 0) mine.problems.push(`resume ${mine.resumes}: the page shows ${errors.join(' | ')}`);
      onLoop(tab, mine.resumes);
    }
    await page.close();
  };
  try {
    await Promise.all(Array.from({ length: tabs }, (_, i) => run(i)));
  } finally {
    await context.close();
  }
  return result;
}
