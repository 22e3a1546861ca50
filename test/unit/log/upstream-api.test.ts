/**
 * The API of upstream 2.8 (issue 12) next to 1.3.0's: `commit(transactions)` (#4404), range folds
 * (#3129), compression statistics (#4708), `SizeOnDisk`, `onNewSegment` (#3405) and the 2.8 options
 * (`preallocateSegments`, `writeBufferSize`, the `offsetIndexRequireSegmentFsync` defaults).
 * Expected bytes are built from the codec (SPEC §2.3), not read back from the writer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BufReader,
  Commitlog,
  DEFAULT_OPTIONS,
  type Decoder,
  FsRepo,
  GenericLog,
  InvalidInputError,
  MemoryRepo,
  UPSTREAM_2_8_DEFAULTS,
  commits,
  foldTransactionRange,
  foldTransactionsRange,
  segmentFileName,
} from '../../../src/index.js';
import { encodeCommit, encodeSegmentHeader } from '../../../src/api/codec.js';
import { tempDirs } from '../maintenance/log-fixtures.js';

const tmp = tempDirs();
const rec = (k: number, len = 32) => new Uint8Array(len).fill(k & 0xff);
const txs = (from: number, count: number, len = 32) =>
  Array.from({ length: count }, (_, i) => ({ offset: from + i, txdata: rec(from + i, len) }));

/** A decoder that records the offsets it is handed (32-byte records). */
function recording(len = 32): { seen: number[]; decoder: Decoder<void> } {
  const seen: number[] = [];
  return {
    seen,
    decoder: {
      decodeRecord(_v: number, off: number, r: BufReader) {
        r.getSlice(len);
        seen.push(off);
      },
      skipRecord(_v: number, _off: number, r: BufReader) {
        r.getSlice(len);
      },
    },
  };
}

function segmentBytes(repo: MemoryRepo, offset: number): Uint8Array {
  const b = repo.segments.get(offset)!;
  return b.data.slice(0, b.length);
}

