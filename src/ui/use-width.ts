import { useEffect, useState } from 'react';

/**
 * The width of an element's content box (whole pixels), kept up to date by a ResizeObserver. `ref`
 * is a callback ref, so an element that mounts later (after the component first rendered nothing)
 * is observed too.
 */
export function useWidth() {
  const [element, ref] = useState<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    if (!element) return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0].contentRect.width);
      setWidth((old) => (old === w ? old : w));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return { ref, width };
}
