/**
 * Offset index file scenarios ported from `src/index/indexfile.rs` (SPEC §13.4 I1–I10) plus the
 * layout rules of §3.1–§3.6. Index files are created with `FsRepo.createOffsetIndex` in a temp dir.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsRepo, IndexError, MemoryRepo, NotFoundError, type StorageFile } from '../../../src/index.js';
import { IndexFile } from '../../../src/api/ops.js';

let dir: string;
let repo: FsRepo;
/** Every index opened by a test, closed afterwards so no descriptor outlives its temp dir. */
let opened: IndexFile[] = [];

function openIndex(file: StorageFile, writable: boolean): IndexFile {
  const index = IndexFile.open(file, writable);
  opened.push(index);
  return index;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  repo = new FsRepo(dir);
});

afterEach(() => {
  for (const index of opened) index.close();
  opened = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `fill(cap, k)`: an index of capacity `cap` holding `(2i, 200i)` for i = 1..k−1. */
function fill(cap: number, k: number): IndexFile {
  const index = openIndex(repo.createOffsetIndex(0, cap), true);
  for (let i = 1; i < k; i++) index.append(2 * i, 200 * i);
  return index;
}

function indexErrorCode(fn: () => unknown): string | null {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IndexError);
    return (e as IndexError).code;
  }
  return null;
}

/** The I2 expectations for keys 2, 4, 6, 8. */
function expectI2Lookups(index: IndexFile): void {
  expect(index.keyLookup(2)).toEqual([2, 200]);
  expect(index.keyLookup(5)).toEqual([4, 400]);
  expect(index.keyLookup(100)).toEqual([8, 800]);
  expect(indexErrorCode(() => index.keyLookup(1))).toBe('INDEX_KEY_NOT_FOUND');
}

describe('§13.4 indexfile', () => {
  it('I1 empty lookup → KeyNotFound', () => {
    const index = fill(100, 0);
    expect(indexErrorCode(() => index.keyLookup(0))).toBe('INDEX_KEY_NOT_FOUND');
    expect(indexErrorCode(() => index.keyLookup(10))).toBe('INDEX_KEY_NOT_FOUND');
  });

  it('I2 key_lookup (floor search)', () => {
    const index = fill(10, 5);
    expect(index.numEntries).toBe(4);
    expectI2Lookups(index);
  });

  it('I3 key_lookup_reopen (writable, cap 10)', () => {
    fill(10, 5).close();
    const index = openIndex(repo.createOffsetIndex(0, 10), true);
    expect(index.numEntries).toBe(4);
    expectI2Lookups(index);
  });

  it('I4 key_lookup_readonly', () => {
    fill(10, 5).close();
    const index = openIndex(repo.getOffsetIndex(0, false), false);
    expect(index.numEntries).toBe(4);
    expectI2Lookups(index);
  });

  it('I5 append: non-increasing keys → InvalidInput, full → OutOfRange', () => {
    const index = fill(10, 10);
    expect(index.numEntries).toBe(9);
    expect(indexErrorCode(() => index.append(17, 0))).toBe('INDEX_INVALID_INPUT');
    expect(indexErrorCode(() => index.append(18, 0))).toBe('INDEX_INVALID_INPUT');
    index.append(22, 0);
    expect(index.numEntries).toBe(10);
    expect(indexErrorCode(() => index.append(224, 0))).toBe('INDEX_OUT_OF_RANGE');
    expect(index.numEntries).toBe(10);
  });

  it('I6 truncate', () => {
    const index = fill(10, 9);
    expect(index.numEntries).toBe(8);
    index.truncate(16);
    expect(index.numEntries).toBe(7);
    index.truncate(9);
    expect(index.numEntries).toBe(4);
    expect([...index.entries()].map(([k]) => k)).toEqual([2, 4, 6, 8]);
    index.truncate(9);
    expect(index.numEntries).toBe(4);
    index.truncate(9);
    expect(index.numEntries).toBe(4);
    // Truncation zero-fills the file: a fresh reader sees the same 4 entries.
    const ro = openIndex(repo.getOffsetIndex(0, false), false);
    expect(ro.numEntries).toBe(4);
  });

  it('I7 close_open', () => {
    const index = openIndex(repo.createOffsetIndex(0, 100), true);
    for (let k = 2; k <= 18; k += 2) index.append(k, k * 100);
    index.close();
    const reopened = openIndex(repo.createOffsetIndex(0, 100), true);
    expect(reopened.numEntries).toBe(9);
    expect(reopened.keyLookup(6)).toEqual([6, 600]);
  });

  it('I8 iterator (also via a read-only view)', () => {
    const index = fill(100, 100);
    const expected = Array.from({ length: 99 }, (_, j) => [2 * (j + 1), 200 * (j + 1)]);
    expect([...index.entries()]).toEqual(expected);
    const ro = openIndex(repo.getOffsetIndex(0, false), false);
    expect([...ro.entries()]).toEqual(expected);
  });

  it('I9 iterator empty', () => {
    expect([...fill(100, 0).entries()]).toEqual([]);
  });

  it('I10 truncate edge cases (ADOPT-UPSTREAM #4501)', () => {
    const empty = fill(10, 0);
    empty.truncate(1);
    expect(empty.numEntries).toBe(0);

    fs.rmSync(repo.indexPath(0));
    const index = fill(10, 5);
    index.truncate(1);
    expect(index.numEntries).toBe(0);
    index.truncate(0);
    expect(index.numEntries).toBe(0);
    const ro = openIndex(repo.getOffsetIndex(0, false), false);
    expect(ro.numEntries).toBe(0);
  });
});

