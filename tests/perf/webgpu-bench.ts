/**
 * The page behind `npm run bench:webgpu` (tests/perf/webgpu-bench.html, served by Vite's dev server;
 * src/cli/bench-webgpu.ts drives it in headless Chromium). It imports the models and fast-ops
 * directly (not the app) and, on the backend given (default webgpu):
 *
 * 1. checks conv2dFast's gradients (the strategy CONV_GRAD_BY_BACKEND picks there, and both
 *    forward-conv formulations forced) against tfjs's own gradients of the same conv on the same
 *    backend: max abs difference of value, dx, dW, db;
 * 2. times one conv's forward + backward under each gradient strategy (kernels / forward-conv dW /
 *    forward-conv dW and dx / tfjs's own), to choose the table's entry by measurement;
 * 3. times a U-Net train step (tf.variableGrads + Adam, loss read with await data()) and a forward
 *    pass, with the fast ops on (conv gradients as the table chooses), off (tfjs's own gradients
 *    everywhere), and on with the other filter-gradient strategy; alternating, medians.
 *
 * The result goes to window.__benchResult (and into the page as JSON); progress lines go to the
 * console as `[bench] ...`. Query parameters: backend, presets (tiny,small,base), batch, reps, convReps.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { UNET_CONFIGS, type UNetPreset } from '../../src/models/setup/unet-config';
import { createUNet, type UNet } from '../../src/models/unet';
import { conv2d } from '../../src/models/layers';
import { median } from '../../src/eval/stats';
import {
  convGradChoice,
  setConvGradStrategy,
  setFastOps,
  type ConvGradChoice,
} from '../../src/kernels/fast-ops';

interface GradCheck {
  conv: string;
  strategy: ConvGradChoice;
  /** max |fast − plain| of the conv's value and its three gradients, and max |plain| of each. */
  maxAbsDiff: Record<'value' | 'dx' | 'dW' | 'db', number>;
  maxAbs: Record<'value' | 'dx' | 'dW' | 'db', number>;
}

interface ConvTiming {
  conv: string;
  variant: string;
  ms: number;
}

interface VariantTiming {
  trainMs: number;
  forwardMs: number;
  trainAll: number[];
  forwardAll: number[];
}

interface PresetTiming {
  preset: string;
  params: number;
  batch: number;
  reps: number;
  /** Fast ops, conv gradients as the table chooses for this backend. */
  fast: VariantTiming;
  /** tfjs's own gradients everywhere (setFastOps(false)). */
  plain: VariantTiming;
  /** Fast ops with the other dW strategy (the one the table did not choose), for comparison. */
  otherFilter: ConvGradChoice['filter'];
  fastOther: VariantTiming;
  /** plain / fast: how many times faster the fast ops are. */
  trainSpeedup: number;
  forwardSpeedup: number;
  /** plain / fastOther. */
  trainSpeedupOther: number;
}

export interface BenchResult {
  ok: boolean;
  error?: string;
  date: string;
  backend: string;
  adapter: Record<string, string> | null;
  userAgent: string;
  choice: ConvGradChoice;
  gradChecks: GradCheck[];
  convTimings: ConvTiming[];
  presets: PresetTiming[];
  totalSeconds: number;
}

declare global {
  interface Window {
    __benchResult?: BenchResult;
  }
}

const params = new URLSearchParams(location.search);
const BACKEND = params.get('backend') ?? 'webgpu';
const PRESETS = (params.get('presets') ?? 'tiny,small').split(',').filter(Boolean) as UNetPreset[];
const BATCH = Number(params.get('batch') ?? 2);
const REPS = Number(params.get('reps') ?? 3);
const CONV_REPS = Number(params.get('convReps') ?? 3);
const CONV_BATCH = Number(params.get('convBatch') ?? Math.max(BATCH, 2));

const logEl = document.getElementById('log')!;
function log(msg: string): void {
  console.log(`[bench] ${msg}`);
  logEl.textContent += `${msg}\n`;
}

async function adapterInfo(): Promise<Record<string, string> | null> {
  if (BACKEND === 'webgpu') {
    const adapter = await navigator.gpu?.requestAdapter();
    if (adapter == null) return null;
    const { vendor, architecture, device, description } = adapter.info;
    return { vendor, architecture, device, description };
  }
  if (BACKEND === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    if (gl == null || ext == null) return null;
    return { vendor: String(gl.getParameter(ext.UNMASKED_VENDOR_WEBGL)), renderer: String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) };
  }
  return null;
}

