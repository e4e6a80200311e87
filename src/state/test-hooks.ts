/**
 * Hooks for the browser tests, installed only when the page's URL has `testhooks=1`: kill the
 * engine worker as a crash would, make the model's weights NaN as a diverging step would, lose the
 * WebGPU device as a driver reset would, and
 * read (a copy of) the loss history the chart draws, to compare it exactly across a reload. They
 * only reach what a crash or a divergence would; nothing else is exposed.
 */
export interface TestHookTarget {
  killWorkerForTest(): void;
  poisonWeightsForTest(): void;
  loseDeviceForTest(): boolean;
  lossHistoryForTest(): { steps: number[]; losses: number[] };
}

declare global {
  interface Window {
    __playgroundTest?: { killWorker(): void; poisonWeights(): void; loseDevice(): boolean; lossHistory(): { steps: number[]; losses: number[] } };
  }
}

export function installTestHooks(target: TestHookTarget, search: string): void {
  if (typeof window === 'undefined' || new URLSearchParams(search).get('testhooks') !== '1') return;
  window.__playgroundTest = {
    killWorker: () => target.killWorkerForTest(),
    poisonWeights: () => target.poisonWeightsForTest(),
    loseDevice: () => target.loseDeviceForTest(),
    lossHistory: () => target.lossHistoryForTest(),
  };
}
