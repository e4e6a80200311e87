/**
 * The 2D lab's store: its settings, what the worker said last (data, model, training, the latest
 * field and density), the quality sweep's rows, and the messages a user must see. Large arrays
 * (loss history, particle runs) live beside it in typed arrays (./lab-client.ts).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LabComponent, LabFieldKind, LabGrid, LabQualityRow } from '../../protocol/lab-messages';
import { DEFAULT_LAB, type LabSettings } from './lab-settings';

export interface LabDataView {
  points: Float32Array;
  exact: boolean;
  components: LabComponent[] | null;
  /** Half the side of the square the views show. */
  extent: number;
}

export interface LabTrainView {
  state: 'idle' | 'running' | 'paused' | 'done';
  step: number;
  totalSteps: number;
  stepsPerSec: number;
  etaSec: number;
  /** Bumped with every progress message (the loss chart redraws on it). */
  lossVersion: number;
  /** Seconds of training since the model's fresh weights (wall clock on the page, running only). */
  seconds: number;
}

export interface LabFieldView {
  id: number;
  t: number;
  kind: LabFieldKind;
  grid: LabGrid;
  learned: Float32Array | null;
  exact: Float32Array | null;
}

export interface LabDensityView {
  id: number;
  t: number;
  grid: LabGrid;
  density: Float32Array;
}

export interface LabQualityView {
  id: number;
  state: 'idle' | 'running' | 'done' | 'cancelled';
  rows: LabQualityRow[];
  done: number;
  total: number;
}

export interface LabState {
  settings: LabSettings;
  /** Points sprayed on the drawing canvas (not yet the data set), and the ones in use. */
  sketch: Float32Array;
  drawn: Float32Array | null;
  /** Whether the worker has been sent a setup for the current settings. */
  connected: boolean;
  data: LabDataView | null;
  model: { paramCount: number; step: number } | null;
  train: LabTrainView;
  field: LabFieldView | null;
  density: LabDensityView | null;
  quality: LabQualityView;
  /** The worker's last 'lab/error', and the page's own message about bad input. */
  error: string | null;
  notice: string | null;
  /** Which preset was applied last (its settings may since have been changed). */
  preset: string | null;
  /** Counts presses of Sample: the player starts over (following the new runs) once per press. */
  sampleBatch: number;
}

export const IDLE_TRAIN: LabTrainView = { state: 'idle', step: 0, totalSteps: 0, stepsPerSec: 0, etaSec: 0, lossVersion: 0, seconds: 0 };
export const IDLE_QUALITY: LabQualityView = { id: 0, state: 'idle', rows: [], done: 0, total: 0 };

export type LabStore = StoreApi<LabState>;

export function createLabStore(settings: LabSettings = DEFAULT_LAB): LabStore {
  return createStore<LabState>(() => ({
    settings,
    sketch: new Float32Array(0),
    drawn: null,
    connected: false,
    data: null,
    model: null,
    train: IDLE_TRAIN,
    field: null,
    density: null,
    quality: IDLE_QUALITY,
    error: null,
    notice: null,
    preset: null,
    sampleBatch: 0,
  }));
}
