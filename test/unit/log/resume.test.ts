/**
 * Open / resume (SPEC §6.2–§6.5), epochs (§5.6) and poisoning (§5.7, §12.7) over the memory repo:
 * X4 (both variants), a corrupt non-first commit, torn tails (ADOPT #5116), empty tail segments
 * (ADOPT #4863), the resumed epoch, `setEpoch` and fsync failures.
 */
import { describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  FsyncFailedError,
  GenericLog,
  InvalidDataError,
  InvalidInputError,
  IoError,
  MemoryRepo,
  PoisonedError,
} from '../../../src/index.js';
import { decodeStoredCommit } from '../../../src/api/codec.js';
import {
  ShortMemRepo,
  SyncFailRepo,
  cycle,
  fillLog,
  isEnospc,
  memLog,
  memRepoOf,
  snapshot,
  txOffsets,
} from '../../helpers/log-helpers.js';

const COMMIT = 58; // one 32-byte record

/** The epochs of the commits, in traversal order. */
const epochs = (log: GenericLog) => [...log.commitsFrom(0)].map((c) => c.epoch);

describe('X4 first commit in the last segment corrupt (Q45 FIX)', () => {
  const options = { maxSegmentSize: 512, maxRecordsInCommit: 1 };
  const twoSegments = () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, options);
    fillLog(log, 9, [1], new Uint8Array(64).fill(0x78)); // 90-byte commits: 0..4 | 5..8
    log.close();
    expect(repo.existingOffsets()).toEqual([0, 5]);
    expect(repo.segments.get(0)!.length).toBe(10 + 5 * 90);
    return repo;
  };

  it('complete but corrupt: open throws InvalidDataError naming segment 5 and changes nothing', () => {
    const repo = twoSegments();
    const seg = repo.segments.get(5)!;
    seg.data.fill(0, 11, seg.length);
    const before = snapshot(repo);
    let err: unknown;
    try {
      GenericLog.open(repo, options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as Error).message).toMatch(/segment\s+0*5\b/);
    expect(snapshot(repo)).toEqual(before);
  });

  it('torn (segment 5 cut to 60 bytes): segment 5 is removed and segment 0 resumed at offset 5', () => {
    const repo = twoSegments();
    repo.segments.get(5)!.setLength(60);
    const log = GenericLog.open(repo, options);
    expect(repo.existingOffsets()).toEqual([0]);
    expect(log.headOffset).toBe(0);
    expect(log.maxCommittedOffset()).toBe(4);
    expect(log.headWriter.pending.minTxOffset).toBe(5);
    log.append(new Uint8Array(64));
    log.commit(); // 460 + 90 > 512: segment 5 again
    expect(repo.existingOffsets()).toEqual([0, 5]);
    expect([...log.commitsFrom(0)].map((c) => c.minTxOffset)).toEqual(cycle(0, 5));
  });
});

describe('resume with a corrupt non-first commit in the last segment', () => {
  it('starts a new segment at sofar.end with sofar.maxEpoch; the bad segment stays unchanged', () => {
    const log = memLog(1024);
    log.append(new Uint8Array(32));
    log.commit(); // epoch 0
    log.setEpoch(3);
    log.append(new Uint8Array(32));
    log.commit(); // epoch 3
    log.setEpoch(5);
    log.append(new Uint8Array(32));
    log.commit(); // epoch 5, about to be corrupted
    log.close();
    const repo = memRepoOf(log);
    repo.segments.get(0)!.data[10 + 2 * COMMIT + 30]! ^= 0x01;
    const before = snapshot(repo).get(0);

    const reopened = GenericLog.open(repo, { maxSegmentSize: 1024 });
    expect(repo.existingOffsets()).toEqual([0, 2]);
    expect([...reopened.tail]).toEqual([0]);
    expect(reopened.headOffset).toBe(2);
    expect(reopened.epoch).toBe(3);
    expect(repo.segments.get(0)!.bytes()).toEqual(before);
    expect(repo.segments.get(2)!.length).toBe(10);

    // The retry lands in segment 2 at the expected offset: the bad commit is invisible to traversal.
    reopened.append(new Uint8Array(32));
    expect(reopened.commit()).toMatchObject({ txRange: { start: 2, end: 3 } });
    expect([...reopened.commitsFrom(0)].map((c) => c.minTxOffset)).toEqual([0, 1, 2]);
  });

  it('22 junk bytes form a short commit: a new segment is started, nothing is truncated', () => {
    const log = memLog(1024);
    fillLog(log, 2, [1]);
    log.close();
    const repo = memRepoOf(log);
    const seg = repo.segments.get(0)!;
    seg.write(new Uint8Array(22).fill(0x43), seg.length);
    const reopened = GenericLog.open(repo, { maxSegmentSize: 1024 });
    expect(repo.existingOffsets()).toEqual([0, 2]);
    expect(seg.length).toBe(10 + 2 * COMMIT + 22);
    expect(reopened.maxCommittedOffset()).toBe(1);
  });
});

