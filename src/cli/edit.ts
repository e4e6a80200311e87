/**
 * `npm run edit`: edits a digit image with a pretrained model (public/models/pixel or latent) and
 * writes the results as a PNG row: the input as the model saw it (28×28 MNIST-style), then one
 * edit per seed.
 *
 *   npm run edit -- --model pixel|latent --mode sdedit|inpaint --input digit.png [--mask mask.png]
 *                   [--strength 0.6] [--steps 50] [--seed 0] [--n 4] [--sampler ddim|ddpm|dpmpp]
 *                   [--class D] [--guidance W] [--jump J --resample R]
 *                   [--method replacement|ddnm|dps] [--zeta Z] --out out.png
 *
 * The input is any 8-bit PNG (grey, RGB, palette, with or without alpha), turned into an MNIST
 * digit as the Edit panel does (src/data/digit-image.ts: inverted when light, fitted to 20×20,
 * centred by its centre of mass); a 28×28 input is taken as it is (inverted when light). The mask
 * (inpainting) is read in the input's frame and resized to 28×28: white (≥ 50 %) = regenerate,
 * black = keep; without --mask the lower half is regenerated. --strength is SDEdit's s in [0, 1].
 * Progress (steps/s, time left) goes to stderr; bad options exit with code 2 and a usage line.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { initNodeBackend, machineWasmThreads, nodeWasmThreadsInfo, setDefaultWasmThreads } from '../backends/node';
import { DEFAULT_SAMPLER, samplerStepsLabel, SAMPLER_KINDS, type SamplerKind } from '../diffusion/config';
import { resizeArea, toGrey, toMnistDigit, type RasterImage } from '../data/digit-image';
import { pixelToUnit } from '../data/mnist';
import { editImages } from '../sampling/edit-images';
import { DEFAULT_DPS_SCALE, DEFAULT_INPAINT_METHOD, INPAINT_METHODS, type EditRequest, type InpaintMethodKind } from '../sampling/edit-config';
import { UsageError } from './args';
import { encodeGrayPng, imageGrid } from './png';
import { ProgressBar } from './progress';
import { isMainModule, loadSpecModel, parseOptions, runTool, samplingSpec, SAMPLING_DEFAULTS, type ToolIO } from './sampling-options';

const USAGE =
  'npm run edit -- --model pixel|latent --mode sdedit|inpaint --input digit.png [--mask mask.png] [--strength 0.6] [--steps 50] [--seed 0] [--n 4] [--sampler ddim|ddpm|dpmpp] [--class D] [--guidance W] [--jump J] [--resample R] [--method replacement|ddnm|dps] [--zeta Z] --out out.png';
const DEFAULTS = { model: 'pixel', mode: 'sdedit', input: '', mask: '', strength: 0.6, steps: 50, seed: 0, n: 4, sampler: 'ddim', class: -1, guidance: 1, jump: 10, resample: 1, method: DEFAULT_INPAINT_METHOD as string, zeta: DEFAULT_DPS_SCALE, out: '' };

/** Decodes an 8-bit, non-interlaced PNG (colour types 0, 2, 3, 4, 6) to its pixels. */
export function decodePng(bytes: Uint8Array): RasterImage {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || sig.some((b, i) => bytes[i] !== b)) throw new Error('not a PNG file (the signature is missing)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, depth = 0, colour = 0, interlace = 0;
  let palette: Uint8Array | null = null;
  let alphas: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (let p = 8; p + 8 <= bytes.length; ) {
    const len = view.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    const data = bytes.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') [width, height, depth, colour, interlace] = [view.getUint32(p + 8), view.getUint32(p + 12), data[8], data[9], data[12]];
    else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') alphas = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  if (depth !== 8 || interlace !== 0) throw new Error(`only 8-bit, non-interlaced PNGs are read (this one: ${depth}-bit${interlace ? ', interlaced' : ''})`);
  const inChannels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colour];
  if (!inChannels) throw new Error(`unknown PNG colour type ${colour}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * inChannels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= inChannels ? pixels[y * stride + x - inChannels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= inChannels && y > 0 ? pixels[(y - 1) * stride + x - inChannels] : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      if (pred === undefined) throw new Error(`bad PNG filter ${filter}`);
      pixels[y * stride + x] = (line[x] + pred) & 0xff;
    }
  }
  if (colour !== 3) return { width, height, data: pixels, channels: inChannels as 1 | 2 | 3 | 4 };
  if (!palette) throw new Error('palette PNG without a palette');
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const k = pixels[i];
    rgba.set([palette[3 * k], palette[3 * k + 1], palette[3 * k + 2], alphas && k < alphas.length ? alphas[k] : 255], 4 * i);
  }
  return { width, height, data: rgba, channels: 4 };
}

/** The input as 784 bytes (MNIST-style, 255 = ink). */
export function inputDigit(image: RasterImage): Uint8Array {
  if (image.width !== 28 || image.height !== 28) return toMnistDigit(image).pixels;
  const grey = toGrey(image);
  let border = 0;
  for (let i = 0; i < 28; i++) border += grey[i] + grey[27 * 28 + i];
  const light = border / 56 > 0.5;
  return Uint8Array.from(grey, (v) => Math.round(255 * (light ? 1 - v : v)));
}

/** The keep mask (1 keep, 0 regenerate) from a mask image: white regenerates. */
export function maskFrom(image: RasterImage): Float32Array {
  const small = resizeArea(toGrey(image), image.width, image.height, 28, 28);
  return Float32Array.from(small, (v) => (v >= 0.5 ? 0 : 1));
}

export async function editMain(argv: string[], io: ToolIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  return runTool('edit', io.err, async () => {
    const args = parseOptions(argv, DEFAULTS, USAGE);
    const bad = (problem: string) => new UsageError(`${problem}\nusage: ${USAGE}`);
    if (args.mode !== 'sdedit' && args.mode !== 'inpaint') throw bad(`unknown --mode '${args.mode}' (expected sdedit or inpaint)`);
    if (!args.input) throw bad('--input FILE.png is required');
    if (!args.out.toLowerCase().endsWith('.png')) throw bad(`--out must end in .png, got '${args.out}'`);
    if (!(args.strength >= 0 && args.strength <= 1)) throw bad(`--strength must be in [0, 1], got ${args.strength}`);
    if (!(SAMPLER_KINDS as readonly string[]).includes(args.sampler)) throw bad(`unknown --sampler '${args.sampler}'`);
    if (!(Number.isInteger(args.n) && args.n >= 1 && args.n <= 64)) throw bad(`--n must be an integer in 1..64, got ${args.n}`);
    if (!(Number.isInteger(args.jump) && args.jump >= 1 && Number.isInteger(args.resample) && args.resample >= 1)) throw bad('--jump and --resample must be integers ≥ 1');
    if (!(INPAINT_METHODS as readonly string[]).includes(args.method)) throw bad(`unknown --method '${args.method}' (expected ${INPAINT_METHODS.join(', ')})`);
    if (!(Number.isFinite(args.zeta) && args.zeta >= 0)) throw bad(`--zeta must be a number ≥ 0, got ${args.zeta}`);
    const spec = samplingSpec({ ...SAMPLING_DEFAULTS, model: args.model, sampler: args.sampler, steps: args.steps, seed: args.seed, n: args.n, batch: args.n, class: args.class, guidance: args.guidance }, USAGE);
    const read = async (path: string, what: string) => {
      try {
        return decodePng(new Uint8Array(await readFile(path)));
      } catch (err) {
        throw bad(`${what} ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const digit = inputDigit(await read(args.input, '--input'));
    const mask = args.mode === 'inpaint' ? (args.mask ? maskFrom(await read(args.mask, '--mask')) : Float32Array.from({ length: 784 }, (_, i) => (i < 392 ? 1 : 0))) : null;
    await initNodeBackend('wasm');
    io.err.write(`wasm backend: ${nodeWasmThreadsInfo()?.actual ?? 1} thread(s)\n`);
    const loaded = await loadSpecModel(spec, USAGE);
    try {
      const request: EditRequest = {
        ...DEFAULT_SAMPLER,
        kind: args.sampler as SamplerKind,
        steps: args.steps,
        guidance: args.guidance,
        numImages: args.n,
        seed: args.seed,
        digit: spec.request.digit,
        useEma: true,
        mode: args.mode,
        input: Float32Array.from(digit, pixelToUnit),
        mask,
        strength: args.strength,
        jump: args.jump,
        resample: args.resample,
        inpaintMethod: args.method as InpaintMethodKind,
        dpsScale: args.zeta,
        interpolation: 'seeds',
        frames: 8,
        input2: null,
        seed2: 0,
        digit2: null,
      };
      const label = `edit ${args.model} ${args.mode} ${samplerStepsLabel(request.kind, request.steps)}`;
      let bar: ProgressBar | null = null;
      const t0 = performance.now();
      const images = await editImages(loaded.model, loaded.schedule, loaded.prediction, request, (done, total) => {
        bar ??= new ProgressBar(label, total, io.err);
        bar.update(done);
      });
      const all = new Uint8Array((args.n + 1) * 784);
      all.set(digit);
      all.set(images, 784);
      const grid = imageGrid(all, args.n + 1, 28, args.n + 1);
      await writeFile(args.out, encodeGrayPng(grid.pixels, grid.width, grid.height));
      io.out.write(`wrote ${args.out}: the input, then ${args.n} edits (${label}, ${args.mode === 'sdedit' ? `strength ${args.strength}` : `mask ${args.mask || 'lower half'}, ${args.method}, resample ${args.resample}`}, seed ${args.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } finally {
      loaded.model.dispose();
    }
  });
}

if (isMainModule(import.meta.url)) {
  setDefaultWasmThreads(machineWasmThreads());
  void editMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