/** Value and gradients of one conv + bias for a fixed output gradient, read back; tensors freed. */
async function convValueAndGrads(xs: number[], ws: number[], stride: 1 | 2): Promise<Float32Array[]> {
  tf.engine().startScope();
  try {
    const x = tf.randomNormal(xs, 0, 1, 'float32', 1);
    const w = tf.randomNormal(ws, 0, 0.3, 'float32', 2);
    const b = tf.randomNormal([ws[3]], 0, 1, 'float32', 3);
    const f = (a: tf.Tensor, k: tf.Tensor, c: tf.Tensor) => conv2d(a as tf.Tensor4D, k, c, stride);
    const y = f(x, w, b);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4);
    const grads = tf.grads(f)([x, w, b], dy);
    return await Promise.all([y, ...grads].map((t) => t.data() as Promise<Float32Array>));
  } finally {
    tf.engine().endScope();
  }
}

const CHECK_CONVS: Array<[number[], number[], 1 | 2]> = [
  [[2, 14, 14, 8], [3, 3, 8, 16], 1],
  [[2, 14, 14, 8], [3, 3, 8, 16], 2],
  [[2, 7, 7, 16], [3, 3, 16, 8], 2],
  [[2, 28, 28, 1], [3, 3, 1, 4], 1],
];

async function gradChecks(): Promise<GradCheck[]> {
  const out: GradCheck[] = [];
  const names = ['value', 'dx', 'dW', 'db'] as const;
  // The table's choice for this backend, and both forward-conv formulations forced (the GPU path).
  const strategies: Array<ConvGradChoice | null> = [null, { filter: 'forward-conv', input: 'forward-conv' }];
  for (const [xs, ws, stride] of CHECK_CONVS) for (const strategy of strategies) {
    setFastOps(false);
    const plain = await convValueAndGrads(xs, ws, stride);
    setFastOps(true);
    setConvGradStrategy(strategy);
    const fast = await convValueAndGrads(xs, ws, stride);
    const maxAbsDiff = {} as GradCheck['maxAbsDiff'];
    const maxAbs = {} as GradCheck['maxAbs'];
    names.forEach((name, i) => {
      let d = 0;
      let m = 0;
      for (let j = 0; j < plain[i].length; j++) {
        const diff = Math.abs(fast[i][j] - plain[i][j]);
        d = Number.isNaN(diff) ? Infinity : Math.max(d, diff);
        m = Math.max(m, Math.abs(plain[i][j]));
      }
      maxAbsDiff[name] = d;
      maxAbs[name] = m;
    });
    const conv = `[${xs}] * [${ws}] s${stride}`;
    const choice = convGradChoice();
    setConvGradStrategy(null);
    out.push({ conv, strategy: choice, maxAbsDiff, maxAbs });
    log(`grad check ${conv} (dW ${choice.filter}, dx ${choice.input}): max abs diff ${names.map((n) => `${n} ${maxAbsDiff[n].toExponential(2)} (max |${n}| ${maxAbs[n].toFixed(1)})`).join(', ')}`);
  }
  return out;
}

/** One conv's forward + backward (all three gradients read back), median ms per variant, alternating. */
async function convTimings(): Promise<ConvTiming[]> {
  const b = CONV_BATCH;
  const convs: Array<[number[], number[], 1 | 2]> = [
    [[b, 28, 28, 16], [3, 3, 16, 16], 1],
    [[b, 28, 28, 16], [3, 3, 16, 32], 2],
    [[b, 14, 14, 32], [3, 3, 32, 32], 1],
  ];
  const variants: Array<[string, () => void]> = [
    ['tfjs own gradients', () => setFastOps(false)],
    ['fast op, kernels', () => (setFastOps(true), setConvGradStrategy('kernel'))],
    ['fast op, forward-conv dW', () => (setFastOps(true), setConvGradStrategy({ filter: 'forward-conv', input: 'kernel' }))],
    ['fast op, forward-conv dW + dx', () => (setFastOps(true), setConvGradStrategy('forward-conv'))],
  ];
  const out: ConvTiming[] = [];
  for (const [xs, ws, stride] of convs) {
    const conv = `[${xs}] * [${ws}] s${stride}`;
    const times = variants.map(() => [] as number[]);
    for (let r = 0; r <= CONV_REPS; r++) {
      for (let v = 0; v < variants.length; v++) {
        variants[v][1]();
        const t0 = performance.now();
        await convValueAndGrads(xs, ws, stride);
        if (r > 0) times[v].push(performance.now() - t0); // r = 0 warms up (shader compiles)
      }
    }
    variants.forEach(([variant], v) => {
      out.push({ conv, variant, ms: median(times[v]) });
      log(`conv ${conv} ${variant}: ${median(times[v]).toFixed(1)} ms`);
    });
  }
  setFastOps(true);
  setConvGradStrategy(null);
  return out;
}

interface StepInputs {
  x: tf.Tensor4D;
  t: tf.Tensor1D;
  labels: tf.Tensor1D;
  target: tf.Tensor4D;
}

async function trainStep(model: UNet, opt: tf.Optimizer, inp: StepInputs): Promise<number> {
  tf.engine().startScope();
  try {
    const t0 = performance.now();
    const vars = [...model.weights.values()];
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(inp.target, model.apply(inp.x, inp.t, { labels: inp.labels, training: true })) as tf.Scalar,
      vars,
    );
    opt.applyGradients(grads);
    const loss = (await value.data())[0];
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
    return performance.now() - t0;
  } finally {
    tf.engine().endScope();
  }
}

