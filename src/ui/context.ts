import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { EngineClient } from '../state/engine-client';
import type { AppState } from '../state/store';
import type { FrameState } from '../state/frames';
import type { DistillState } from '../state/distill-client';

export const EngineContext = createContext<EngineClient | null>(null);

export function useEngine(): EngineClient {
  const client = useContext(EngineContext);
  if (!client) throw new Error('useEngine outside <EngineContext.Provider>');
  return client;
}

/** Reads the app store with a selector; return primitives or stable objects (zustand 5 compares with Object.is). */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useEngine().store, selector);
}

export function useFrames<T>(selector: (s: FrameState) => T): T {
  return useStore(useEngine().frames, selector);
}

/** Reads the Distill stage's store (src/state/distill-client.ts). */
export function useDistill<T>(selector: (s: DistillState) => T): T {
  return useStore(useEngine().distill.store, selector);
}
