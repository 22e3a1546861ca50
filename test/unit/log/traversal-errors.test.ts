/**
 * Traversal error semantics (SPEC §7.2, §7.5, §12.2) over the memory repo: variants of L6–L8, X9, X10,
 * X12, X13, the non-fused iterator (Q24), Initial-state quirks (Q26/Q27), folds, and the two error
 * modes (throw vs `{ errors: 'yield' }`).
 */
import { describe, expect, it } from 'vitest';
import {
  type BufReader,
  ArrayDecoder,
  ChecksumMismatchError,
  type Decoder,
  ForkedError,
  GenericLog,
  InvalidDataError,
  MemoryRepo,
  OutOfOrderError,
  type Result,
  TraversalChecksumError,
  TraversalError,
  TraversalIoError,
  UnexpectedEofError,
} from '../../../src/index.js';
import { type StoredCommit, decodeStoredCommit } from '../../../src/api/codec.js';
import { commitTwice, fillLog, memLog, memRepoOf, pendingCopy, setPending, snapshot } from '../../helpers/log-helpers.js';

const filled = (byte: number, n = 32) => new Uint8Array(n).fill(byte);
/** One 32-byte record per commit: commit k starts at byte 10 + 58k of its segment. */
const COMMIT = 58;

/** A compact, exact rendering of traversal items: `0` for Ok(commit 0), strings for errors. */
function fmt(e: unknown): string {
  if (e instanceof TraversalChecksumError) return `checksum@${e.offset}`;
  if (e instanceof ForkedError) return `forked@${e.offset}`;
  if (e instanceof OutOfOrderError) {
    return `ooo ${e.expectedOffset}->${e.actualOffset}` + (e.prevError ? ` after ${fmt(e.prevError)}` : '');
  }
  if (e instanceof TraversalIoError) return `io(${(e.cause as { code?: string }).code})`;
  return `other(${String(e)})`;
}
function items(rs: Iterable<Result<StoredCommit, TraversalError>>): (number | string)[] {
  return [...rs].map((r) => (r.ok ? r.value.minTxOffset : fmt(r.error)));
}
const yielded = (log: GenericLog, from = 0) => items(log.commitsFrom(from, { errors: 'yield' }));

function flip(log: GenericLog, segment: number, pos: number, mask = 0xff): void {
  const buf = memRepoOf(log).segments.get(segment)!;
  expect(pos).toBeLessThan(buf.length);
  buf.data[pos]! ^= mask;
}

/** Commits 0..k−1, one 32-byte record each, in one segment. */
function oneSegment(k: number): GenericLog {
  const log = memLog(1024);
  fillLog(log, k, [1]);
  expect(log.existingSegmentOffsets()).toEqual([0]);
  return log;
}

describe('duplicates (L6 variants)', () => {
  it('L6 in yield mode: both commits Ok, no error item', () => {
    const log = memLog(1024);
    commitTwice(log, filled(0x2a));
    log.append(filled(0x2b));
    log.commit();
    expect(yielded(log)).toEqual([0, 1]);
  });

  it('a duplicate in the next segment (rewrite after rotation) is skipped', () => {
    const log = memLog(128);
    fillLog(log, 2, [1]); // 10 + 2 × 58 = 126
    const again = { ...pendingCopy(log), minTxOffset: 1, n: 1, records: new Uint8Array(32) };
    setPending(log, again);
    log.commit(); // 126 + 58 > 128: rotates to segment 1 and writes commit 1 again
    expect(log.existingSegmentOffsets()).toEqual([0, 1]);
    expect(yielded(log)).toEqual([0, 1]);
  });

  it('only the immediately preceding commit is compared: an older duplicate is out of order', () => {
    const log = memLog(1024);
    log.append(filled(0x2a));
    const c0 = pendingCopy(log);
    log.commit();
    log.append(filled(0x2b));
    log.commit();
    setPending(log, c0);
    log.commit();
    expect(yielded(log)).toEqual([0, 1, 'ooo 2->0']);
  });
});

describe('forks (L7 variants)', () => {
  it('yield mode reports the fork and goes on; `last` is not updated', () => {
    const log = memLog(1024);
    log.append(filled(0x2a));
    log.commit();
    setPending(log, { minTxOffset: 0, n: 1, records: filled(0x2b), epoch: 0 });
    log.commit();
    log.append(filled(0x2c));
    expect(log.commit()).toMatchObject({ txRange: { start: 1, end: 2 } });
    expect(yielded(log)).toEqual([0, 'forked@0', 1]);
  });
});