describe('commit(transactions)', () => {
  it('writes all of them as one commit, byte for byte', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo);
    const c = log.commit(txs(0, 3));
    const expected = encodeCommit({ minTxOffset: 0, epoch: 0, n: 3, records: new Uint8Array([...rec(0), ...rec(1), ...rec(2)]) });
    expect(c).toEqual({ txRange: { start: 0, end: 3 }, checksum: expected.checksum });
    expect(segmentBytes(repo, 0)).toEqual(new Uint8Array([...encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 }), ...expected.bytes]));
    expect(log.commit(txs(3, 1))?.txRange).toEqual({ start: 3, end: 4 });
    expect([...log.commits()].map((x) => [x.minTxOffset, x.n])).toEqual([[0, 3], [3, 1]]);
  });

  it('nothing to write is null and writes nothing', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo);
    expect(log.commit([])).toBeNull();
    expect(segmentBytes(repo, 0).length).toBe(10);
  });

  it('offsets that do not continue the log are refused and none is taken', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo);
    log.append(rec(0));
    for (const bad of [txs(0, 1), txs(2, 1), [...txs(1, 2), { offset: 9, txdata: rec(9) }], [{ offset: -1, txdata: rec(0) }]]) {
      expect(() => log.commit(bad)).toThrow(InvalidInputError);
      expect(log.headWriter.pending.n).toBe(1);
      expect(log.headWriter.pending.recordsLen).toBe(32);
    }
    expect(segmentBytes(repo, 0).length).toBe(10);
    // The appended record and the transactions after it form one commit.
    expect(log.commit(txs(1, 2))?.txRange).toEqual({ start: 0, end: 3 });
    expect([...log.commits()].map((x) => x.n)).toEqual([3]);
  });

  it('at most 65535 per commit; maxRecordsInCommit governs append only', () => {
    const log = GenericLog.open(new MemoryRepo(), { maxRecordsInCommit: 2 });
    expect(log.commit(txs(0, 5, 1))?.txRange).toEqual({ start: 0, end: 5 });
    const many = Array.from({ length: 65536 }, (_, i) => ({ offset: 5 + i, txdata: new Uint8Array(0) }));
    expect(() => log.commit(many)).toThrow(/at most 65535/);
    expect(log.headWriter.pending.n).toBe(0);
    expect(log.commit(many.slice(0, 65535))?.txRange).toEqual({ start: 5, end: 65540 });
  });

  it('an encoder that throws takes nothing back into the commit', () => {
    let calls = 0;
    const enc = {
      encodeRecord(r: Uint8Array, out: { write(b: Uint8Array): void }) {
        if (++calls === 2) throw new Error('boom');
        out.write(r);
      },
    };
    const log = GenericLog.open(new MemoryRepo(), {}, enc as never);
    expect(() => log.commit(txs(0, 3))).toThrow('boom');
    expect(log.headWriter.pending.n).toBe(0);
    expect(log.headWriter.pending.recordsLen).toBe(0);
  });

  it('rotates like 2.8.3: after the commit that brings the head to maxSegmentSize', () => {
    // 10-byte header + 58-byte frames: 1.3.0 rotates before a commit that would pass 200 bytes (3 per
    // segment); 2.8.3 writes it and rotates after (4 per segment, 242 bytes).
    const upstream = new MemoryRepo();
    const log = GenericLog.open(upstream, { maxSegmentSize: 200 });
    for (let k = 0; k < 10; k++) log.commit(txs(k, 1));
    expect(upstream.existingOffsets()).toEqual([0, 4, 8]);
    expect([0, 4, 8].map((o) => segmentBytes(upstream, o).length)).toEqual([242, 242, 126]);

    const classic = new MemoryRepo();
    const old = GenericLog.open(classic, { maxSegmentSize: 200 });
    for (let k = 0; k < 10; k++) {
      old.append(rec(k));
      old.commit();
    }
    expect(classic.existingOffsets()).toEqual([0, 3, 6, 9]);
    // Same commits, same bytes per commit: only the segment boundaries differ.
    const frames = (r: MemoryRepo) => [...commits(r)].map((c) => encodeCommit(c).bytes);
    expect(frames(upstream)).toEqual(frames(classic));
  });

  it('on Commitlog over real files, with the reopened log continuing', () => {
    const dir = tmp();
    let log = Commitlog.open(dir);
    expect(log.commit(txs(0, 2))?.txRange).toEqual({ start: 0, end: 2 });
    log.close();
    log = Commitlog.open(dir);
    expect(log.maxCommittedOffset()).toBe(1);
    expect(() => log.commit(txs(0, 1))).toThrow(InvalidInputError);
    log.commit(txs(2, 1));
    log.close();
    expect([...commits(dir)].map((c) => [c.minTxOffset, c.n])).toEqual([[0, 2], [2, 1]]);
  });
});

describe('foldTransactionsRange', () => {
  it('folds exactly the offsets in range, on the log and as free functions (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 40 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        fc.boolean(),
        (sizes, start, end, endInclusive) => {
          const repo = new MemoryRepo();
          const log = GenericLog.open(repo, { maxSegmentSize: 300 });
          let next = 0;
          for (const n of sizes) {
            log.commit(txs(next, n));
            next += n;
          }
          const want: number[] = [];
          for (let o = 0; o < next; o++) {
            if (o >= start && (end === undefined || (endInclusive ? o <= end : o < end))) want.push(o);
          }
          const range = { start, end, endInclusive };
          const a = recording();
          log.foldTransactionsRange(range, a.decoder);
          const b = recording();
          foldTransactionsRange(repo, range, b.decoder);
          expect(a.seen).toEqual(want);
          expect(b.seen).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an empty range reads nothing, not even a damaged log', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, { maxSegmentSize: 130 }); // 3 commits per segment
    for (let k = 0; k < 9; k++) log.commit(txs(k, 1));
    repo.segments.get(0)!.data[10 + 30]! ^= 0xff; // commit 0 damaged
    const r = recording();
    expect(() => log.foldTransactionsRange({ start: 3, end: 3 }, r.decoder)).not.toThrow();
    expect(() => foldTransactionRange(repo, { start: 4, end: 2 }, r.decoder)).not.toThrow();
    expect(() => log.foldTransactionsRange({ start: 0, end: 2 }, r.decoder)).toThrow();
    expect(r.seen).toEqual([]);
  });

  it('stops at the end bound without reading the commits after it', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, { maxSegmentSize: 130 }); // 3 commits per segment
    for (let k = 0; k < 9; k++) log.commit(txs(k, 1));
    expect(repo.existingOffsets()).toEqual([0, 3, 6, 9]);
    repo.segments.get(3)!.data[10 + 58 + 30]! ^= 0xff; // commit 4 damaged, commits after it
    const r = recording();
    log.foldTransactionsRange({ start: 1, end: 4 }, r.decoder);
    expect(r.seen).toEqual([1, 2, 3]);
    expect(() => log.foldTransactionsRange({ start: 1, end: 5 }, recording().decoder)).toThrow();
  });

  it('refuses offsets that are not u64 safe integers', () => {
    const log = GenericLog.open(new MemoryRepo());
    const r = recording();
    for (const bad of [{ start: -1 }, { start: 1.5 }, { end: Number.MAX_SAFE_INTEGER + 1 }]) {
      expect(() => log.foldTransactionsRange(bad, r.decoder)).toThrow(InvalidInputError);
    }
  });
});

