/**
 * The 2D lab's page side (issue 17): its store (setup, training, runs, fields), the lab's requests
 * to the worker, and what it makes of the worker's 'lab/*' messages.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LabToPage, LabToWorker } from '../../protocol/lab-messages';

export interface LabState {
  error: string | null;
}

export class LabClient {
  readonly store: StoreApi<LabState> = createStore<LabState>(() => ({ error: null }));

  constructor(private readonly send: (message: LabToWorker) => void) {}

  request(message: LabToWorker): void {
    this.send(message);
  }

  onMessage(message: LabToPage): void {
    if (message.type === 'lab/error') this.store.setState({ error: message.message });
  }
}
