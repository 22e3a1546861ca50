/**
 * The behaviour every `Repo` implementation must have (SPEC §2.7, §3.1), as one suite that each
 * backend registers (the abstract-level pattern). Only the storage contract is tested here; what the
 * log builds on top of it is tested elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError } from '../../src/errors.js';
import type { Repo, StorageFile } from '../../src/repo/repo.js';

export interface RepoCapabilities {
  /** Whether the repo keeps offset index files (FsRepo, MemoryRepo({offsetIndex:true})). */
  offsetIndex: boolean;
}

const enc = new TextEncoder();
const bytes = (s: string): Uint8Array => enc.encode(s);

/** A valid v1 segment header (SPEC A.1) followed by the commit of SPEC A.2: a plausible sealed segment. */
const SEGMENT_BYTES = Uint8Array.from([
  0x28, 0x64, 0x73, 0x29, 0x5e, 0x32, 0x01, 0x00, 0x00, 0x00,
  0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x03, 0, 0, 0, 0x01, 0x02, 0x03, 0x34, 0xa4, 0x96, 0x4f,
]);

function append(file: StorageFile, data: Uint8Array): void {
  file.append(data, 0, data.length);
}

/** The whole content of a file, read through `read` at positions. */
function readAll(file: StorageFile): Uint8Array {
  const out = new Uint8Array(file.size());
  let pos = 0;
  while (pos < out.length) {
    const n = file.read(out, pos, out.length - pos, pos);
    if (n <= 0) break;
    pos += n;
  }
  return out.subarray(0, pos);
}

function segmentContent(repo: Repo, offset: number): Uint8Array {
  const f = repo.openSegmentReader(offset);
  try {
    return readAll(f);
  } finally {
    f.close();
  }
}

function writeSegment(repo: Repo, offset: number, data: Uint8Array): void {
  const f = repo.createSegment(offset);
  try {
    append(f, data);
    f.sync();
  } finally {
    f.close();
  }
}

