// ArchivedFile + BlockCache without a server: reads mapped across parts and blocks of every size agree
// with the bytes laid end to end; the LRU bounds requests; a whole-object block is CRC-checked.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArchivedFile, type ArchivedPiece } from '../../../src/archive/archived-file.js';
import { BlockCache } from '../../../src/archive/block-cache.js';
import type { SyncS3 } from '../../../src/archive/sync-s3.js';
import { crc32c } from '../../../src/codec/crc32c.js';
import { InvalidDataError } from '../../../src/errors.js';

/** A stand-in for SyncS3 over in-memory objects, counting requests. */
function fakeS3(objects: Map<string, Uint8Array>): SyncS3 & { requests: number } {
  const fake = {
    bucket: 'b',
    requests: 0,
    read(key: string, start: number, end: number, expectSize?: number): Uint8Array {
      fake.requests++;
      const o = objects.get(key)!;
      expect(expectSize).toBe(o.length);
      return o.slice(start, end);
    },
  };
  return fake as unknown as SyncS3 & { requests: number };
}

function layout(sizes: number[]): { whole: Uint8Array; pieces: ArchivedPiece[]; objects: Map<string, Uint8Array> } {
  const total = sizes.reduce((a, b) => a + b, 0);
  const whole = Uint8Array.from({ length: total }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
  const objects = new Map<string, Uint8Array>();
  const pieces: ArchivedPiece[] = [];
  let at = 0;
  sizes.forEach((size, i) => {
    const bytes = whole.slice(at, at + size);
    objects.set(`p${i}`, bytes);
    pieces.push({ key: `p${i}`, start: at, size, crc32c: crc32c(bytes) });
    at += size;
  });
  return { whole, pieces, objects };
}

describe('ArchivedFile', () => {
  it('any read equals the same range of the concatenated parts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.nat(2000), fc.integer({ min: 0, max: 700 })), { minLength: 1, maxLength: 10 }),
        (sizes, blockBytes, maxBlocks, reads) => {
          const { whole, pieces, objects } = layout(sizes);
          const file = new ArchivedFile(new BlockCache(fakeS3(objects), blockBytes, maxBlocks), pieces, 'test');
          expect(file.size()).toBe(whole.length);
          for (const [pos, len] of reads) {
            const buf = new Uint8Array(len + 3);
            const n = file.read(buf, 3, len, pos);
            const want = whole.subarray(Math.min(pos, whole.length), Math.min(pos + len, whole.length));
            expect(n).toBe(want.length);
            expect(buf.subarray(3, 3 + n)).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a sequential pass in small reads costs one request per block; the LRU is bounded', () => {
    const { pieces, objects } = layout([5000, 3000]);
    const s3 = fakeS3(objects);
    const file = new ArchivedFile(new BlockCache(s3, 1024, 2), pieces, 'test');
    const buf = new Uint8Array(100);
    for (let pos = 0; pos < file.size(); pos += 100) file.read(buf, 0, 100, pos);
    expect(s3.requests).toBe(Math.ceil(5000 / 1024) + Math.ceil(3000 / 1024));
    file.read(buf, 0, 100, 0); // evicted long ago
    expect(s3.requests).toBe(9);
  });

  it('a part read in order, block by block, is checked against its CRC32C at its last block', () => {
    const { pieces, objects } = layout([5000]);
    objects.get('p0')![4500] ^= 1;
    const file = new ArchivedFile(new BlockCache(fakeS3(objects), 1024, 2), pieces, 'test');
    const buf = new Uint8Array(1000);
    for (let pos = 0; pos < 4000; pos += 1000) file.read(buf, 0, 1000, pos);
    expect(() => file.read(buf, 0, 1000, 4000)).toThrow(/s3:\/\/b\/p0: CRC32C mismatch/);
    // Read out of order (the last block first), nothing can be checked: commit checksums still are.
    const fresh = new ArchivedFile(new BlockCache(fakeS3(objects), 1024, 2), pieces, 'test');
    expect(fresh.read(buf, 0, 100, 4900)).toBe(100);
  });

  it('a block holding a whole part is checked against its CRC32C, naming the object', () => {
    const { pieces, objects } = layout([100]);
    objects.get('p0')![5] ^= 1;
    const file = new ArchivedFile(new BlockCache(fakeS3(objects), 1024, 2), pieces, 'test');
    expect(() => file.read(new Uint8Array(10), 0, 10, 0)).toThrow(InvalidDataError);
    expect(() => file.read(new Uint8Array(10), 0, 10, 0)).toThrow(/s3:\/\/b\/p0: CRC32C mismatch/);
  });
});
