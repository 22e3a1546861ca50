/**
 * `FaultyRepo` itself (the seeded fault-injecting repo of issue 8: conformance without faults, arming,
 * determinism, power loss, growth) and directed fault scenarios, one per finding or spec rule under
 * faults: EIO on fsync poisons the log (SPEC §5.7); what a sync reported durable survives torn writes,
 * failed segment creation and power cuts; index entries cannot mislead readers (SPEC §3.7); segments that
 * vanish or grow between calls (SPEC §6.5, §7.2); resetTo into a compressed segment (SPEC §8.2, Q18).
 * The random workloads over every fault kind are in fault-workload.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  FsRepo,
  FsyncFailedError,
  GenericLog,
  InvalidDataError,
  IoError,
  MemoryRepo,
  NotFoundError,
  PoisonedError,
  TraversalIoError,
  commits,
  commitsFrom,
  resetRepoTo,
} from '../../src/index.js';
import { FaultyRepo } from '../../src/api/testing.js';
import { repoConformance } from '../conformance/repo-conformance.js';
import { checkAppendContinues, cleanCommits, expectTyped, summarise } from '../helpers/reliability.js';

// -----------------------------------------------------------------------------------------------
// The repo itself

repoConformance(
  'FaultyRepo(MemoryRepo({ offsetIndex: true })), no faults',
  () => new FaultyRepo(new MemoryRepo({ offsetIndex: true })),
  { offsetIndex: true },
);

const conformanceDirs: string[] = [];
afterAll(() => conformanceDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
repoConformance(
  'FaultyRepo(FsRepo), no faults',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    conformanceDirs.push(dir);
    return new FaultyRepo(new FsRepo(dir));
  },
  { offsetIndex: true },
);

const rec = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('FaultyRepo', () => {
  it('an armed short write lands a strict prefix, then throws IoError; the fault is counted', () => {
    const faulty = new FaultyRepo(new MemoryRepo());
    const file = faulty.createSegment(0);
    faulty.arm('shortWrite');
    expect(() => file.append(rec(100, 7), 0, 100)).toThrow(IoError);
    expect(file.size()).toBeGreaterThan(0);
    expect(file.size()).toBeLessThan(100);
    expect(faulty.counts.shortWrite).toBe(1);
    expect(faulty.injected).toBe(1);
    file.append(rec(5, 1), 0, 5); // disarmed after one
    expect(faulty.injected).toBe(1);
  });

  it('arm honours skip and offset; ENOSPC and EIO carry their errno and write nothing', () => {
    const faulty = new FaultyRepo(new MemoryRepo());
    const a = faulty.createSegment(0);
    const b = faulty.createSegment(5);
    faulty.arm('enospc', { offset: 5, skip: 1 });
    a.append(rec(3, 1), 0, 3);
    b.append(rec(3, 1), 0, 3); // skipped
    let err: unknown;
    try {
      b.append(rec(3, 1), 0, 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).errno).toBe('ENOSPC');
    expect(b.size()).toBe(3);
    faulty.arm('eioWrite');
    expect(() => a.append(rec(3, 1), 0, 3)).toThrow(expect.objectContaining({ errno: 'EIO' }));
    expect(a.size()).toBe(3);
    faulty.arm('eioSync');
    expect(() => a.sync()).toThrow(expect.objectContaining({ errno: 'EIO' }));
    faulty.arm('segmentVanish');
    expect(() => faulty.openSegmentReader(0)).toThrow(NotFoundError);
    expect(faulty.openSegmentReader(0).size()).toBe(3); // it only looked gone
  });

  it('the same seed injects the same faults', () => {
    const history = (seed: number) => {
      const faulty = new FaultyRepo(new MemoryRepo(), { seed, probabilities: { shortWrite: 0.2, eioWrite: 0.2 } });
      const f = faulty.createSegment(0);
      for (let i = 0; i < 50; i++) {
        try {
          f.append(rec(10, i), 0, 10);
        } catch {
          // counted by the repo
        }
      }
      return JSON.stringify(faulty.history);
    };
    expect(history(7)).toBe(history(7));
    expect(history(7)).not.toBe(history(8));
  });

  it('powerLoss keeps what fsync covered, and at most what was written', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem, { seed: 3 });
    const f = faulty.createSegment(0);
    f.append(rec(40, 1), 0, 40);
    f.sync();
    f.append(rec(60, 2), 0, 60);
    faulty.powerLoss();
    const len = mem.segments.get(0)!.length;
    expect(len).toBeGreaterThanOrEqual(40);
    expect(len).toBeLessThanOrEqual(100);
    expect(() => f.append(rec(1, 1), 0, 1)).toThrow(/crashed process/); // the writer died with the power
    const g = faulty.openSegmentWriter(0);
    g.append(rec(10, 3), 0, 10);
    faulty.powerLoss(mem, 'synced');
    expect(mem.segments.get(0)!.length).toBe(len); // what survived a power cut is on disk
  });

  it('segmentGrow only grows segments nobody is writing', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem, { probabilities: { segmentGrow: 1 } });
    const sealed = faulty.createSegment(0);
    sealed.append(rec(10, 1), 0, 10);
    sealed.close();
    const head = faulty.createSegment(10);
    head.append(rec(10, 1), 0, 10);
    for (let i = 0; i < 5; i++) faulty.existingOffsets();
    expect(mem.segments.get(10)!.length).toBe(10);
    expect(mem.segments.get(0)!.length).toBeGreaterThan(10);
    expect(faulty.counts.segmentGrow).toBe(5);
  });
});

// -----------------------------------------------------------------------------------------------
// Directed scenarios (each a regression test for a finding, or a spec rule under faults)

const O = { maxSegmentSize: 1024 };
const allCommits = (repo: MemoryRepo) => [...commits(repo, { errors: 'yield' })];

describe('EIO on fsync (SPEC §5.7, §12.7)', () => {
  it('poisons the log: FsyncFailedError, then PoisonedError for every call; what was synced survives', async () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, O);
    log.append(rec(20, 1));
    log.flushAndSync();
    log.append(rec(20, 2));
    log.commit();
    faulty.arm('eioSync');
    expect(() => log.sync()).toThrow(FsyncFailedError);
    for (const call of [
      () => log.sync(),
      () => log.flushAndSync(),
      () => log.commit(),
      () => log.append(rec(1, 1)),
      () => log.maxCommittedOffset(),
    ]) {
      expect(call).toThrow(PoisonedError);
    }
    await expect(log.syncAsync()).rejects.toThrow(PoisonedError);
    log.close();
    faulty.powerLoss(mem, 'synced');
    const reopened = GenericLog.open(mem, O);
    expect(cleanCommits(reopened, 'after eio').map((c) => c.minTxOffset)).toEqual([0]);
    reopened.close();
  });

  it('an asynchronous fsync failure poisons the log too', async () => {
    const faulty = new FaultyRepo(new MemoryRepo());
    const log = GenericLog.open(faulty, O);
    log.append(rec(20, 1));
    log.commit();
    faulty.arm('eioSync');
    await expect(log.syncAsync()).rejects.toThrow(FsyncFailedError);
    expect(() => log.sync()).toThrow(PoisonedError);
  });
});

describe('write failures: what sync reports durable survives a crash or a power cut', () => {
  it('a sync after a torn write covers the commits written before it (power loss)', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, O);
    log.append(rec(30, 1));
    log.commit(); // offset 0, segment 0, not yet synced
    log.append(rec(30, 2));
    faulty.arm('shortWrite');
    expect(() => log.commit()).toThrow(IoError); // torn in segment 0; segment 1 started (SPEC §5.3)
    expect(log.commit()?.txRange).toEqual({ start: 1, end: 2 });
    log.sync(); // reports offsets 0 and 1 durable
    faulty.powerLoss(mem, 'synced');
    const reopened = GenericLog.open(mem, O);
    expect(allCommits(mem).map((r) => r.ok && r.value.minTxOffset)).toEqual([0, 1]);
    reopened.close();
  });

  it('a torn first commit of a segment (AlreadyExists, Q32) never leaves committed data unreadable or the log unopenable', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, { maxSegmentSize: 100 });
    log.append(rec(60, 1));
    log.flushAndSync(); // segment 0: 10 + 86 bytes
    log.append(rec(60, 2));
    faulty.arm('shortWrite', { offset: 1, skip: 1 }); // not segment 1's header: its first commit
    expect(() => log.commit()).toThrow(AlreadyExistsError); // rotated to segment 1, torn there, retry targets segment 1
    let durable = false;
    try {
      log.commit();
      log.sync();
      durable = true;
    } catch (e) {
      expectTyped(e, 'retry');
    }
    faulty.crash();
    const reopened = GenericLog.open(mem, { maxSegmentSize: 100 });
    const got = cleanCommits(reopened, 'after torn first commit').map((c) => c.minTxOffset);
    expect(got).toEqual(durable ? [0, 1] : [0]);
    reopened.close();
  });

  it('a torn write followed by ENOSPC on the new segment: a retried commit is not appended after the torn bytes', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, O);
    log.append(rec(30, 1));
    log.flushAndSync();
    log.append(rec(30, 2));
    faulty.arm('shortWrite');
    faulty.arm('enospc', { offset: 1 }); // creating segment 1 fails: the disk is full
    expect(() => log.commit()).toThrow(IoError);
    let durable = false;
    try {
      log.commit(); // space is back
      log.sync();
      durable = true;
    } catch (e) {
      expectTyped(e, 'retry');
    }
    faulty.crash();
    const reopened = GenericLog.open(mem, O);
    const got = cleanCommits(reopened, 'after torn write + ENOSPC').map((c) => c.minTxOffset);
    expect(got).toEqual(durable ? [0, 1] : [0]);
    reopened.close();
  });

  it('reopening after a crash left a torn tail makes the kept prefix durable before building on it', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const first = GenericLog.open(faulty, O);
    first.append(rec(30, 1));
    first.commit(); // offset 0: written, not synced
    faulty.crash(); // … and the process died while writing offset 1:
    faulty.grow(0, encodeTorn(1, 40));
    const second = GenericLog.open(faulty, O); // corrupt tail: a new segment starts at 1 (SPEC §6.2)
    expect(second.maxCommittedOffset()).toBe(0);
    second.append(rec(30, 2));
    second.commit();
    second.sync(); // reports offsets 0 and 1 durable
    faulty.powerLoss(mem, 'synced');
    const third = GenericLog.open(mem, O);
    expect(cleanCommits(third, 'after power loss').map((c) => c.minTxOffset)).toEqual([0, 1]);
    third.close();
  });
});

describe('failed segment creation', () => {
  it('a segment whose header could not be written never ends up inside the log', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, { maxSegmentSize: 200 });
    log.append(rec(30, 1));
    log.commit();
    log.append(rec(30, 2));
    faulty.arm('eioWrite', { offset: 0 }); // the commit's write fails: a new segment is started at 1 …
    faulty.arm('shortWrite', { offset: 1 }); // … whose header write is cut short
    expect(() => log.commit()).toThrow(IoError);
    expect(log.commit()?.txRange).toEqual({ start: 1, end: 2 }); // the retry goes to segment 0
    for (let i = 2; i < 8; i++) {
      log.append(rec(30, i));
      log.commit(); // rotates past offset 1
    }
    log.flushAndSync();
    expect(cleanCommits(log, 'live').length).toBe(8);
    log.close();
    const reopened = GenericLog.open(mem, { maxSegmentSize: 200 });
    expect(cleanCommits(reopened, 'reopened').length).toBe(8);
    expect(() => [...reopened.commits()]).not.toThrow();
  });
});

/** The first 30 bytes of a commit at `offset` with `len` record bytes: what a crash mid-write leaves. */
function encodeTorn(offset: number, len: number): Uint8Array {
  const bytes = new Uint8Array(22 + len + 4);
  const v = new DataView(bytes.buffer);
  v.setBigUint64(0, BigInt(offset), true);
  v.setUint16(16, 1, true);
  v.setUint32(18, len, true);
  return bytes.subarray(0, 30);
}

