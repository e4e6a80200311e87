/**
 * The worker's half of the denoising player: every step of a sampling run, quantized to bytes
 * (src/protocol/quantize.ts) and gathered into 'sample/steps' messages of several positions each, so
 * that a 1000-step run costs the page a few dozen messages rather than a thousand.
 *
 * Positions (see SampleSteps in the protocol): 0 is x_T, k the x_t of step k + 1 with what the
 * denoiser predicted from it (x0, ε̂), N the final sample. A step's x_t is the previous step's
 * result, so each step's result is kept (as bytes) until the next step completes its position.
 *
 * A latent model's decodings are optional: the run decodes only the steps it shows (see
 * ./sampling-run.ts), and a position is marked decoded when both its x_t and its x̂0 decodings came
 * with it; the page asks for the others when the player shows them ('sample/decode', ./record-decode.ts).
 */
import type { RecordShape, SampleSteps } from '../protocol/messages';
import { IMAGE_RANGE, LATENT_RANGE, NOISE_RANGE, quantize } from '../protocol/quantize';

/** One step's values, as floats read back from the device. */
export interface StepValues {
  /** The denoiser's timestep t at this step. */
  t: number;
  /** The sample after the step, the predicted x0 and the predicted noise ε̂ (pixels, or latents). */
  xNext: ArrayLike<number>;
  x0: ArrayLike<number>;
  eps: ArrayLike<number>;
  /** Latent models: the decodings of the sample after the step and of x0 (either may be left out). */
  decodedNext?: ArrayLike<number>;
  decodedX0?: ArrayLike<number>;
}

interface Position {
  t: number;
  /** Images (a latent model's decodings: null where not decoded). */
  x: Uint8Array | null;
  x0: Uint8Array | null;
  eps: Uint8Array | null;
  latent: { x: Uint8Array; x0: Uint8Array; eps: Uint8Array } | null;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class StepRecorder {
  private pending: Position[] = [];
  /** The position of pending[0]. */
  private first = 0;
  /** x_t of the next position: the last step's result (x_T before the first step). */
  private carry: { x: Uint8Array | null; latent: Uint8Array | null } | null = null;
  /** The final sample's position when the run ended before `steps`, until the message that carries it is sent. */
  private final: number | null = null;

  /** `latents`: the latent shape for a latent model (then `images` is the decodings' shape), or null. */
  constructor(
    private readonly run: number,
    private readonly steps: number,
    private readonly images: RecordShape,
    private readonly latents: RecordShape | null,
  ) {}

  /** x_T: pixels, or for a latent model its latents and (when decoded) their decoding. */
  start(xT: ArrayLike<number>, decodedXT?: ArrayLike<number>): void {
    this.carry = this.latents
      ? { x: decodedXT ? quantize(decodedXT, IMAGE_RANGE) : null, latent: quantize(xT, LATENT_RANGE) }
      : { x: quantize(xT, IMAGE_RANGE), latent: null };
  }

  /** Latent models: the decoding of the next position's x_t, when the step before it did not decode. */
  decodeCarry(decoded: ArrayLike<number>): void {
    if (this.carry) this.carry.x = quantize(decoded, IMAGE_RANGE);
  }

  /** Whether the next position's x_t (the last step's result) has its decoding (always for pixels). */
  get carryDecoded(): boolean {
    return this.carry?.x != null;
  }

  /**
   * Completes the position of this step (and, after the last step, the final sample's). `last`: the
   * run ends with this step (default: when `steps` steps are done); a run that ends before `steps`
   * says where its final sample is in the message that carries it.
   */
  add(step: StepValues, last?: boolean): void {
    const carry = this.carry;
    if (carry == null) throw new Error('StepRecorder.start must come before add.');
    const latent = this.latents != null;
    const next = latent
      ? { x: step.decodedNext ? quantize(step.decodedNext, IMAGE_RANGE) : null, latent: quantize(step.xNext, LATENT_RANGE) }
      : { x: quantize(step.xNext, IMAGE_RANGE), latent: null };
    const x0 = latent ? step.decodedX0 : step.x0;
    this.pending.push({
      t: step.t,
      x: carry.x,
      x0: x0 ? quantize(x0, IMAGE_RANGE) : null,
      eps: latent ? null : quantize(step.eps, NOISE_RANGE),
      latent: latent ? { x: carry.latent!, x0: quantize(step.x0, LATENT_RANGE), eps: quantize(step.eps, LATENT_RANGE) } : null,
    });
    this.carry = next;
    const done = this.first + this.pending.length;
    if (last ?? done === this.steps) {
      if (done !== this.steps) this.final = done;
      // The final sample: its x0 is itself, and no noise is left in it (ε̂ = 0, byte 128).
      const zero = (n: number) => new Uint8Array(n).fill(128);
      this.pending.push({
        t: -1,
        x: next.x,
        x0: next.x,
        eps: latent ? null : zero(next.x!.length),
        latent: latent ? { x: next.latent!, x0: next.latent!, eps: zero(next.latent!.length) } : null,
      });
    }
  }

  /** The completed positions not sent yet, as one message (null when there are none). */
  flush(): SampleSteps | null {
    const p = this.pending;
    if (p.length === 0) return null;
    const imageSize = this.images.n * this.images.h * this.images.w * this.images.c;
    const blank = new Uint8Array(imageSize);
    const message: SampleSteps = {
      type: 'sample/steps',
      run: this.run,
      steps: this.steps,
      first: this.first,
      count: p.length,
      t: Int32Array.from(p, (q) => q.t),
      images: this.images,
      // Positions not decoded carry zero bytes, marked in `decoded`.
      x: concat(p.map((q) => q.x ?? blank)),
      x0: concat(p.map((q) => q.x0 ?? blank)),
      ...(this.latents ? { decoded: Uint8Array.from(p, (q) => (q.x && q.x0 ? 1 : 0)) } : {}),
      eps: this.latents ? null : concat(p.map((q) => q.eps!)),
      latents: this.latents
        ? { shape: this.latents, x: concat(p.map((q) => q.latent!.x)), x0: concat(p.map((q) => q.latent!.x0)), eps: concat(p.map((q) => q.latent!.eps)) }
        : null,
      ...(this.final !== null ? { final: this.final } : {}),
    };
    this.final = null;
    this.first += p.length;
    this.pending = [];
    return message;
  }
}
