/** SPEC §13.2 L1–L18: `src/commitlog.rs` tests of 1.3.0 over the memory repo. */
import { describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  type BufReader,
  type Decoder,
  ForkedError,
  GenericLog,
  InvalidInputError,
  MemoryRepo,
  OutOfOrderError,
} from '../../../src/index.js';
import { commitTwice, cycle, fillLog, memLog, memRepoOf, pendingCopy, plain, setPending, txOffsets } from '../../helpers/log-helpers.js';

const zeros32 = new Uint8Array(32);
const filled = (byte: number, n = 32) => new Uint8Array(n).fill(byte);

describe('rotation (L1, L2)', () => {
  it('L1 rotate_segments_simple: 58-byte commits rotate on the third (126 + 58 > 128)', () => {
    const log = memLog(128);
    for (let i = 0; i < 3; i++) {
      expect(log.append(zeros32)).toBe(true);
      log.commit();
    }
    const offsets = log.existingSegmentOffsets();
    expect(offsets).toEqual([0, 2]);
    expect([...log.tail]).toEqual([0]);
    expect([...log.tail]).toEqual(offsets.slice(0, -1));
    expect(memRepoOf(log).segments.get(0)!.length).toBe(126);
  });

  it('L2 huge_commit: a commit larger than maxSegmentSize goes into the empty segment', () => {
    const log = memLog(32);
    log.append(filled(0));
    log.append(filled(1));
    expect(log.commit()).toMatchObject({ txRange: { start: 0, end: 2 } });
    expect(memRepoOf(log).segments.get(0)!.length).toBe(100);
    expect(log.existingSegmentOffsets()).toEqual([0]);
    log.append(filled(2));
    log.commit();
    expect([...log.tail]).toEqual([0]);
    expect(log.existingSegmentOffsets()).toEqual([0, 2]);
  });
});

describe('commit traversal (L3, L4, L5)', () => {
  const tenSegments = () => {
    const log = memLog(32);
    fillLog(log, 10, [1]);
    return log;
  };

  it('L3 traverse_commits: one commit per segment, offsets 0..9', () => {
    const log = tenSegments();
    expect(log.existingSegmentOffsets()).toEqual(cycle(0, 9));
    expect([...log.commitsFrom(0)].map((c) => c.minTxOffset)).toEqual(cycle(0, 9));
  });

  it('L4 traverse_commits_with_offset: commitsFrom(o) never yields a commit below o', () => {
    const log = tenSegments();
    for (let o = 0; o < 10; o++) {
      const got = [...log.commitsFrom(o)];
      expect(got.length).toBeGreaterThan(0);
      for (const c of got) expect(c.minTxOffset).toBeGreaterThanOrEqual(o);
    }
    expect([...log.commitsFrom(10)]).toEqual([]);
  });

  it('L5 fold_transactions_with_offset: consumeRecord sees exactly o..9, skipRecord the rest', () => {
    const log = tenSegments();
    for (let o = 0; o < 10; o++) {
      let count = 0;
      let expected = o;
      const decoder: Decoder<Uint8Array> = {
        decodeRecord(): Uint8Array {
          throw new Error('decodeRecord must not be called by a fold with consumeRecord');
        },
        consumeRecord(_v: number, txOffset: number, reader: BufReader): void {
          reader.getSlice(32);
          count++;
          expect(txOffset).toBe(expected);
          expected++;
        },
        skipRecord(_v: number, txOffset: number, reader: BufReader): void {
          expect(txOffset).toBeLessThan(o);
          reader.getSlice(32);
        },
      };
      log.foldTransactionsFrom(o, decoder);
      expect(count).toBe(10 - o);
      expect(expected).toBe(10);
    }
  });
});

describe('duplicates, forks, gaps (L6, L7, L8)', () => {
  it('L6 traverse_commits_ignores_duplicates: an identical rewrite of commit 0 is skipped', () => {
    const log = memLog(1024);
    const commit1 = commitTwice(log, filled(0x2a));
    log.append(filled(0x2b));
    const commit2 = pendingCopy(log);
    expect(commit2.minTxOffset).toBe(1);
    log.commit();
    expect([...log.commitsFrom(0)].map(plain)).toEqual([commit1, commit2]);
  });

  it('L7 traverse_commits_errors_when_forked: same offset, different checksum', () => {
    const log = memLog(1024);
    log.append(filled(0x2a));
    log.commit();
    setPending(log, { minTxOffset: 0, n: 1, records: filled(0x2b), epoch: 0 });
    log.commit();
    const seen: number[] = [];
    let err: unknown;
    try {
      for (const c of log.commitsFrom(0)) seen.push(c.minTxOffset);
    } catch (e) {
      err = e;
    }
    expect(seen).toEqual([0]);
    expect(err).toBeInstanceOf(ForkedError);
    expect((err as ForkedError).offset).toBe(0);
  });

  it('L8 traverse_commits_errors_when_offset_not_contiguous: gap 1 → 18', () => {
    const log = memLog(1024);
    log.append(filled(0x2a));
    log.commit();
    log.headWriter.pending.minTxOffset = 18;
    log.append(filled(0x2a));
    log.commit();
    const first = [...log.commitsFrom(0, { errors: 'yield' })].find((r) => !r.ok);
    expect(first).toBeDefined();
    const err = (first as { ok: false; error: unknown }).error;
    expect(err).toBeInstanceOf(OutOfOrderError);
    expect(err).toMatchObject({ expectedOffset: 1, actualOffset: 18, prevError: null });
  });
});

