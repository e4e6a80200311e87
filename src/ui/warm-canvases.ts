/**
 * Creates the 2D contexts of the stage's canvases while the page is idle. The first frame of a run
 * draws some twenty canvases at once; creating their contexts then (1-2 ms each here) made that
 * frame a main-thread task of over 50 ms. Done ahead, in idle time, the first frame only paints.
 */
import { useEffect } from 'react';

type IdleWindow = Window & { requestIdleCallback?: (cb: () => void) => number; cancelIdleCallback?: (id: number) => void };

/** Warms every canvas under the element with this id, in idle time, after each change of `key`. */
export function useWarmCanvases(rootId: string, key: unknown): void {
  useEffect(() => {
    const w = window as IdleWindow;
    const warm = () => {
      for (const canvas of document.querySelectorAll<HTMLCanvasElement>(`#${rootId} canvas`)) canvas.getContext('2d');
    };
    if (w.requestIdleCallback && w.cancelIdleCallback) {
      const id = w.requestIdleCallback(warm);
      return () => w.cancelIdleCallback?.(id);
    }
    const id = setTimeout(warm, 200);
    return () => clearTimeout(id);
  }, [rootId, key]);
}
