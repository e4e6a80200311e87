/** The TensorFlow.js backends the app can run on, in the order it prefers them. */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Human-readable names for notes shown in the UI. */
export const BACKEND_LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly', cpu: 'CPU' };

/** The WebGPU adapter the backend runs on, as the header shows it. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
}