/** Registers the suite. `makeRepo` returns a fresh, empty repo for every test. */
export function repoConformance(name: string, makeRepo: () => Repo, caps: RepoCapabilities): void {
  describe(`Repo conformance: ${name}`, () => {
    it('an empty repo lists no segments and uses no space', () => {
      const repo = makeRepo();
      expect(repo.existingOffsets()).toEqual([]);
      expect(repo.sizeOnDisk()).toBe(0);
    });

    it('existingOffsets is sorted numerically whatever the creation order', () => {
      const repo = makeRepo();
      // 100 < 20 < 9 as strings: a lexical sort would show up here.
      for (const o of [100, 9, 0, 20, 1_000_000]) writeSegment(repo, o, bytes('x'));
      expect(repo.existingOffsets()).toEqual([0, 9, 20, 100, 1_000_000]);
    });

    it('createSegment makes a new empty segment that is listed', () => {
      const repo = makeRepo();
      const f = repo.createSegment(7);
      expect(f.size()).toBe(0);
      f.close();
      expect(repo.existingOffsets()).toEqual([7]);
      expect(segmentContent(repo, 7)).toEqual(new Uint8Array(0));
    });

    it('createSegment reuses an existing empty segment', () => {
      const repo = makeRepo();
      repo.createSegment(3).close();
      const f = repo.createSegment(3);
      append(f, bytes('hello'));
      f.close();
      expect(repo.existingOffsets()).toEqual([3]);
      expect(segmentContent(repo, 3)).toEqual(bytes('hello'));
    });

    it('createSegment refuses a non-empty segment with AlreadyExistsError and leaves it alone', () => {
      const repo = makeRepo();
      writeSegment(repo, 3, bytes('data'));
      let err: unknown;
      try {
        repo.createSegment(3).close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AlreadyExistsError);
      expect((err as AlreadyExistsError).code).toBe('ALREADY_EXISTS');
      expect((err as AlreadyExistsError).kind).toBe('AlreadyExists');
      expect(segmentContent(repo, 3)).toEqual(bytes('data'));
    });

    it('opening a missing segment for writing or reading throws NotFoundError', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('x'));
      for (const open of [() => repo.openSegmentWriter(1), () => repo.openSegmentReader(1)]) {
        let err: unknown;
        try {
          open().close();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(NotFoundError);
        expect((err as NotFoundError).kind).toBe('NotFound');
      }
      // Failing opens must not create anything.
      expect(repo.existingOffsets()).toEqual([0]);
    });

    it('appends go to the end of the segment, from every writer handle', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('abc'));
      const w1 = repo.openSegmentWriter(0);
      const w2 = repo.openSegmentWriter(0);
      append(w1, bytes('def'));
      append(w2, bytes('ghi'));
      append(w1, bytes('jk'));
      expect(w1.size()).toBe(11);
      w1.close();
      w2.close();
      expect(segmentContent(repo, 0)).toEqual(bytes('abcdefghijk'));
    });

    it('appends after a truncate land at the new end', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('abcdef'));
      const w = repo.openSegmentWriter(0);
      w.truncate(2);
      append(w, bytes('XY'));
      w.close();
      expect(segmentContent(repo, 0)).toEqual(bytes('abXY'));
    });

    it('reads at positions: into a buffer offset, short at the end, 0 at or past EOF', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('0123456789'));
      const r = repo.openSegmentReader(0);
      try {
        const buf = new Uint8Array(8).fill(0xee);
        expect(r.read(buf, 2, 3, 4)).toBe(3);
        expect(buf).toEqual(Uint8Array.from([0xee, 0xee, 0x34, 0x35, 0x36, 0xee, 0xee, 0xee]));
        const tail = new Uint8Array(8);
        expect(r.read(tail, 0, 8, 7)).toBe(3);
        expect(tail.subarray(0, 3)).toEqual(bytes('789'));
        expect(r.read(tail, 0, 8, 10)).toBe(0);
        expect(r.read(tail, 0, 8, 50)).toBe(0);
        // Reading does not move anything: position 0 still reads from the start.
        expect(r.read(tail, 0, 2, 0)).toBe(2);
        expect(tail.subarray(0, 2)).toEqual(bytes('01'));
      } finally {
        r.close();
      }
    });

    it('a reader sees bytes appended after it was opened', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('ab'));
      const r = repo.openSegmentReader(0);
      const w = repo.openSegmentWriter(0);
      append(w, bytes('cd'));
      w.close();
      expect(r.size()).toBe(4);
      expect(readAll(r)).toEqual(bytes('abcd'));
      r.close();
    });

    it('truncate shrinks, and growing zero-fills', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('abcdef'));
      const w = repo.openSegmentWriter(0);
      w.truncate(3);
      expect(w.size()).toBe(3);
      w.truncate(6);
      expect(w.size()).toBe(6);
      w.truncate(0);
      expect(w.size()).toBe(0);
      append(w, bytes('z'));
      w.truncate(4);
      w.close();
      expect(segmentContent(repo, 0)).toEqual(Uint8Array.from([0x7a, 0, 0, 0]));
    });

    it('truncate then regrow does not resurrect old bytes', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('abcdef'));
      const w = repo.openSegmentWriter(0);
      w.truncate(2);
      w.truncate(6);
      w.close();
      expect(segmentContent(repo, 0)).toEqual(Uint8Array.from([0x61, 0x62, 0, 0, 0, 0]));
    });

    it('removeSegment removes the segment; a missing one throws NotFoundError', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, bytes('a'));
      writeSegment(repo, 5, bytes('b'));
      repo.removeSegment(0);
      expect(repo.existingOffsets()).toEqual([5]);
      expect(() => repo.openSegmentReader(0)).toThrow(NotFoundError);
      expect(() => repo.removeSegment(0)).toThrow(NotFoundError);
      expect(() => repo.removeSegment(42)).toThrow(NotFoundError);
      // After removal the offset can be created again from scratch.
      writeSegment(repo, 0, bytes('new'));
      expect(segmentContent(repo, 0)).toEqual(bytes('new'));
    });

    it('compressSegment keeps the decompressed view of a sealed segment identical', () => {
      const repo = makeRepo();
      writeSegment(repo, 5, SEGMENT_BYTES);
      writeSegment(repo, 6, SEGMENT_BYTES.slice(0, 10));
      repo.compressSegment(5);
      expect(repo.existingOffsets()).toEqual([5, 6]);
      expect(segmentContent(repo, 5)).toEqual(SEGMENT_BYTES);
    });

    it('sizeOnDisk sums the segments (and their index files)', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, new Uint8Array(30));
      writeSegment(repo, 9, new Uint8Array(7));
      let expected = 37;
      if (caps.offsetIndex) {
        repo.createOffsetIndex(0, 4).close(); // 64 bytes
        repo.createOffsetIndex(9, 0).close(); // 0 bytes
        expected += 64;
      }
      expect(repo.sizeOnDisk()).toBe(expected);
      const w = repo.openSegmentWriter(9);
      append(w, new Uint8Array(5));
      w.close();
      expect(repo.sizeOnDisk()).toBe(expected + 5);
    });

    if (caps.offsetIndex) registerIndexTests(makeRepo);
    else registerNoIndexTests(makeRepo);
  });
}

function indexContent(repo: Repo, offset: number): Uint8Array {
  const f = repo.getOffsetIndex(offset);
  try {
    return readAll(f);
  } finally {
    f.close();
  }
}

/** One 16-byte entry `key u64 LE | value u64 LE` (SPEC §3.2). */
function entry(key: number, value: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(key), true);
  v.setBigUint64(8, BigInt(value), true);
  return b;
}