describe('transactions (L9, L10, L11)', () => {
  const cycled = () => {
    const log = memLog(32);
    expect(fillLog(log, 10, [1, 2, 3])).toBe(19);
    return log;
  };

  it('L9 traverse_transactions: offsets 0..18 in order', () => {
    expect(txOffsets(cycled())).toEqual(cycle(0, 18));
  });

  it('L10 traverse_transactions_with_offset: the first transaction is exactly o', () => {
    const log = cycled();
    for (let o = 0; o < 19; o++) {
      const got = txOffsets(log, o);
      expect(got[0]).toBe(o);
      for (const t of got) expect(t).toBeGreaterThanOrEqual(o);
      expect(got).toEqual(cycle(o, 18));
    }
    expect(txOffsets(log, 19)).toEqual([]);
  });

  it('L11 traverse_empty: a fresh log yields nothing from 0 or 42', () => {
    const log = memLog(32);
    const d = new ArrayDecoder(32);
    expect([...log.commitsFrom(0)]).toEqual([]);
    expect([...log.commitsFrom(42)]).toEqual([]);
    expect([...log.transactionsFrom(0, d)]).toEqual([]);
    expect([...log.transactionsFrom(42, d)]).toEqual([]);
  });
});

describe('reset (L12, L13, L14)', () => {
  it('L12 reset_hard: no transactions left, one segment 0', () => {
    const log = memLog(128);
    fillLog(log, 50, cycle(1, 10));
    const fresh = log.reset();
    expect(txOffsets(fresh)).toEqual([]);
    expect(fresh.existingSegmentOffsets()).toEqual([0]);
  });

  it('L13 reset_to_offset: resetTo(o) keeps exactly 0..o', () => {
    let log = memLog(128);
    fillLog(log, 50, [1]);
    for (let o = 49; o >= 0; o--) {
      log = log.resetTo(o);
      const txs = txOffsets(log);
      expect(txs[txs.length - 1]).toBe(o);
      expect(txs.length).toBe(o + 1);
    }
  });

  it('L14 reset_to_offset_many_txs_per_commit: whole commits are kept', () => {
    let log = memLog(128);
    expect(fillLog(log, 50, cycle(1, 10))).toBe(275);
    log = log.resetTo(275);
    expect(txOffsets(log).length).toBe(275);
    // commit #25 covers [125, 131)
    log = log.resetTo(126);
    expect(txOffsets(log).length).toBe(131);
    log = log.resetTo(125);
    expect(txOffsets(log).length).toBe(131);
    log = log.resetTo(1);
    expect(txOffsets(log).length).toBe(3);
    log = log.resetTo(0);
    expect(txOffsets(log).length).toBe(1);
  });
});

describe('reopen and epochs (L15–L18)', () => {
  it('L15 reopen: a second log on the same repo continues after the first', () => {
    const repo = new MemoryRepo();
    const first = GenericLog.open(repo, { maxSegmentSize: 1024 });
    expect(fillLog(first, 100, cycle(1, 10))).toBe(550);
    const second = GenericLog.open(repo, { maxSegmentSize: 1024 });
    expect(fillLog(second, 100, cycle(1, 10))).toBe(550);
    expect(txOffsets(second)).toEqual(cycle(0, 1099));
  });

  it('L16 set_same_epoch_does_nothing', () => {
    const log = GenericLog.open(new MemoryRepo());
    expect(log.epoch).toBe(0);
    expect(log.setEpoch(0)).toBeNull();
    expect(log.epoch).toBe(0);
  });

  it('L17 set_new_epoch_commits: pending records are committed under the old epoch', () => {
    const log = GenericLog.open(new MemoryRepo());
    log.append(zeros32);
    expect(log.setEpoch(42)).toMatchObject({ txRange: { start: 0, end: 1 } });
    expect(log.epoch).toBe(42);
    expect([...log.commitsFrom(0)].map((c) => c.epoch)).toEqual([0]);
  });

  it('L18 set_lower_epoch_returns_error', () => {
    const log = GenericLog.open(new MemoryRepo());
    log.setEpoch(42);
    expect(() => log.setEpoch(7)).toThrow(InvalidInputError);
    expect(log.epoch).toBe(42);
  });
});