describe('gaps (L8 variants)', () => {
  const gapped = () => {
    const log = memLog(1024);
    log.append(filled(0x2a));
    log.commit();
    log.headWriter.pending.minTxOffset = 18;
    log.append(filled(0x2a));
    log.commit();
    log.append(filled(0x2a));
    log.commit();
    return log;
  };

  it('every commit after a gap is out of order (prevError null)', () => {
    expect(yielded(gapped())).toEqual([0, 'ooo 1->18', 'ooo 1->19']);
  });

  it('throw mode: the first error ends the iteration for good', () => {
    const it = gapped().commitsFrom(0);
    expect(it.next()).toMatchObject({ done: false, value: { minTxOffset: 0 } });
    let err: unknown;
    try {
      it.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfOrderError);
    expect(err).toMatchObject({ expectedOffset: 1, actualOffset: 18, prevError: null });
    expect(it.next().done).toBe(true);
  });
});

describe('deferred read errors (§7.2, Q24, Q25)', () => {
  it('Q24: after a checksum error the iterator resumes with the next commit (→ OutOfOrder)', () => {
    const log = oneSegment(3);
    flip(log, 0, 10 + COMMIT + 30); // a record byte of commit 1
    expect(yielded(log)).toEqual([0, 'checksum@1', 'ooo 1->2']);
  });

  it('Q24: after a short read the iterator is at EOF (→ done)', () => {
    const log = oneSegment(3);
    memRepoOf(log).segments.get(0)!.setLength(10 + 2 * COMMIT + 40); // commit 2 cut after 40 bytes
    const rs = [...log.commitsFrom(0, { errors: 'yield' })];
    expect(items(rs)).toEqual([0, 1, 'io(UNEXPECTED_EOF)']);
    const last = rs[2] as { ok: false; error: TraversalIoError };
    expect(last.error.cause).toBeInstanceOf(UnexpectedEofError);
  });

  it('a checksum error carries the ChecksumMismatchError as cause', () => {
    const log = oneSegment(2);
    flip(log, 0, 10 + COMMIT + 22);
    const rs = [...log.commitsFrom(0, { errors: 'yield' })];
    const err = (rs[1] as { ok: false; error: TraversalChecksumError }).error;
    expect(err).toBeInstanceOf(TraversalChecksumError);
    expect(err.offset).toBe(1);
    expect(err.cause).toBeInstanceOf(ChecksumMismatchError);
  });

  it('a bad commit followed by a segment starting at the expected offset is forgotten', () => {
    const log = memLog(128);
    fillLog(log, 2, [1]);
    setPending(log, { ...pendingCopy(log), minTxOffset: 1, n: 1, records: new Uint8Array(32) });
    log.commit(); // segment 1 repeats commit 1, as a retry after a torn write would
    log.append(new Uint8Array(32));
    log.commit();
    flip(log, 0, 10 + COMMIT + 40); // break commit 1 in segment 0
    expect(yielded(log)).toEqual([0, 1, 2]);
    expect([...log.commitsFrom(0)].map((c) => c.minTxOffset)).toEqual([0, 1, 2]);
  });

  it('a bad commit followed by a segment at another offset: OutOfOrder with prevError', () => {
    const log = memLog(128);
    fillLog(log, 3, [1]); // segments 0 (commits 0, 1) and 2
    flip(log, 0, 10 + COMMIT + 40);
    expect(yielded(log)).toEqual([0, 'ooo 1->2 after checksum@1']);
  });

  it('a segment that cannot be opened yields TraversalIo; the previous reader stays current', () => {
    const log = memLog(128);
    fillLog(log, 3, [1]); // segments 0 and 2
    flip(log, 2, 0); // bad magic
    const rs = [...log.commitsFrom(0, { errors: 'yield' })];
    expect(items(rs)).toEqual([0, 1, 'io(INVALID_DATA)']);
    expect((rs[2] as { ok: false; error: Error }).error.cause).toBeInstanceOf(InvalidDataError);
  });
});

