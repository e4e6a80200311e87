/**
 * The Edit panel's 28×28 pad: painting ink (brush), erasing, painting the inpainting mask, and the
 * picture the pad shows (the input in grey, the part to regenerate tinted). Plain numbers.
 */
import { paintDot } from '../forward-math';

export const SIZE = 28;
export const PIXELS = SIZE * SIZE;

export type PadTool = 'brush' | 'eraser' | 'regenerate' | 'keep';

/** A soft round dot of the tool at (x, y): ink brightens, the eraser darkens, the mask tools set 0 / 1 under a disc. */
export function paintTool(tool: PadTool, input: Float32Array, mask: Float32Array, x: number, y: number): boolean {
  if (tool === 'brush') return paintDot(input, x, y);
  let changed = false;
  const r = tool === 'eraser' ? 1.8 : 2.2;
  for (let py = Math.max(0, Math.floor(y - r)); py <= Math.min(SIZE - 1, Math.ceil(y + r)); py++) {
    for (let px = Math.max(0, Math.floor(x - r)); px <= Math.min(SIZE - 1, Math.ceil(x + r)); px++) {
      if (Math.hypot(px + 0.5 - x, py + 0.5 - y) > r) continue;
      const k = py * SIZE + px;
      if (tool === 'eraser' && input[k] !== -1) {
        input[k] = -1;
        changed = true;
      } else if (tool !== 'eraser') {
        const v = tool === 'keep' ? 1 : 0;
        if (mask[k] !== v) {
          mask[k] = v;
          changed = true;
        }
      }
    }
  }
  return changed;
}

/** Paints a line of dots a quarter pixel apart from (ax, ay) to (bx, by). */
export function paintToolStroke(tool: PadTool, input: Float32Array, mask: Float32Array, ax: number, ay: number, bx: number, by: number): boolean {
  const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) * 4));
  let changed = false;
  for (let s = 0; s <= steps; s++) if (paintTool(tool, input, mask, ax + ((bx - ax) * s) / steps, ay + ((by - ay) * s) / steps)) changed = true;
  return changed;
}

/** A mask keeping the upper half and regenerating the lower (rows 14–27). */
export function lowerHalfMask(): Float32Array {
  return Float32Array.from({ length: PIXELS }, (_, i) => (i < PIXELS / 2 ? 1 : 0));
}

/** RGBA of the pad: grey input; where the mask regenerates (mask < 0.5), tinted orange. */
export function padPixels(input: Float32Array, mask: Float32Array | null): Uint8ClampedArray {
  const out = new Uint8ClampedArray(PIXELS * 4);
  for (let i = 0; i < PIXELS; i++) {
    const g = Math.round((Math.min(1, Math.max(-1, input[i])) + 1) * 127.5);
    const regen = mask !== null && mask[i] < 0.5;
    out[4 * i] = regen ? Math.round(0.55 * g + 0.45 * 249) : g;
    out[4 * i + 1] = regen ? Math.round(0.55 * g + 0.45 * 115) : g;
    out[4 * i + 2] = regen ? Math.round(0.55 * g + 0.45 * 22) : g;
    out[4 * i + 3] = 255;
  }
  return out;
}