describe('torn tail of 1–21 bytes (ADOPT #5116)', () => {
  it.each(cycle(1, 21))('%i trailing bytes are cut on open and later commits stay readable', (k) => {
    const log = memLog(1024);
    fillLog(log, 2, [1]);
    log.close();
    const repo = memRepoOf(log);
    const seg = repo.segments.get(0)!;
    const good = seg.bytes().slice();
    seg.write(new Uint8Array(k).fill(0x43), seg.length);

    const reopened = GenericLog.open(repo, { maxSegmentSize: 1024 });
    expect(repo.existingOffsets()).toEqual([0]);
    expect(seg.bytes()).toEqual(good);
    fillLog(reopened, 2, [1]);
    expect(seg.length).toBe(10 + 4 * COMMIT);
    expect([...reopened.commitsFrom(0, { errors: 'yield' })].map((r) => r.ok && r.value.minTxOffset)).toEqual([
      0, 1, 2, 3,
    ]);
  });
});

describe('empty tail segments (ADOPT #4863)', () => {
  /** Segments 0 (commits 0, 1, epochs 0 and 7) and 2 (commit 2, epoch 7). */
  const build = () => {
    const log = memLog(128);
    fillLog(log, 1, [1]);
    log.setEpoch(7);
    fillLog(log, 2, [1]);
    log.close();
    const repo = memRepoOf(log);
    expect(repo.existingOffsets()).toEqual([0, 2]);
    return repo;
  };

  it.each(cycle(0, 10))('a last segment of %i bytes is removed and the previous one resumed', (len) => {
    const repo = build();
    repo.segments.get(2)!.setLength(len);
    const log = GenericLog.open(repo, { maxSegmentSize: 128 });
    expect(repo.existingOffsets()).toEqual([0]);
    expect(log.headOffset).toBe(0);
    expect(log.headWriter.pending.minTxOffset).toBe(2);
    expect(log.epoch).toBe(7);
    expect(log.maxCommittedOffset()).toBe(1);
  });

  it('when every segment is removed, a fresh segment 0 with epoch 0 is created', () => {
    const repo = new MemoryRepo();
    const first = GenericLog.open(repo);
    first.close();
    repo.segments.get(0)!.setLength(4);
    const log = GenericLog.open(repo);
    expect(repo.existingOffsets()).toEqual([0]);
    expect(repo.segments.get(0)!.length).toBe(10);
    expect(log.epoch).toBe(0);
    expect(log.maxCommittedOffset()).toBeNull();
  });
});

describe('epoch after open (§5.6, §6.3)', () => {
  it('is the maximum epoch of the resumed segment, not the last one written', () => {
    const log = memLog(1024);
    fillLog(log, 1, [1]);
    log.setEpoch(4);
    fillLog(log, 1, [1]);
    log.setEpoch(9);
    fillLog(log, 1, [1]);
    log.headWriter.pending.epoch = 2; // readers never check monotonicity
    fillLog(log, 1, [1]);
    log.close();
    const reopened = GenericLog.open(memRepoOf(log), { maxSegmentSize: 1024 });
    expect(epochs(reopened)).toEqual([0, 4, 9, 2]);
    expect(reopened.epoch).toBe(9);
  });

  it('only the resumed (last) segment counts', () => {
    const log = memLog(128);
    log.setEpoch(9);
    fillLog(log, 3, [1]); // segments 0 and 2, all epoch 9
    expect(log.existingSegmentOffsets()).toEqual([0, 2]);
    log.close();
    const repo = memRepoOf(log);
    // Rewrite segment 2 with an epoch-1 commit.
    repo.removeSegment(2);
    const mid = GenericLog.open(repo, { maxSegmentSize: 128 });
    expect(mid.epoch).toBe(9);
    mid.headWriter.pending.epoch = 1;
    fillLog(mid, 1, [1]); // rotates into segment 2
    mid.close();
    expect(repo.existingOffsets()).toEqual([0, 2]);
    expect(GenericLog.open(repo, { maxSegmentSize: 128 }).epoch).toBe(1);
  });

  it('reset() starts again at epoch 0', () => {
    const log = memLog(1024);
    log.setEpoch(5);
    fillLog(log, 2, [1]);
    expect(log.reset().epoch).toBe(0);
  });
});

