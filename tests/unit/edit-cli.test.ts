/**
 * `npm run edit` (src/cli/edit.ts) in-process on the pretrained pixel model: a PNG digit in, a PNG
 * row out (the input as the model saw it, then one edit per seed); the PNG reader against the
 * project's writer and against every filter type; inpainting keeps the upper half; bad input files
 * and options exit with code 2 and say why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodePng, editMain } from '../../src/cli/edit';
import { evalEditMain } from '../../src/cli/eval-edit';
import { encodeGrayPng } from '../../src/cli/png';
import type { ToolIO } from '../../src/cli/sampling-options';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edit-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): ToolIO & { text: () => { out: string; err: string } } {
  let out = '';
  let err = '';
  const stream = (add: (s: string) => void) => ({ isTTY: false, write: (s: string) => (add(s), true) }) as unknown as NodeJS.WriteStream;
  return { out: stream((s) => (out += s)), err: stream((s) => (err += s)), text: () => ({ out, err }) };
}

/** An RGBA PNG whose row y uses filter y mod 5 (None, Sub, Up, Average, Paeth), encoded here. */
function rgbaPng(w: number, h: number, px: Uint8Array): Buffer {
  const stride = w * 4;
  const raw = Buffer.alloc((stride + 1) * h);
  for (let y = 0; y < h; y++) {
    const f = y % 5;
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? px[y * stride + x - 4] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? px[(y - 1) * stride + x - 4] : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      raw[y * (stride + 1) + 1 + x] = (px[y * stride + x] - pred) & 0xff;
    }
  }
  const grey = encodeGrayPng(new Uint8Array(w * h), w, h); // borrow the signature and chunk layout
  const ihdr = Buffer.from(grey.subarray(8, 8 + 25));
  ihdr[8 + 9] = 6; // colour type RGBA (IHDR data starts at byte 8 of the chunk)
  // Chunks with their CRC-32 (as src/cli/png.ts writes them).
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  return Buffer.concat([grey.subarray(0, 8), chunk('IHDR', ihdr.subarray(8, 21)), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** A thick vertical stroke, dark on white, w×h. */
function stroke(w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h).fill(255);
  for (let y = Math.floor(h / 6); y < Math.ceil((5 * h) / 6); y++) for (let x = Math.floor(w / 2) - 3; x < Math.floor(w / 2) + 3; x++) px[y * w + x] = 0;
  return px;
}

describe('decodePng', () => {
  it('reads back what encodeGrayPng writes', () => {
    const px = Uint8Array.from({ length: 30 * 17 }, (_, i) => (i * 7) % 256);
    const img = decodePng(encodeGrayPng(px, 30, 17));
    expect(img).toMatchObject({ width: 30, height: 17, channels: 1 });
    expect(Array.from(img.data)).toEqual(Array.from(px));
  });

  it('undoes every filter type on an RGBA image', () => {
    const w = 9, h = 10;
    const px = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 31 + (i >> 3) * 17) % 256);
    const img = decodePng(rgbaPng(w, h, px));
    expect(img.channels).toBe(4);
    expect(Array.from(img.data)).toEqual(Array.from(px));
  });

  it('refuses a file that is not a PNG', () => {
    expect(() => decodePng(new TextEncoder().encode('hello, not an image'))).toThrow(/not a PNG/);
  });
});

describe('npm run edit', () => {
  it('SDEdits and inpaints a drawn digit on the pretrained pixel model, writing a PNG row', async () => {
    const input = join(dir, 'digit.png');
    await writeFile(input, encodeGrayPng(stroke(60, 60), 60, 60));
    for (const mode of ['sdedit', 'inpaint']) {
      const out = join(dir, `${mode}.png`);
      const io = capture();
      const code = await editMain(['--model', 'pixel', '--mode', mode, '--input', input, '--strength', '0.5', '--steps', '4', '--n', '2', '--seed', '1', '--out', out], io);
      expect(code, io.text().err).toBe(0);
      expect(io.text().out).toMatch(/wrote .*the input, then 2 edits/);
      expect(io.text().err).toMatch(/steps\/s/);
      const row = decodePng(new Uint8Array(await readFile(out)));
      expect(row).toMatchObject({ width: 3 * 28 + 2 * 2, height: 28 });
      if (mode === 'inpaint') {
        // The upper half of each edit equals the input's.
        for (let y = 0; y < 14; y++) for (let x = 0; x < 28; x++) for (const k of [1, 2]) expect(row.data[y * row.width + k * 30 + x]).toBe(row.data[y * row.width + x]);
      }
    }
  });

  it('exits with code 2 and a message for a non-image input and bad options', async () => {
    const notImage = join(dir, 'notes.txt');
    await writeFile(notImage, 'just text');
    const io = capture();
    expect(await editMain(['--input', notImage, '--out', join(dir, 'x.png')], io)).toBe(2);
    expect(io.text().err).toMatch(/--input .*not a PNG/);
    const io2 = capture();
    expect(await editMain(['--mode', 'paint', '--input', notImage, '--out', join(dir, 'x.png')], io2)).toBe(2);
    expect(io2.text().err).toMatch(/unknown --mode/);
  });
});

describe('npm run eval:edit', () => {
  it('scores inpainting and SDEdit of held-out digits and times an edit against sampling (tiny run)', async () => {
    const io = capture();
    const code = await evalEditMain(['--model', 'pixel', '--n', '4', '--batch', '4', '--steps', '2', '--tasks', 'inpaint,sdedit,speed', '--strengths', '0,1'], io);
    expect(code, io.text().err).toBe(0);
    const report = JSON.parse(io.text().out);
    expect(report).toMatchObject({ model: 'pixel', n: 4, classUnknown: true });
    // Pixel inpainting keeps the known half exactly; SDEdit at strength 0 is the input (same label).
    expect(report.inpaintLowerHalf.knownHalfChangePer255).toBe(0);
    expect(report.sdedit[0]).toMatchObject({ strength: 0, steps: 0, keepsClassifierLabel: 1 });
    expect(report.sdedit[1]).toMatchObject({ strength: 1, steps: 2 });
    expect(report.speed.sampleMs).toBeGreaterThan(0);
  });
});
