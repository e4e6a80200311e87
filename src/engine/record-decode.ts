/**
 * Decodings on demand for the denoising player (latent models). A sampling run decodes only the
 * steps it shows live (./sampling-run.ts); when the player shows a recorded position without its
 * decoding, the page sends that position's latents back ('sample/decode', the bytes it holds) and
 * the worker decodes them with the model's autoencoder ('sample/decoded').
 *
 * The latents come back as bytes (LATENT_RANGE: ±4 in 255 levels, about 0.03 of a unit-variance
 * latent), so such a decoding can differ from the run's own by a gray level or two
 * (tests/unit/record-decode.test.ts measures it).
 */
import * as tf from '@tensorflow/tfjs';
import type { DiffusionModel } from '../models/diffusion-model';
import type { PageToWorker, SampleDecoded } from '../protocol/messages';
import { IMAGE_RANGE, LATENT_RANGE, dequantize, quantize } from '../protocol/quantize';

export type DecodeRequest = Extract<PageToWorker, { type: 'sample/decode' }>;

/** Byte → value lookup for LATENT_RANGE. */
const LATENT_VALUES = Float32Array.from({ length: 256 }, (_, b) => dequantize(b, LATENT_RANGE));

/** The answer for positions that cannot be decoded: no images (the page then stops asking for them). */
export function undecoded(request: DecodeRequest): SampleDecoded {
  const { shape, positions } = request;
  return { type: 'sample/decoded', run: request.run, positions: [...positions], images: { n: shape.n, h: 0, w: 0, c: 0 }, x: new Uint8Array(0), x0: new Uint8Array(0) };
}

/**
 * The request's positions decoded. When the model cannot decode them (now a pixel model, no trained
 * autoencoder, another latent shape) the answer has no bytes, so that the page stops asking.
 */
export async function decodeRecorded(model: DiffusionModel | null, request: DecodeRequest): Promise<SampleDecoded> {
  const { shape, positions } = request;
  const none = undecoded(request);
  if (model == null || model.kind !== 'latent' || model.latent == null) return none;
  const count = positions.length;
  const size = shape.n * shape.h * shape.w * shape.c;
  if (count === 0 || request.x.length !== count * size || request.x0.length !== count * size) throw new Error('sample/decode: the latents do not match their shape.');
  const [, h, w, c] = model.sampleShape(1);
  if (shape.h !== h || shape.w !== w || shape.c !== c) return none; // recorded by another model
  const values = new Float32Array(2 * count * size);
  for (let i = 0; i < count * size; i++) {
    values[i] = LATENT_VALUES[request.x[i]];
    values[count * size + i] = LATENT_VALUES[request.x0[i]];
  }
  const decoded = tf.tidy(() => model.decode(tf.tensor4d(values, [2 * count * shape.n, h, w, c])));
  let data: Float32Array;
  try {
    data = (await decoded.data()) as Float32Array;
  } finally {
    decoded.dispose();
  }
  const [, ih, iw, ic] = decoded.shape;
  const half = data.length / 2;
  return {
    type: 'sample/decoded',
    run: request.run,
    positions: [...positions],
    images: { n: shape.n, h: ih, w: iw, c: ic },
    x: quantize(data.subarray(0, half), IMAGE_RANGE),
    x0: quantize(data.subarray(half), IMAGE_RANGE),
  };
}

/**
 * Answers the player's request (the engine's 'sample/decode'): the decodings, or when decoding
 * throws, an answer without images first, so the page's request is not left in flight, then the error.
 */
export async function answerDecode(model: DiffusionModel | null, request: DecodeRequest, post: (message: SampleDecoded) => void): Promise<void> {
  try {
    post(await decodeRecorded(model, request));
  } catch (err) {
    post(undecoded(request));
    throw err;
  }
}