describe('compression statistics and size on disk', () => {
  it('compressSegments reports what it read and wrote; a second run does nothing', () => {
    const dir = tmp();
    const log = Commitlog.open(dir, { maxSegmentSize: 4096 });
    for (let k = 0; k < 200; k++) log.commit(txs(k, 1, 100));
    const sealed = log.existingSegmentOffsets().slice(0, -1);
    expect(sealed.length).toBeGreaterThan(2);
    const before = sealed.reduce((s, o) => s + fs.statSync(path.join(dir, segmentFileName(o))).size, 0);
    const stats = log.compressSegments(sealed);
    const after = sealed.reduce((s, o) => s + fs.statSync(path.join(dir, segmentFileName(o))).size, 0);
    expect(stats).toEqual({ bytesRead: before, bytesWritten: after, segments: sealed.length });
    expect(after).toBeLessThan(before);
    expect(log.compressSegments(sealed)).toEqual({ bytesRead: 0, bytesWritten: 0, segments: 0 });
    expect(() => log.compressSegments([log.existingSegmentOffsets().at(-1)!])).toThrow(/being written/);
    log.close();
  });

  it('sizeOnDisk({ detailed: true }) adds the blocks the files really hold', () => {
    const dir = tmp();
    const log = Commitlog.open(dir); // a 1 GiB segment cap: 4 MiB index files, nearly all holes
    for (let k = 0; k < 300; k++) log.commit(txs(k, 1, 500));
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.stdb.log') || f.endsWith('.stdb.ofs'));
    const stats = files.map((f) => fs.statSync(path.join(dir, f)));
    const detailed = log.sizeOnDisk({ detailed: true });
    expect(detailed).toEqual({ totalBytes: log.sizeOnDisk(), totalBlocks: stats.reduce((s, x) => s + x.blocks, 0) });
    expect(detailed.totalBytes).toBe(stats.reduce((s, x) => s + x.size, 0));
    // Index files are sparse: fewer blocks than their apparent size needs.
    expect(detailed.totalBlocks * 512).toBeLessThan(detailed.totalBytes);
    log.close();
    const mem = GenericLog.open(new MemoryRepo());
    mem.commit(txs(0, 1));
    expect(mem.sizeOnDisk({ detailed: true })).toEqual({ totalBytes: 68, totalBlocks: 8 });
  });
});

describe('onNewSegment', () => {
  it('is called for the first segment and each rotation, not for a resumed one', () => {
    const dir = tmp();
    const seen: number[] = [];
    let log = Commitlog.open(dir, { maxSegmentSize: 200, onNewSegment: (o) => seen.push(o) });
    expect(seen).toEqual([0]);
    for (let k = 0; k < 10; k++) log.commit(txs(k, 1));
    expect(seen).toEqual([0, 4, 8]);
    expect(log.existingSegmentOffsets()).toEqual(seen);
    log.close();
    log = Commitlog.open(dir, { maxSegmentSize: 200, onNewSegment: (o) => seen.push(o) });
    expect(seen).toEqual([0, 4, 8]);
    log.close();
  });

  it('a callback that throws does not disturb the log', () => {
    const repo = new MemoryRepo({
      onNewSegment: () => {
        throw new Error('observer failed');
      },
    });
    const log = GenericLog.open(repo, { maxSegmentSize: 200 });
    for (let k = 0; k < 10; k++) log.commit(txs(k, 1));
    expect([...log.commits()].length).toBe(10);
    expect(repo.existingOffsets()).toEqual([0, 4, 8]);
  });
});

