/**
 * The CLI's .npy reader and writer (src/cli/npy.ts): byte-for-byte what numpy.save writes (the
 * expected bytes below were made with numpy 2.4 `np.save`), round trips through a file, float32
 * images in each range, and an Error naming the problem for every malformed file.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, npyToImages, readNpy, writeNpy, type NpyArray } from '../../src/cli/npy';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** A hand-made file: magic, version, uint16 length, header (padded to 64), data. */
function handMade(header: string, data: Uint8Array, version = [1, 0]): Uint8Array {
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  const text = header + ' '.repeat(pad) + '\n';
  return concat(latin1('\x93NUMPY'), Uint8Array.from([version[0], version[1], text.length & 0xff, text.length >> 8]), latin1(text), data);
}

describe('npy', () => {
  it('writes exactly what numpy.save writes for uint8 [1, 2, 3]', () => {
    const bytes = encodeNpy(Uint8Array.from([0, 1, 2, 3, 4, 5]), [1, 2, 3]);
    const numpy = handMade("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 3), }", Uint8Array.from([0, 1, 2, 3, 4, 5]));
    expect(bytes.length).toBe(134);
    expect([...bytes]).toEqual([...numpy]);
    expect(new TextDecoder('latin1').decode(bytes.subarray(0, 10))).toBe('\x93NUMPY\x01\x00v\x00');
  });

  it('reads numpy float32 [2, 2] (hex from np.save) and a 1-D shape', () => {
    const hex =
      '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d20' +
      '2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000003f0000803f0000803e';
    const array = decodeNpy(Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16))));
    expect(array.dtype).toBe('float32');
    expect(array.shape).toEqual([2, 2]);
    expect([...array.data]).toEqual([0, 0.5, 1, 0.25]);
    const oneD = decodeNpy(encodeNpy(Uint8Array.from([7, 8, 9]), [3]));
    expect(oneD.shape).toEqual([3]);
    expect(new TextDecoder('latin1').decode(encodeNpy(Uint8Array.from([7]), [1]))).toContain("'shape': (1,), }");
  });

  it('round-trips uint8 images [N, 28, 28] through a file, data 64-byte aligned', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'npy-'));
    try {
      const n = 5;
      const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37) % 256);
      const path = join(dir, 'x.npy');
      await writeNpy(path, images, [n, 28, 28]);
      const raw = await readFile(path);
      expect((raw.length - n * 784) % 64).toBe(0);
      const back = await readNpy(path);
      expect(back.dtype).toBe('uint8');
      expect(back.shape).toEqual([n, 28, 28]);
      expect(Buffer.from(back.data).equals(Buffer.from(images))).toBe(true);
      expect(npyToImages(back)).toMatchObject({ n, range: '0..255' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads float32 images in [0, 1], [−1, 1] or [0, 255] as bytes, in any image layout', () => {
    const f = (values: number[], shape: number[]): NpyArray => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
    const ramp = (lo: number, hi: number) => Array.from({ length: 784 }, (_, i) => lo + ((hi - lo) * (i % 3)) / 2);
    expect([...npyToImages(f(ramp(0, 1), [1, 28, 28])).pixels.subarray(0, 3)]).toEqual([0, 128, 255]);
    const unit = npyToImages(f(ramp(-1, 1), [1, 28, 28, 1]));
    expect([unit.range, ...unit.pixels.subarray(0, 3)]).toEqual(['-1..1', 0, 128, 255]);
    expect(npyToImages(f(ramp(0, 200), [1, 1, 28, 28])).range).toBe('0..255');
    expect(npyToImages(f(ramp(0, 1), [1, 784])).n).toBe(1);
    expect(() => npyToImages(f(ramp(-5, 300), [1, 28, 28]))).toThrow(/not \[0, 1\]/);
    expect(() => npyToImages({ dtype: 'uint8', shape: [2, 27, 27], data: new Uint8Array(2 * 729) }, 'x.npy')).toThrow(/x\.npy: expected images of shape \[N, 28, 28\]/);
  });

  it('rejects bad magic, versions, headers, dtypes, Fortran order and wrong data lengths, naming each', () => {
    const good = encodeNpy(new Uint8Array(6), [2, 3]);
    const header = (dict: string, data = new Uint8Array(6)) => handMade(dict, data);
    const cases: [Uint8Array, RegExp][] = [
      [latin1('PK\x03\x04 not numpy'), /f\.npy: not a \.npy file \(bad magic/],
      [good.subarray(0, 8), /truncated \.npy file \(8 bytes/],
      [good.subarray(0, 40), /truncated .*the header alone needs 128/],
      [concat(good.subarray(0, 6), Uint8Array.from([4, 0]), good.subarray(8)), /unsupported \.npy format version 4\.0/],
      [header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"), /unsupported dtype '<f8'/],
      [header("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }"), /unsupported dtype '>f4'/],
      [header("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }"), /Fortran-order/],
      [header("{'descr': '|u1', 'shape': (2, 3), }"), /lacks fortran_order/],
      [header("{'descr': '|u1', 'fortran_order': False, 'shape': (2, -3), }"), /bad shape/],
      [header("'descr': '|u1'"), /header is not a dict/],
      [good.subarray(0, good.length - 1), /truncated \.npy file: shape \(2, 3\) of '\|u1' needs 6 data bytes, the file has 5/],
      [concat(good, Uint8Array.from([1, 2])), /2 unexpected bytes after the data/],
    ];
    for (const [bytes, message] of cases) expect(() => decodeNpy(bytes, 'f.npy')).toThrow(message);
    expect(() => encodeNpy(new Uint8Array(5), [2, 3])).toThrow(/needs 6 values, got 5/);
  });
});