describe('corrupt offset index files', () => {
  it('an entry whose position is off by one bit cannot send traversal into the middle of a commit', () => {
    const mem = new MemoryRepo({ offsetIndex: true });
    const log = GenericLog.open(mem, { maxSegmentSize: 4096, offsetIndexIntervalBytes: 16 });
    log.append(rec(50, 1));
    log.commit(); // offset 0 at byte 10, 76 bytes
    log.setEpoch(1);
    log.append(rec(40, 2));
    log.commit(); // offset 1 at byte 86, epoch 1: indexed as (1, 86)
    log.close();
    const idx = mem.indexes.get(0)!;
    expect([...idx.bytes().subarray(0, 16)]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 86, 0, 0, 0, 0, 0, 0, 0]);
    idx.data[8]! ^= 0x08; // (1, 94): byte 94 is commit 1's epoch field, which reads as 1 too
    const withIndex = [...commitsFrom(mem, 1, { errors: 'yield' })].map(summarise);
    mem.indexes.clear();
    expect(withIndex).toEqual([...commitsFrom(mem, 1, { errors: 'yield' })].map(summarise));
  });
});

describe('segments that vanish or grow between calls', () => {
  it('a segment gone between listing and opening is a typed traversal error; reading again works', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, { maxSegmentSize: 100 });
    for (let i = 0; i < 6; i++) {
      log.append(rec(50, i));
      log.commit();
    }
    faulty.arm('segmentVanish', { offset: log.tail[1] });
    const items = [...log.commits({ errors: 'yield' })];
    const bad = items.find((r) => !r.ok);
    expect(bad && !bad.ok && bad.error).toBeInstanceOf(TraversalIoError);
    expect(bad && !bad.ok && (bad.error.cause as Error)).toBeInstanceOf(NotFoundError);
    expect(cleanCommits(log, 'again').length).toBe(6);
  });

  it('junk appended to sealed segments changes nothing that is read', () => {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem, { seed: 5 });
    const log = GenericLog.open(faulty, { maxSegmentSize: 100 });
    for (let i = 0; i < 6; i++) {
      log.append(rec(50, i));
      log.commit();
    }
    for (const s of log.tail) faulty.grow(s);
    expect(cleanCommits(log, 'grown').length).toBe(6);
    log.close();
    const reopened = GenericLog.open(mem, { maxSegmentSize: 100 });
    expect(cleanCommits(reopened, 'reopened').length).toBe(6);
  });

  /**
   * One commit in segment 0 (synced), and with `emptyHead` a header-only segment 1 after it (QUIRK Q5:
   * nothing pending, but segment 0 is nearly full); then a crash that leaves `tail` in the newest one.
   */
  function crashedWith(tail: Uint8Array, emptyHead = false): MemoryRepo {
    const mem = new MemoryRepo();
    const faulty = new FaultyRepo(mem);
    const log = GenericLog.open(faulty, emptyHead ? { maxSegmentSize: 100 } : O);
    log.append(rec(emptyHead ? 60 : 30, 1));
    log.flushAndSync();
    if (emptyHead) log.commit();
    expect(log.existingSegmentOffsets()).toEqual(emptyHead ? [0, 1] : [0]);
    faulty.crash();
    faulty.grow(emptyHead ? 1 : 0, tail);
    return mem;
  }

  it('a zero-filled tail after the last commit ends the segment: open cuts it and resumes the segment (issue 7, not QUIRK Q1)', () => {
    // Preallocated space, or what a file system without ordered data may leave.
    const mem = crashedWith(new Uint8Array(64));
    const synced = mem.segments.get(0)!.bytes().slice(0, 10 + 26 + 30);
    const reopened = GenericLog.open(mem, O);
    expect(reopened.existingSegmentOffsets()).toEqual([0]);
    expect(mem.segments.get(0)!.bytes()).toEqual(synced);
    expect(cleanCommits(reopened, 'zero tail').length).toBe(1);
    checkAppendContinues(reopened, cleanCommits(reopened, 'zero tail'), 'zero tail');
  });

  it('zeros followed by anything else are still a corrupt commit: a new segment follows (QUIRK Q1, SPEC §6.5)', () => {
    const tail = new Uint8Array(64);
    tail[63] = 1;
    const mem = crashedWith(tail);
    const reopened = GenericLog.open(mem, O);
    expect(reopened.existingSegmentOffsets()).toEqual([0, 1]);
    expect(cleanCommits(reopened, 'zeros then data').length).toBe(1);
    checkAppendContinues(reopened, cleanCommits(reopened, 'zeros then data'), 'zeros then data');
  });

  it('a newest segment holding only zeros after its header is an empty tail segment: removed, the previous one resumed (issue 7)', () => {
    const mem = crashedWith(new Uint8Array(40), true);
    const reopened = GenericLog.open(mem, { maxSegmentSize: 100 });
    expect(reopened.existingSegmentOffsets()).toEqual([0]);
    expect(cleanCommits(reopened, 'zero head').length).toBe(1);
    checkAppendContinues(reopened, cleanCommits(reopened, 'zero head'), 'zero head');
  });

  it('a newest segment whose first commit is zeros followed by data refuses to open, changes nothing, and resetTo repairs it (SPEC §6.2)', () => {
    const garbage = new Uint8Array(40);
    garbage[39] = 7;
    const mem = crashedWith(garbage, true);
    const before = [...mem.segments].map(([o, b]) => [o, Buffer.from(b.bytes()).toString('hex')]);
    expect(() => GenericLog.open(mem, { maxSegmentSize: 100 })).toThrow(InvalidDataError);
    expect([...mem.segments].map(([o, b]) => [o, Buffer.from(b.bytes()).toString('hex')])).toEqual(before);
    resetRepoTo(mem, 0);
    const repaired = GenericLog.open(mem, { maxSegmentSize: 100 });
    expect(cleanCommits(repaired, 'repaired').length).toBe(1);
  });
});

