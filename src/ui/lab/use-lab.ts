import { useStore } from 'zustand';
import type { LabState } from '../../state/lab/lab-store';
import type { LabSettings } from '../../state/lab/lab-settings';
import { useEngine } from '../context';

/** Reads the lab's store with a selector (return primitives or stable objects). */
export function useLab<T>(selector: (s: LabState) => T): T {
  return useStore(useEngine().lab.store, selector);
}

/** One lab setting. */
export function useSetting<K extends keyof LabSettings>(key: K): LabSettings[K] {
  return useLab((s) => s.settings[key]);
}
