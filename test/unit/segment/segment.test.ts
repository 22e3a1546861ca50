/**
 * Segment-level scenarios ported from `src/segment.rs` (SPEC §13.3 S2–S8; S1 lives in
 * test/unit/codec/segment-header.test.ts). Writers come from `createSegmentWriter` on a MemoryRepo.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  FsRepo,
  IndexError,
  MemoryRepo,
  resolveOptions,
  transactions,
  type Repo,
} from '../../../src/index.js';
import { IndexFile, OffsetIndexWriter, extractMetadata } from '../../../src/api/ops.js';
import { SEGMENT_HEADER_LEN, ensureCompatible } from '../../../src/api/codec.js';
import { CommitReader } from '../../../src/segment/commit-reader.js';
import { readSegmentHeader } from '../../../src/segment/metadata.js';
import { createSegmentWriter } from '../../../src/segment/resume.js';
import type { SegmentWriter } from '../../../src/segment/writer.js';

const filled = (len: number, byte: number) => new Uint8Array(len).fill(byte);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One commit per inner array of records. */
function writeCommits(w: SegmentWriter, commits: Uint8Array[][]): void {
  for (const records of commits) {
    for (const r of records) expect(w.append(r, undefined)).toBe(true);
    expect(w.commitPending()).not.toBeNull();
  }
}

/** The segment reader of the reference: header checked against max version 1, then commits. */
function openReader(repo: Repo, offset: number): { header: ReturnType<typeof readSegmentHeader>['header']; reader: CommitReader } {
  const file = repo.openSegmentReader(offset);
  const { header } = readSegmentHeader(file);
  ensureCompatible(header, 1);
  return { header, reader: new CommitReader(file, SEGMENT_HEADER_LEN, header.logFormatVersion) };
}

const s = (b: number) => filled(32, b);

describe('S2 write_read_roundtrip', () => {
  it('three records in one commit read back as one commit', () => {
    const repo = new MemoryRepo();
    const w = createSegmentWriter(repo, resolveOptions(), 0, 0);
    writeCommits(w, [[s(0), s(1), s(2)]]);
    const { header, reader } = openReader(repo, 0);
    expect(header).toEqual({ logFormatVersion: 1, checksumAlgorithm: 0 });
    const c = reader.next()!;
    expect(c.minTxOffset).toBe(0);
    expect(c.n).toBe(3);
    expect(c.records).toEqual(concat(s(0), s(1), s(2)));
    expect(reader.next()).toBeNull();
  });
});

describe('S3 metadata', () => {
  it('extractMetadata without index', () => {
    const repo = new MemoryRepo();
    const w = createSegmentWriter(repo, resolveOptions(), 0, 0);
    writeCommits(w, [[s(0), s(0)], [s(1)], [s(2), s(2)]]);
    const meta = extractMetadata(0, repo.openSegmentReader(0), null);
    expect(meta).toEqual({
      header: { logFormatVersion: 1, checksumAlgorithm: 0 },
      txRange: { start: 0, end: 5 },
      sizeInBytes: 10 + 5 * 32 + 3 * 26,
      maxEpoch: 0,
      maxCommitOffset: 3,
    });
    expect(meta.sizeInBytes).toBe(248);
  });
});

function s4Repo(): MemoryRepo {
  const repo = new MemoryRepo();
  const w = createSegmentWriter(repo, resolveOptions(), 0, 0);
  writeCommits(w, [[s(1), s(2)], [s(3)], [s(4), s(5)]]);
  return repo;
}

describe('S4 commits', () => {
  // SPEC §13.3 lists the third commit as `{4, n2}`; the reference test computes min offsets by summing
  // record counts (0, 2, 3), which §5.5, S3 (maxCommitOffset 3) and S5 (4s at offset 3) agree with.
  it('reader yields the three commits with concatenated records', () => {
    const { reader } = openReader(s4Repo(), 0);
    const got = [];
    for (let c = reader.next(); c !== null; c = reader.next()) {
      got.push({ minTxOffset: c.minTxOffset, epoch: c.epoch, n: c.n, records: c.records });
    }
    expect(got).toEqual([
      { minTxOffset: 0, epoch: 0, n: 2, records: concat(s(1), s(2)) },
      { minTxOffset: 2, epoch: 0, n: 1, records: s(3) },
      { minTxOffset: 3, epoch: 0, n: 2, records: concat(s(4), s(5)) },
    ]);
  });
});

describe('S5 transactions', () => {
  it('offsets 0..4 with payloads 1s..5s', () => {
    const txs = [...transactions(s4Repo(), new ArrayDecoder(32))];
    expect(txs).toEqual([0, 1, 2, 3, 4].map((i) => ({ offset: i, txdata: s(i + 1) })));
  });
});

describe('S6 max_records_in_commit', () => {
  const record = filled(16, 0xab);

  function check(m: number): void {
    const repo = new MemoryRepo();
    const w = createSegmentWriter(repo, resolveOptions({ maxRecordsInCommit: m }), 0, 0);
    for (let i = 0; i < m; i++) {
      if (!w.append(record, undefined)) throw new Error(`append ${i + 1} of ${m} was refused`);
    }
    expect(w.append(record, undefined)).toBe(false);
    expect(w.pending.n).toBe(m);
  }

  for (const m of [1, 2, 65535]) it(`fixed m = ${m}`, () => check(m));

  it('property: m ∈ [1, 65535]', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 65535 }), check), { numRuns: 256 });
  });
});

describe('S7 next_tx_offset', () => {
  it('tracks appends and commits', () => {
    const w = createSegmentWriter(new MemoryRepo(), resolveOptions(), 0, 0);
    expect(w.nextTxOffset()).toBe(0);
    w.append(s(0), undefined);
    expect(w.nextTxOffset()).toBe(0);
    w.commitPending();
    expect(w.nextTxOffset()).toBe(1);
    expect(w.commitPending()).toBeNull(); // empty commit
    expect(w.nextTxOffset()).toBe(1);
    w.append(s(0), undefined);
    w.append(s(0), undefined);
    w.commitPending();
    expect(w.nextTxOffset()).toBe(3);
  });
});

describe('S8 offset_index_writer_truncates_to_offset', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  const repos: [string, () => Repo][] = [
    ['MemoryRepo({ offsetIndex: true })', () => new MemoryRepo({ offsetIndex: true })],
    [
      'FsRepo',
      () => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
        dirs.push(d);
        return new FsRepo(d);
      },
    ],
  ];

  for (const [name, makeRepo] of repos) {
    it(name, () => {
      const repo = makeRepo();
      const index = IndexFile.open(repo.createOffsetIndex(0, 100), true);
      const writer = new OffsetIndexWriter(index, 127, false);
      for (let i = 1; i <= 10; i++) writer.onCommitWritten(i, i * 128, 128);
      for (let i = 1; i <= 10; i++) expect(index.keyLookup(i)).toEqual([i, 128 * i]);

      for (let t = 10; t >= 2; t--) {
        writer.ftruncate(t);
        expect(index.keyLookup(t)).toEqual([t - 1, 128 * (t - 1)]);
        const ro = IndexFile.open(repo.getOffsetIndex(0, false), false);
        expect(ro.keyLookup(t)).toEqual([t - 1, 128 * (t - 1)]);
        expect(ro.numEntries).toBe(t - 1);
        ro.close();
      }

      writer.ftruncate(1);
      let err: unknown = null;
      try {
        index.keyLookup(1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IndexError);
      expect((err as IndexError).code).toBe('INDEX_KEY_NOT_FOUND');
      writer.close();
    });
  }
});
