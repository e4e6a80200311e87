/**
 * The dedicated module worker that owns TensorFlow.js. It only wires the worker's globals to the
 * Engine (src/engine/engine.ts): messages in, messages out with their buffers transferred.
 */
import { Engine } from '../engine/engine';
import { initBackend } from '../backends/select';
import { configureBrowserWasmPaths } from '../backends/wasm-paths';
import { loadMnistBrowser } from '../data/load-browser';
import { fetchReader } from '../io/pretrained';
import { DeviceLossGate, watchGpuDevice } from '../backends/device-watch';
import { transferablesOf, type ErrorSource, type PageToWorker, type WorkerToPage } from '../protocol/messages';

declare const self: DedicatedWorkerGlobalScope;

/** Outgoing messages; after a lost GPU device only the loss itself (../backends/device-watch.ts). */
const gate = new DeviceLossGate<WorkerToPage>(
  (message) => self.postMessage(message, transferablesOf(message)),
  (message) => message.type === 'error',
);
const post = (message: WorkerToPage): void => gate.post(message);

const engine = new Engine({
  post,
  initBackend: async (requested, avoid, threads) => {
    configureBrowserWasmPaths(threads);
    const result = await initBackend(requested, avoid);
    gate.watch(result.backend);
    watchGpuDevice(result.backend, (message) => gate.deviceLost({ type: 'device-lost', backend: result.backend, message }));
    return result;
  },
  loadData: () => loadMnistBrowser(),
  // The pretrained models, from the same origin (<base>models/<kind>/): nothing else is fetched.
  readPretrained: fetchReader(),
});

/** Which part of the page an error belongs to, from the request that caused it. */
function errorSource(type: PageToWorker['type']): ErrorSource {
  if (type === 'init' || type === 'setup') return type;
  const prefix = type.split('/')[0];
  return prefix === 'sample' || prefix === 'data' || prefix === 'model' || prefix === 'compare' || prefix === 'lab' || prefix === 'distill' ? prefix : 'train';
}

/** Messages are handled one after another, so a setup never races the training start it precedes. */
let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  queue = queue.then(() =>
    engine.handle(message).catch((err: unknown) => {
      const source = errorSource(message.type);
      post({ type: 'error', source, message: err instanceof Error ? err.message : String(err) });
    }),
  );
};