describe('setEpoch rules (§5.6)', () => {
  it('a higher epoch commits pending records first and stamps later commits', () => {
    const log = memLog(1024);
    log.append(new Uint8Array(32));
    expect(log.setEpoch(3)).toMatchObject({ txRange: { start: 0, end: 1 } });
    expect(log.setEpoch(4)).toBeNull(); // nothing pending
    log.append(new Uint8Array(32));
    log.commit();
    expect(epochs(log)).toEqual([0, 4]);
  });

  it('the same epoch is a no-op, pending records stay pending', () => {
    const log = memLog(1024);
    log.setEpoch(2);
    log.append(new Uint8Array(32));
    expect(log.setEpoch(2)).toBeNull();
    expect(log.headWriter.pending.n).toBe(1);
    expect(memRepoOf(log).segments.get(0)!.length).toBe(10);
  });

  it('a lower epoch is refused and changes nothing', () => {
    const log = memLog(1024);
    log.setEpoch(2);
    log.append(new Uint8Array(32));
    expect(() => log.setEpoch(1)).toThrow(InvalidInputError);
    expect(log.epoch).toBe(2);
    expect(log.headWriter.pending.n).toBe(1);
  });

  it('a failing commit propagates and leaves the epoch unchanged', () => {
    const log = GenericLog.open(new ShortMemRepo(800), { maxSegmentSize: 1024 });
    fillLog(log, 13, [1]); // 10 + 13 × 58 = 764 bytes through the handle
    log.append(new Uint8Array(32));
    let err: unknown;
    try {
      log.setEpoch(1);
    } catch (e) {
      err = e;
    }
    expect(isEnospc(err)).toBe(true);
    expect(log.epoch).toBe(0);
    // The pending commit moved to segment 13 and still carries epoch 0.
    expect(log.commit()).toMatchObject({ txRange: { start: 13, end: 14 } });
    expect(epochs(log).every((e) => e === 0)).toBe(true);
  });
});

describe('poisoning by an fsync failure (§5.7, §12.7)', () => {
  const poisoned = () => {
    const repo = new SyncFailRepo();
    const log = GenericLog.open(repo, { maxSegmentSize: 1024 });
    fillLog(log, 2, [1]);
    log.append(new Uint8Array(32)); // stays pending
    repo.failSync = true;
    let err: unknown;
    try {
      log.sync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsyncFailedError);
    expect((err as Error).cause).toBeInstanceOf(IoError);
    return { repo, log };
  };

  it('every later call throws PoisonedError', () => {
    const { log } = poisoned();
    const d = new ArrayDecoder(32);
    const calls: [string, () => unknown][] = [
      ['append', () => log.append(new Uint8Array(32))],
      ['appendMaybeFlush', () => log.appendMaybeFlush(new Uint8Array(32))],
      ['commit', () => log.commit()],
      ['sync', () => log.sync()],
      ['flushAndSync', () => log.flushAndSync()],
      ['setEpoch', () => log.setEpoch(1)],
      ['maxCommittedOffset', () => log.maxCommittedOffset()],
      ['minCommittedOffset', () => log.minCommittedOffset()],
      ['existingSegmentOffsets', () => log.existingSegmentOffsets()],
      ['commitsFrom', () => [...log.commitsFrom(0)]],
      ['transactionsFrom', () => [...log.transactionsFrom(0, d)]],
      ['foldTransactions', () => log.foldTransactions(d)],
      ['reset', () => log.reset()],
      ['resetTo', () => log.resetTo(0)],
    ];
    const notPoisoned = calls
      .filter(([, call]) => {
        try {
          call();
          return true;
        } catch (e) {
          return !(e instanceof PoisonedError);
        }
      })
      .map(([name]) => name);
    expect(notPoisoned).toEqual([]);
  });

  it('close() still works and does not write the pending records', () => {
    const { repo, log } = poisoned();
    const before = snapshot(repo);
    expect(() => log.close()).not.toThrow();
    expect(snapshot(repo)).toEqual(before);
    expect(repo.segments.get(0)!.length).toBe(10 + 2 * COMMIT);
  });

  it('flushAndSync writes the commit, then fails the sync and poisons', () => {
    const repo = new SyncFailRepo();
    const log = GenericLog.open(repo, { maxSegmentSize: 1024 });
    log.append(new Uint8Array(32));
    repo.failSync = true;
    expect(() => log.flushAndSync()).toThrow(FsyncFailedError);
    expect(decodeStoredCommit(repo.segments.get(0)!.bytes().subarray(10))).toMatchObject({ minTxOffset: 0, n: 1 });
    expect(() => log.commit()).toThrow(PoisonedError);
  });

  it('the sync before a rotation fails → FsyncFailedError, then PoisonedError', () => {
    const repo = new SyncFailRepo();
    const log = GenericLog.open(repo, { maxSegmentSize: 128 });
    fillLog(log, 2, [1]);
    repo.failSync = true;
    log.append(new Uint8Array(32));
    expect(() => log.commit()).toThrow(FsyncFailedError); // 126 + 58 > 128 → sync, rotate
    expect(repo.existingOffsets()).toEqual([0]);
    expect(() => log.append(new Uint8Array(32))).toThrow(PoisonedError);
    expect(() => log.close()).not.toThrow();
    expect(txOffsets(GenericLog.open(repo, { maxSegmentSize: 128 }))).toEqual([0, 1]);
  });
});