describe('FaultyRepo(FsRepo): compressed segments', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('compressing every sealed segment while the head is empty leaves a log that opens (Q5 + #4863 + Q34)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    dirs.push(dir);
    const opts = { maxSegmentSize: 300 };
    const log = GenericLog.open(new FsRepo(dir), opts);
    for (let i = 0; i < 6; i++) {
      log.append(rec(65, i));
      log.commit(); // 91-byte commits, three per segment: 10 + 3 × 91 = 283 bytes
    }
    log.commit(); // QUIRK Q5: nothing pending, but 283 + 26 > 300: an empty head segment
    log.sync();
    expect(log.headWriter.isEmpty()).toBe(true);
    log.compressSegments(log.tail); // legal: the head is not among them
    log.close();
    // The empty head is removed on open (#4863), which leaves a compressed newest segment.
    const reopened = GenericLog.open(new FsRepo(dir), opts);
    expect(cleanCommits(reopened, 'reopened').length).toBe(6);
    checkAppendContinues(reopened, cleanCommits(reopened, 'reopened'), 'reopened');
    reopened.close();
  });

  it('resetTo at the end, over an empty head after a compressed segment, whose rewrite fails: the log still opens', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    dirs.push(dir);
    const opts = { maxSegmentSize: 300 };
    const faulty = new FaultyRepo(new FsRepo(dir));
    const log = GenericLog.open(faulty, opts);
    for (let i = 0; i < 6; i++) {
      log.append(rec(65, i));
      log.commit(); // three 91-byte commits per segment
    }
    log.commit(); // QUIRK Q5: an empty head segment at offset 6
    log.compressSegments(log.tail);
    const sealed = log.tail[log.tail.length - 1]!;
    faulty.arm('eioWrite', { offset: sealed }); // rewriting the compressed segment fails
    // Segment 6 holds no commit ≤ 6: it is removed, then segment 3 is to be cut — and cannot be rewritten.
    expect(() => log.resetTo(6)).toThrow(IoError);
    const reopened = GenericLog.open(new FsRepo(dir), opts);
    expect(cleanCommits(reopened, 'after failed resetTo').length).toBe(6);
    reopened.close();
  });

  it('resetTo into a compressed segment whose rewrite fails leaves a log that opens with everything up to the offset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    dirs.push(dir);
    const opts = { maxSegmentSize: 300 };
    const log = GenericLog.open(new FsRepo(dir), opts);
    for (let i = 0; i < 20; i++) {
      log.append(rec(40, i));
      log.commit();
    }
    log.flushAndSync();
    const target = log.tail[1]!;
    log.compressSegments(log.tail);
    log.close();
    const faulty = new FaultyRepo(new FsRepo(dir));
    faulty.arm('eioWrite', { offset: target }); // uncompressing the target segment fails (EIO, ENOSPC, or a crash)
    const l = GenericLog.open(faulty, opts);
    expect(() => l.resetTo(target + 1)).toThrow(IoError);
    const reopened = GenericLog.open(new FsRepo(dir), opts);
    const got = cleanCommits(reopened, 'after failed resetTo');
    expect(got.length).toBeGreaterThanOrEqual(target + 2);
    reopened.close();
  });
});
