import { useStore } from 'zustand';
import type { EditState } from '../../state/edit/edit-client';
import { useEngine } from '../context';

/** Reads the Edit panel's store with a selector (primitives or stable objects). */
export function useEdit<T>(selector: (s: EditState) => T): T {
  return useStore(useEngine().edit.store, selector);
}