describe('Initial state (Q26, Q27)', () => {
  it('Q26: a gap before the first accepted commit is not detected', () => {
    const log = memLog(1024);
    log.headWriter.pending.minTxOffset = 3;
    log.append(filled(1));
    log.commit();
    expect(yielded(log)).toEqual([3]);
    expect(yielded(log, 1)).toEqual([3]);
  });

  it('Q27: a checksum error in Initial state reports the requested offset', () => {
    const log = oneSegment(5);
    flip(log, 0, 10 + 30); // commit 0
    // deferred to the end of the only segment; not fused: reading goes on with commit 1 (skipped) and 2
    expect(yielded(log, 2)).toEqual(['checksum@2', 2, 3, 4]);
    expect(yielded(log, 0)).toEqual(['checksum@0', 1, 2, 3, 4]);
  });

  // FIX over 1.3.0 (issue 16 §2): the reference drops the deferred error here and starts at 2.
  it('a bad first commit is reported when another segment follows, then traversal goes on', () => {
    const log = memLog(128);
    fillLog(log, 5, [1]); // segments 0 (0, 1), 2 (2, 3), 4 (4)
    flip(log, 0, 10 + 30);
    expect(yielded(log)).toEqual(['ooo 0->2 after checksum@0', 2, 3, 4]);
    expect(() => [...log.commits()]).toThrow(OutOfOrderError);
    let caught: unknown;
    try {
      for (const _ of log.commits()) void _;
    } catch (e) {
      caught = e;
    }
    expect((caught as OutOfOrderError).prevError).toBeInstanceOf(TraversalChecksumError);
    expect((caught as Error).message).toMatch(/checksum mismatch at offset=0 in segment 0/);
  });

  it('a bad second commit of the oldest segment, read from offset 1, is reported too', () => {
    const log = memLog(128);
    fillLog(log, 5, [1]);
    flip(log, 0, 10 + COMMIT + 30); // commit 1
    expect(yielded(log, 1)).toEqual(['ooo 1->2 after checksum@1', 2, 3, 4]);
    expect(yielded(log, 0)).toEqual([0, 'ooo 1->2 after checksum@1', 'ooo 1->3', 'ooo 1->4']);
  });

  it('the transaction iterator and the fold report it as well', () => {
    const log = memLog(128);
    fillLog(log, 5, [1]);
    flip(log, 0, 10 + 30);
    const seen: (number | string)[] = [];
    for (const r of log.transactionsFrom(0, new ArrayDecoder(32), { errors: 'yield' })) {
      seen.push(r.ok ? r.value.offset : fmt(r.error));
    }
    expect(seen).toEqual(['ooo 0->2 after checksum@0', 2, 3, 4]);
    expect(() => log.foldTransactions(new ArrayDecoder(32))).toThrow(OutOfOrderError);
  });
});

