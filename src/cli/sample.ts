/**
 * `npm run sample`: samples digits from a pretrained model (public/models/pixel or latent, written by
 * `npm run pretrain`) and writes them as a NumPy file (uint8, shape [N, 28, 28]) or a PNG grid
 * (10 columns: with digits cycling 0..9, each column is one digit).
 *
 *   npm run sample -- --model pixel|latent --sampler ddpm|ddim|dpmpp --steps N --n N --seed S
 *                     [--class D] [--guidance W] [--eta E] --out FILE.npy|FILE.png [--batch B] [--model-dir DIR]
 *                     [--spacing linspace|leading|trailing] [--clipping none|clip|dynamic]
 *
 * The EMA weights sample when the model has them. Same weights, options, seed and batch size give the
 * same bytes (see src/sampling/generate.ts). Guidance is classifier-free guidance's w (1: conditional
 * only). Spacing and x0 clipping default to DEFAULT_SAMPLER's (leading, clip); latent models never
 * clip. Progress (steps/s, time left) goes to stderr; bad options exit with code 2 and a usage line.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { initNodeBackend, machineWasmThreads, nodeWasmThreadsInfo, setDefaultWasmThreads } from '../backends/node';
import { samplerStepsLabel } from '../diffusion/config';
import { UsageError } from './args';
import { writeNpy } from './npy';
import { encodeGrayPng, imageGrid } from './png';
import {
  generate,
  isMainModule,
  loadSpecModel,
  parseOptions,
  runTool,
  samplingSpec,
  SAMPLING_DEFAULTS,
  SAMPLING_USAGE,
  type ToolIO,
} from './sampling-options';

const USAGE = `npm run sample -- ${SAMPLING_USAGE} --out FILE.npy|FILE.png`;

/** Writes n uint8 28×28 images to `path`: .npy [n, 28, 28], or a PNG grid of 10 columns. */
export async function writeImages(path: string, pixels: Uint8Array, n: number): Promise<void> {
  if (extname(path).toLowerCase() === '.npy') return writeNpy(path, pixels, [n, 28, 28]);
  const grid = imageGrid(pixels, n, 28, Math.min(10, n));
  await writeFile(path, encodeGrayPng(grid.pixels, grid.width, grid.height));
}

/** The tool itself, callable in-process (tests): returns the exit code. */
export async function sampleMain(argv: string[], io: ToolIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  return runTool('sample', io.err, async () => {
    const args = parseOptions(argv, { ...SAMPLING_DEFAULTS, out: '' }, USAGE);
    const spec = samplingSpec(args, USAGE);
    if (!args.out) throw new UsageError(`--out FILE.npy or FILE.png is required\nusage: ${USAGE}`);
    const ext = extname(args.out).toLowerCase();
    if (ext !== '.npy' && ext !== '.png') throw new UsageError(`--out must end in .npy or .png, got '${args.out}'\nusage: ${USAGE}`);
    await initNodeBackend('wasm');
    io.err.write(`wasm backend: ${nodeWasmThreadsInfo()?.actual ?? 1} thread(s)\n`);
    const loaded = await loadSpecModel(spec, USAGE);
    try {
      const result = await generate(loaded, spec, io.err);
      await writeImages(args.out, result.pixels, result.n);
      const r = spec.request;
      const digits = r.digit === null ? (loaded.classConditional ? 'digits 0-9 cycling' : 'unconditional') : `digit ${r.digit}`;
      io.out.write(
        `wrote ${args.out}: ${result.n} images (${spec.model}, ${samplerStepsLabel(r.kind, r.steps)}, ${digits}, guidance ${r.guidance}, ${r.spacing} spacing, seed ${r.seed}, batch ${r.batch})\n` +
          `${result.seconds.toFixed(1)} s, ${result.msPerImage.toFixed(1)} ms/image\n`,
      );
    } finally {
      loaded.model.dispose();
    }
  });
}

if (isMainModule(import.meta.url)) {
  setDefaultWasmThreads(machineWasmThreads()); // run alone: use the cores (TFJS_WASM_THREADS overrides)
  void sampleMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