describe('§3 index file layout and edge cases', () => {
  it('file length is cap × 16, zero-filled (§3.1)', () => {
    fill(10, 3).close();
    const bytes = fs.readFileSync(repo.indexPath(0));
    expect(bytes.length).toBe(160);
    expect(bytes.subarray(32).every((b) => b === 0)).toBe(true);
  });

  it('createOffsetIndex on an existing file resizes it to the new capacity (QUIRK Q17)', () => {
    fill(10, 5).close();
    const grown = openIndex(repo.createOffsetIndex(0, 20), true);
    expect(fs.statSync(repo.indexPath(0)).size).toBe(320);
    expect(grown.numEntries).toBe(4);
    grown.close();
    const shrunk = openIndex(repo.createOffsetIndex(0, 2), true);
    expect(fs.statSync(repo.indexPath(0)).size).toBe(32);
    expect(shrunk.numEntries).toBe(2);
  });

  it('capacity 0: append and lookup fail with OutOfRange, not KeyNotFound (§3.1)', () => {
    const index = fill(0, 0);
    expect(fs.statSync(repo.indexPath(0)).size).toBe(0);
    expect(index.numEntries).toBe(0);
    expect(indexErrorCode(() => index.append(1, 10))).toBe('INDEX_OUT_OF_RANGE');
    expect(indexErrorCode(() => index.keyLookup(5))).toBe('INDEX_OUT_OF_RANGE');
    // Truncation of a zero-length index still propagates OutOfRange (§3.6).
    expect(indexErrorCode(() => index.truncate(5))).toBe('INDEX_OUT_OF_RANGE');
  });

  it('key 0 can never be appended (§3.2)', () => {
    const index = fill(4, 0);
    expect(indexErrorCode(() => index.append(0, 10))).toBe('INDEX_INVALID_INPUT');
  });

  it('numEntries stops at the first zero key, whatever its value (§3.2)', () => {
    const mem = new MemoryRepo({ offsetIndex: true });
    const buf = mem.createOffsetIndex(0, 4);
    const raw = new Uint8Array(64);
    const dv = new DataView(raw.buffer);
    dv.setBigUint64(0, 3n, true);
    dv.setBigUint64(8, 30n, true);
    dv.setBigUint64(24, 99n, true); // entry 1: key 0, non-zero value
    dv.setBigUint64(32, 7n, true); // entry 2: unreachable after the zero key
    dv.setBigUint64(40, 70n, true);
    buf.writeAt(raw, 0, raw.length, 0);
    const index = openIndex(mem.getOffsetIndex(0), false);
    expect(index.numEntries).toBe(1);
    expect([...index.entries()]).toEqual([[3, 30]]);
    expect(index.keyLookup(100)).toEqual([3, 30]);
  });

  it('a trailing partial entry is ignored (§3.2)', () => {
    const mem = new MemoryRepo({ offsetIndex: true });
    const raw = new Uint8Array(16 * 2 + 9);
    const dv = new DataView(raw.buffer);
    dv.setBigUint64(0, 1n, true);
    dv.setBigUint64(8, 10n, true);
    dv.setBigUint64(16, 5n, true);
    dv.setBigUint64(24, 50n, true);
    raw.fill(0xff, 32);
    const file = mem.createOffsetIndex(0, 0);
    file.writeAt(raw, 0, raw.length, 0);
    const index = openIndex(mem.getOffsetIndex(0), false);
    expect(index.numEntries).toBe(2);
    expect([...index.entries()]).toEqual([
      [1, 10],
      [5, 50],
    ]);
  });

  it('getOffsetIndex of a missing file throws (NotFound → no index, §3.1)', () => {
    expect(() => repo.getOffsetIndex(7)).toThrow(NotFoundError);
  });

  // Issue 16 §5: truncation zero-filled the whole 4 MiB capacity, allocating every block.
  it('truncate keeps a sparse index sparse and leaves every byte zero after the kept entries', () => {
    const cap = (4 * 1024 * 1024) / 16;
    const index = fill(cap, 300); // 299 entries: 4784 bytes written
    const p = path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.stdb.ofs'))!);
    // Stray bytes far past the entries (after a zero key, so no reader counts them) must be zeroed too.
    const fd = fs.openSync(p, 'r+');
    fs.writeSync(fd, Buffer.from([7, 7, 7]), 0, 3, 3 * 1024 * 1024 + 5);
    fs.closeSync(fd);
    const before = fs.statSync(p).blocks;
    index.truncate(100);
    expect(index.numEntries).toBe(49);
    const after = fs.statSync(p).blocks;
    // The file system may round to its block size; it must not come near the 8192 blocks of 4 MiB.
    expect(after).toBeLessThanOrEqual(before);
    expect(after * 512).toBeLessThanOrEqual(64 * 1024);
    const bytes = fs.readFileSync(p);
    expect(bytes.length).toBe(4 * 1024 * 1024);
    expect(bytes.subarray(49 * 16).every((b) => b === 0)).toBe(true);
    const ro = openIndex(repo.getOffsetIndex(0, false), false);
    expect([...ro.entries()].map(([k]) => k)).toEqual(Array.from({ length: 49 }, (_, i) => 2 * (i + 1)));
  });
});
