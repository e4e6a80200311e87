/**
 * The page <-> worker protocol: every message survives a structured clone (what postMessage does),
 * and the transfer list names exactly the image and loss buffers, so frames move without copies.
 */
import { describe, it, expect } from 'vitest';
import { transferablesOf, type WorkerToPage, type ImageBatch } from '../../src/protocol/messages';

const batch = (n: number): ImageBatch => ({ pixels: new Float32Array(n * 28 * 28).fill(0.5), n, h: 28, w: 28, c: 1 });

describe('protocol', () => {
  it('transfers the buffers of frames, previews and progress', () => {
    const frame: WorkerToPage = { type: 'sample/frame', index: 3, total: 10, t: 700, xt: batch(2), x0: batch(2), decodedXt: null, decodedX0: null, elapsedMs: 5 };
    if (frame.type !== 'sample/frame') throw new Error();
    expect(transferablesOf(frame)).toEqual([frame.xt.pixels.buffer, frame.x0.pixels.buffer]);
    const progress: WorkerToPage = {
      type: 'train/progress', stage: 'denoiser', steps: Int32Array.of(1, 2), losses: Float32Array.of(0.9, 0.8), stepsPerSec: 3, etaSec: 10, step: 2, totalSteps: 20,
      itemTimesteps: Int32Array.of(5, 900), itemLosses: Float32Array.of(1, 0.1),
    };
    expect(transferablesOf(progress)).toHaveLength(4);
    const latentFrame: WorkerToPage = { type: 'sample/frame', index: 0, total: 1, t: 9, xt: batch(1), x0: batch(1), decodedXt: batch(1), decodedX0: batch(1), elapsedMs: 1 };
    expect(transferablesOf(latentFrame)).toHaveLength(4);
    expect(transferablesOf({ type: 'memory', numTensors: 1, numBytes: 4 })).toEqual([]);
    const shape = { n: 1, h: 28, w: 28, c: 1 };
    const bytes = () => new Uint8Array(784);
    const steps: WorkerToPage = { type: 'sample/steps', run: 1, steps: 1, first: 0, count: 1, t: Int32Array.of(5), images: shape, x: bytes(), x0: bytes(), eps: bytes(), latents: null };
    expect(transferablesOf(steps)).toHaveLength(4);
    const latentSteps: WorkerToPage = { ...steps, eps: null, latents: { shape: { n: 1, h: 7, w: 7, c: 4 }, x: bytes(), x0: bytes(), eps: bytes() } };
    expect(transferablesOf(latentSteps)).toHaveLength(6);
  });

  it('survives postMessage: a transferred frame arrives intact and detaches the sender copy', () => {
    const frame: WorkerToPage = { type: 'sample/frame', index: 0, total: 1, t: 999, xt: batch(1), x0: batch(1), decodedXt: null, decodedX0: null, elapsedMs: 0 };
    if (frame.type !== 'sample/frame') throw new Error();
    const received = structuredClone(frame, { transfer: transferablesOf(frame) });
    expect(received.xt.pixels.length).toBe(784);
    expect(received.xt.pixels[100]).toBe(0.5);
    expect(frame.xt.pixels.length).toBe(0); // transferred, not copied
  });
});