describe('folds (§7.5)', () => {
  const counting = () => {
    const seen: number[] = [];
    const decoder: Decoder<void> = {
      decodeRecord(_v: number, off: number, r: BufReader) {
        r.getSlice(32);
        seen.push(off);
      },
      skipRecord(_v: number, _off: number, r: BufReader) {
        r.getSlice(32);
      },
    };
    return { seen, decoder };
  };

  it('a bad last commit (checksum) is ignored', () => {
    const log = oneSegment(4);
    flip(log, 0, 10 + 3 * COMMIT + 30);
    const { seen, decoder } = counting();
    log.foldTransactions(decoder);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('a torn last commit is ignored', () => {
    const log = oneSegment(4);
    memRepoOf(log).segments.get(0)!.setLength(10 + 3 * COMMIT + 30);
    const { seen, decoder } = counting();
    log.foldTransactions(decoder);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('a bad commit that is not the last throws it (the OutOfOrder after it is discarded)', () => {
    const log = oneSegment(4);
    flip(log, 0, 10 + COMMIT + 30);
    const { seen, decoder } = counting();
    expect(() => log.foldTransactions(decoder)).toThrow(TraversalChecksumError);
    expect(seen).toEqual([0]);
  });

  it('a fork throws', () => {
    const log = memLog(1024);
    log.append(filled(0x2a));
    log.commit();
    setPending(log, { minTxOffset: 0, n: 1, records: filled(0x2b), epoch: 0 });
    log.commit();
    log.append(filled(0x2c));
    log.commit();
    const { decoder } = counting();
    expect(() => log.foldTransactions(decoder)).toThrow(ForkedError);
  });
});

describe('throw mode vs yield mode', () => {
  it('transactions: throw mode stops at the error, yield mode reports it and goes on', () => {
    const log = oneSegment(3);
    flip(log, 0, 10 + COMMIT + 30);
    const d = { decodeRecord: (_v: number, _o: number, r: BufReader) => r.getArray(32), skipRecord: () => {} };
    const got: number[] = [];
    expect(() => {
      for (const t of log.transactionsFrom(0, d)) got.push(t.offset);
    }).toThrow(TraversalChecksumError);
    expect(got).toEqual([0]);
    const rs = [...log.transactionsFrom(0, d, { errors: 'yield' })];
    expect(rs.map((r) => (r.ok ? r.value.offset : fmt(r.error)))).toEqual([0, 'checksum@1', 'ooo 1->2']);
  });
});

describe('X9 empty flush rotates (Q5)', () => {
  it('commit() with nothing pending on a nearly full segment creates a header-only segment', () => {
    const log = memLog(90);
    log.append(new Uint8Array(32));
    log.commit();
    const repo = memRepoOf(log);
    expect(repo.segments.get(0)!.length).toBe(68);
    expect(log.commit()).toBeNull();
    expect(log.existingSegmentOffsets()).toEqual([0, 1]);
    expect(repo.segments.get(1)!.length).toBe(10);
    expect([...log.tail]).toEqual([0]);
    const before = snapshot(repo);
    expect(log.commit()).toBeNull();
    expect(snapshot(repo)).toEqual(before);
    expect(log.existingSegmentOffsets()).toEqual([0, 1]);
  });
});

describe('X10 all-zero v1 tail (Q1, changed by issue 7)', () => {
  it('26 zero bytes ending the segment are its end (preallocated space); open cuts them and resumes the segment', () => {
    const log = oneSegment(1);
    const seg = memRepoOf(log).segments.get(0)!;
    const before = seg.bytes().slice();
    seg.write(new Uint8Array(26), seg.length);
    expect(yielded(log)).toEqual([0]);
    log.close();
    const reopened = GenericLog.open(memRepoOf(log), { maxSegmentSize: 1024 });
    expect(reopened.existingSegmentOffsets()).toEqual([0]);
    expect(reopened.headOffset).toBe(0);
    expect(memRepoOf(log).segments.get(0)!.bytes()).toEqual(before);
  });

  it('26 zero bytes followed by more data are a checksum error, and open starts a new segment (QUIRK Q1 as in 1.3.0)', () => {
    const log = oneSegment(1);
    const seg = memRepoOf(log).segments.get(0)!;
    const tail = new Uint8Array(27);
    tail[26] = 0xff;
    seg.write(tail, seg.length);
    expect(yielded(log)).toEqual([0, 'checksum@1']);
    log.close();
    const before = snapshot(memRepoOf(log));
    const reopened = GenericLog.open(memRepoOf(log), { maxSegmentSize: 1024 });
    expect(reopened.existingSegmentOffsets()).toEqual([0, 1]);
    expect(reopened.headOffset).toBe(1);
    expect(memRepoOf(log).segments.get(0)!.bytes()).toEqual(before.get(0));
  });
});

describe('X12 logFormatVersion 0 (Q3)', () => {
  it('writes a v0 header with v1 commits, which v0 traversal reads as an empty segment', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, { logFormatVersion: 0 });
    log.append(filled(1));
    log.commit();
    log.append(filled(2));
    log.commit();
    const bytes = repo.segments.get(0)!.bytes();
    expect(bytes[6]).toBe(0);
    expect(bytes.length).toBe(10 + 2 * COMMIT);
    expect(decodeStoredCommit(bytes.subarray(10), 1)).toMatchObject({ minTxOffset: 0, epoch: 0, n: 1 });
    expect(decodeStoredCommit(bytes.subarray(10 + COMMIT), 1)).toMatchObject({ minTxOffset: 1, epoch: 0, n: 1 });
    expect([...log.commitsFrom(0)]).toEqual([]);
    expect(yielded(log)).toEqual([]);
    log.close();
    const again = GenericLog.open(repo, { logFormatVersion: 0 });
    expect(again.maxCommittedOffset()).toBe(1);
    expect(again.existingSegmentOffsets()).toEqual([0]);
  });
});

describe('X13 duplicate blocks resume (Q7)', () => {
  it('open fails with InvalidData (out-of-order offset: expected=1 actual=0)', () => {
    const log = memLog(1024);
    commitTwice(log, filled(0x2a));
    log.close();
    const repo = memRepoOf(log);
    const before = snapshot(repo);
    expect(() => GenericLog.open(repo, { maxSegmentSize: 1024 })).toThrow(InvalidDataError);
    expect(() => GenericLog.open(repo, { maxSegmentSize: 1024 })).toThrow(/expected=1 actual=0/);
    expect(snapshot(repo)).toEqual(before);
  });
});