function registerIndexTests(makeRepo: () => Repo): void {
  describe('offset index files', () => {
    it('createOffsetIndex makes a zero-filled file of capacity × 16 bytes', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      const f = repo.createOffsetIndex(0, 5);
      expect(f.size()).toBe(80);
      f.close();
      expect(indexContent(repo, 0)).toEqual(new Uint8Array(80));
    });

    it('capacity 0 gives a zero-length file', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      repo.createOffsetIndex(0, 0).close();
      expect(indexContent(repo, 0).length).toBe(0);
    });

    it('entries written at positions are visible to later opens', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      const f = repo.createOffsetIndex(0, 3);
      f.writeAt(entry(1, 292), 0, 16, 0);
      f.writeAt(entry(42, 0x1234), 0, 16, 16);
      f.close();
      const expected = new Uint8Array(48);
      // SPEC A.3 bytes.
      expected.set([0x01, 0, 0, 0, 0, 0, 0, 0, 0x24, 0x01, 0, 0, 0, 0, 0, 0], 0);
      expected.set([0x2a, 0, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0], 16);
      expect(indexContent(repo, 0)).toEqual(expected);
    });

    it('createOffsetIndex on an existing file resizes it to the new capacity and keeps the entries (Q17)', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      const f = repo.createOffsetIndex(0, 2);
      f.writeAt(entry(1, 100), 0, 16, 0);
      f.writeAt(entry(2, 200), 0, 16, 16);
      f.close();

      const grown = repo.createOffsetIndex(0, 4);
      expect(grown.size()).toBe(64);
      grown.close();
      const g = indexContent(repo, 0);
      expect(g.subarray(0, 16)).toEqual(entry(1, 100));
      expect(g.subarray(16, 32)).toEqual(entry(2, 200));
      expect(g.subarray(32)).toEqual(new Uint8Array(32));

      const shrunk = repo.createOffsetIndex(0, 1);
      expect(shrunk.size()).toBe(16);
      shrunk.close();
      expect(indexContent(repo, 0)).toEqual(entry(1, 100));
    });

    it('getOffsetIndex opens without resizing; writable handles write through', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      repo.createOffsetIndex(0, 2).close();
      const r = repo.getOffsetIndex(0);
      expect(r.size()).toBe(32);
      r.close();
      const w = repo.getOffsetIndex(0, true);
      w.writeAt(entry(7, 10), 0, 16, 16);
      w.truncate(16); // the resetTo/trim path zero-fills, but the handle must allow writes and truncation
      expect(w.size()).toBe(16);
      w.truncate(32);
      w.close();
      expect(indexContent(repo, 0)).toEqual(new Uint8Array(32));
    });

    it('getOffsetIndex of a missing index throws NotFoundError', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      expect(() => repo.getOffsetIndex(0)).toThrow(NotFoundError);
      expect(() => repo.getOffsetIndex(99)).toThrow(NotFoundError);
    });

    it('removeOffsetIndex removes only the index, and ignores a missing one', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      repo.createOffsetIndex(0, 2).close();
      repo.removeOffsetIndex(0);
      expect(() => repo.getOffsetIndex(0)).toThrow(NotFoundError);
      expect(() => repo.removeOffsetIndex(0)).not.toThrow();
      expect(repo.existingOffsets()).toEqual([0]);
      expect(segmentContent(repo, 0)).toEqual(SEGMENT_BYTES);
      expect(repo.sizeOnDisk()).toBe(SEGMENT_BYTES.length);
    });

    it('removeSegment removes the index too', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      writeSegment(repo, 1, SEGMENT_BYTES);
      repo.createOffsetIndex(0, 2).close();
      repo.createOffsetIndex(1, 2).close();
      repo.removeSegment(0);
      expect(() => repo.getOffsetIndex(0)).toThrow(NotFoundError);
      expect(indexContent(repo, 1).length).toBe(32);
      expect(repo.sizeOnDisk()).toBe(SEGMENT_BYTES.length + 32);
      // A re-created segment starts without the old index.
      writeSegment(repo, 0, SEGMENT_BYTES);
      expect(() => repo.getOffsetIndex(0)).toThrow(NotFoundError);
    });

    it('removeSegment of a segment without an index works', () => {
      const repo = makeRepo();
      writeSegment(repo, 0, SEGMENT_BYTES);
      repo.removeSegment(0);
      expect(repo.existingOffsets()).toEqual([]);
    });
  });
}

function registerNoIndexTests(makeRepo: () => Repo): void {
  it('offset indexes are unsupported: create and get throw, remove is harmless', () => {
    const repo = makeRepo();
    writeSegment(repo, 0, SEGMENT_BYTES);
    expect(() => repo.createOffsetIndex(0, 4)).toThrow();
    expect(() => repo.getOffsetIndex(0)).toThrow();
    expect(() => repo.getOffsetIndex(0, true)).toThrow();
    expect(() => repo.removeOffsetIndex(0)).not.toThrow();
    expect(repo.sizeOnDisk()).toBe(SEGMENT_BYTES.length);
    repo.removeSegment(0);
    expect(repo.existingOffsets()).toEqual([]);
  });
}
