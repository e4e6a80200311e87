/** The CLI's PNG writer: a valid 8-bit grayscale PNG whose pixels inflate back exactly. */
import { describe, it, expect } from 'vitest';
import { crc32, inflateSync } from 'node:zlib';
import { encodeGrayPng, imageGrid, toBytes } from '../../src/cli/png';

function chunks(png: Buffer): { type: string; data: Buffer; crcOk: boolean }[] {
  const out = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    const crcOk = png.readUInt32BE(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length));
    out.push({ type, data, crcOk });
    at += 12 + length;
  }
  return out;
}

describe('png', () => {
  it('writes a grayscale PNG whose rows inflate back to the pixels', () => {
    const pixels = Uint8Array.from({ length: 5 * 3 }, (_, i) => i * 17);
    const png = encodeGrayPng(pixels, 5, 3);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const parts = chunks(png);
    expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(parts.every((c) => c.crcOk)).toBe(true);
    const ihdr = parts[0].data;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([5, 3, 8, 0]);
    const raw = inflateSync(parts[1].data);
    const rows = [0, 1, 2].map((y) => [...raw.subarray(y * 6, y * 6 + 6)]);
    expect(rows.map((r) => r[0])).toEqual([0, 0, 0]);
    expect(rows.flatMap((r) => r.slice(1))).toEqual([...pixels]);
  });

  it('lays images out in a grid and maps [-1, 1] to bytes', () => {
    expect([...toBytes([-1, 0, 1, 2])]).toEqual([0, 128, 255, 255]);
    const images = Uint8Array.from([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]); // three 2x2 images
    const grid = imageGrid(images, 3, 2, 2);
    expect([grid.width, grid.height]).toEqual([6, 6]);
    expect(grid.pixels[0]).toBe(1);
    expect(grid.pixels[4]).toBe(2);
    expect(grid.pixels[4 * 6]).toBe(3);
    expect(grid.pixels[4 * 6 + 4]).toBe(32); // background where no image is
  });
});