describe('2.8 options', () => {
  it('defaults: 1.3.0 values, plus the two new options; UPSTREAM_2_8_DEFAULTS differs in index fsync only', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({ offsetIndexRequireSegmentFsync: false, preallocateSegments: false, writeBufferSize: 128 * 1024 });
    const diff = Object.keys(DEFAULT_OPTIONS).filter(
      (k) => DEFAULT_OPTIONS[k as keyof typeof DEFAULT_OPTIONS] !== UPSTREAM_2_8_DEFAULTS[k as keyof typeof DEFAULT_OPTIONS],
    );
    expect(diff).toEqual(['offsetIndexRequireSegmentFsync']);
  });

  it('writeBufferSize and preallocateSegments are validated', () => {
    for (const bad of [0, -1, 1.5, 2 ** 40, '4096']) {
      expect(() => GenericLog.open(new MemoryRepo(), { writeBufferSize: bad as number })).toThrow(/writeBufferSize/);
    }
    expect(() => GenericLog.open(new MemoryRepo(), { preallocateSegments: 1 as unknown as boolean })).toThrow(/preallocateSegments/);
  });

  it('a commit larger than writeBufferSize is written whole', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, { writeBufferSize: 16 });
    log.commit(txs(0, 3, 5000));
    expect([...commits(repo)].map((c) => c.records.length)).toEqual([15000]);
  });

  it('preallocateSegments reaches FsRepo from Commitlog.open; the closed log is byte-identical', () => {
    const plain = tmp();
    const pre = tmp();
    const a = Commitlog.open(plain, { maxSegmentSize: 1 << 20 });
    const b = Commitlog.open(pre, { maxSegmentSize: 1 << 20, preallocateSegments: true });
    for (let k = 0; k < 50; k++) {
      a.commit(txs(k, 1, 200));
      b.commit(txs(k, 1, 200));
    }
    const seg = segmentFileName(0);
    expect(fs.statSync(path.join(plain, seg)).size).toBe(10 + 50 * 226);
    expect(fs.statSync(path.join(pre, seg)).size).toBeGreaterThanOrEqual(1 << 20); // the zero tail
    a.close();
    b.close();
    expect(fs.readFileSync(path.join(pre, seg))).toEqual(fs.readFileSync(path.join(plain, seg)));
    // An explicit preallocateBytes wins over the derived size.
    const c = Commitlog.open(tmp(), { maxSegmentSize: 1 << 20, preallocateSegments: true, preallocateBytes: 8192 });
    c.commit(txs(0, 1, 200));
    expect(fs.statSync(path.join(c.dir, seg)).size).toBeLessThan(1 << 20);
    c.close();
    expect(new FsRepo(pre).preallocateBytes).toBe(0);
  });

  it('offsetIndexRequireSegmentFsync: with 2.8.3 defaults no index entry before a sync', () => {
    const entriesOf = (dir: string) => fs.readFileSync(path.join(dir, '00000000000000000000.stdb.ofs')).some((b) => b !== 0);
    const eager = tmp();
    const lazy = tmp();
    const a = Commitlog.open(eager);
    const b = Commitlog.open(lazy, { ...UPSTREAM_2_8_DEFAULTS });
    for (let k = 0; k < 40; k++) {
      a.commit(txs(k, 1, 500));
      b.commit(txs(k, 1, 500));
    }
    expect(entriesOf(eager)).toBe(true);
    expect(entriesOf(lazy)).toBe(false);
    b.sync();
    expect(entriesOf(lazy)).toBe(true);
    a.close();
    b.close();
  });
});