async function forwardPass(model: UNet, inp: StepInputs): Promise<number> {
  tf.engine().startScope();
  try {
    const t0 = performance.now();
    await model.apply(inp.x, inp.t, { labels: inp.labels }).data();
    return performance.now() - t0;
  } finally {
    tf.engine().endScope();
  }
}

async function presetTiming(preset: UNetPreset): Promise<PresetTiming> {
  const config = UNET_CONFIGS[preset];
  if (config == null) throw new Error(`unknown preset '${preset}'`);
  const model = createUNet(config, 1);
  const opt = tf.train.adam(1e-3);
  const s = config.imageSize;
  const inp: StepInputs = {
    x: tf.randomNormal([BATCH, s, s, config.imageChannels], 0, 1, 'float32', 5),
    t: tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (i * 397) % 1000)),
    labels: tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 11), 'int32'),
    target: tf.randomNormal([BATCH, s, s, config.imageChannels], 0, 1, 'float32', 6),
  };
  const params = [...model.weights.values()].reduce((a, v) => a + v.size, 0);
  const chosen = convGradChoice();
  const otherFilter = chosen.filter === 'kernel' ? 'forward-conv' : 'kernel';
  const variants = {
    fast: () => (setFastOps(true), setConvGradStrategy(null)),
    plain: () => (setFastOps(false), setConvGradStrategy(null)),
    fastOther: () => (setFastOps(true), setConvGradStrategy({ ...chosen, filter: otherFilter })),
  };
  type Variant = keyof typeof variants;
  const names: Variant[] = ['fast', 'plain', 'fastOther'];
  const times = Object.fromEntries(names.map((v) => [v, { train: [] as number[], fwd: [] as number[] }])) as Record<Variant, { train: number[]; fwd: number[] }>;
  try {
    // Rep 0 warms every variant up (shader compiles, Adam's slots, buffer pool); then alternate,
    // rotating the order each rep so that drift hits all alike.
    for (let r = 0; r <= REPS; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const variant of order) {
        variants[variant]();
        const train = await trainStep(model, opt, inp);
        const fwd = await forwardPass(model, inp);
        if (r > 0) {
          times[variant].train.push(train);
          times[variant].fwd.push(fwd);
        }
        const label = variant === 'fastOther' ? `fast, dW ${otherFilter}` : variant;
        log(`${preset} batch ${BATCH} ${r === 0 ? 'warm-up' : `rep ${r}/${REPS}`} ${label}: train ${train.toFixed(0)} ms, forward ${fwd.toFixed(0)} ms`);
      }
    }
  } finally {
    setFastOps(true);
    setConvGradStrategy(null);
    opt.dispose();
    model.dispose();
    tf.dispose([inp.x, inp.t, inp.labels, inp.target]);
  }
  const summary = (v: Variant): VariantTiming => ({
    trainMs: median(times[v].train),
    forwardMs: median(times[v].fwd),
    trainAll: times[v].train,
    forwardAll: times[v].fwd,
  });
  const fast = summary('fast');
  const plain = summary('plain');
  const fastOther = summary('fastOther');
  return {
    preset, params, batch: BATCH, reps: REPS, fast, plain, otherFilter, fastOther,
    trainSpeedup: plain.trainMs / fast.trainMs,
    forwardSpeedup: plain.forwardMs / fast.forwardMs,
    trainSpeedupOther: plain.trainMs / fastOther.trainMs,
  };
}

async function main(): Promise<void> {
  const start = performance.now();
  const result: BenchResult = {
    ok: false, date: new Date().toISOString(), backend: '', adapter: null, userAgent: navigator.userAgent,
    choice: convGradChoice(BACKEND), gradChecks: [], convTimings: [], presets: [], totalSeconds: 0,
  };
  try {
    if (!(await tf.setBackend(BACKEND))) throw new Error(`tf.setBackend('${BACKEND}') failed (no adapter?)`);
    await tf.ready();
    result.backend = tf.getBackend();
    if (result.backend !== BACKEND) throw new Error(`backend is '${result.backend}', not '${BACKEND}'`);
    result.adapter = await adapterInfo();
    result.choice = convGradChoice();
    log(`backend ${result.backend}, adapter ${JSON.stringify(result.adapter)}, conv gradients ${JSON.stringify(result.choice)}`);
    result.gradChecks = await gradChecks();
    if (CONV_REPS > 0) result.convTimings = await convTimings();
    for (const preset of PRESETS) result.presets.push(await presetTiming(preset));
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    log(`error: ${result.error}`);
  }
  result.totalSeconds = (performance.now() - start) / 1000;
  document.getElementById('result')!.textContent = JSON.stringify(result, null, 2);
  window.__benchResult = result;
}

void main();
