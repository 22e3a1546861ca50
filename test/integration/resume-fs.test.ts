/**
 * Resume and repair on a real directory (SPEC §6, §13.10 X1, X2, X11, X15) and the segment listing
 * quirks of §2.1 (Q36).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Commitlog,
  InvalidDataError,
  NotFoundError,
  TraversalIoError,
  commits,
  existingSegmentOffsets,
  rawDecoder,
  type Options,
} from '../../src/index.js';
import { logDirNames, useTmpDirs } from '../helpers/common.js';

const HEADER = Uint8Array.from([0x28, 0x64, 0x73, 0x29, 0x5e, 0x32, 0x01, 0x00, 0x00, 0x00]); // SPEC A.1
const COMMIT_LEN = 26 + 256;

const tmpDir = useTmpDirs('clog-');

const stem = (o: number): string => String(o).padStart(20, '0');
const segPath = (dir: string, o: number): string => path.join(dir, `${stem(o)}.stdb.log`);
const ofsPath = (dir: string, o: number): string => path.join(dir, `${stem(o)}.stdb.ofs`);

/**
 * Writes `count` commits of one random 256-byte record. X1/X2 fsync every commit; here each commit is
 * flushed and the segment fsynced once at the end: the same bytes, without 1024 fsyncs (seconds on a
 * loaded disk).
 */
function writeCommits(dir: string, options: Partial<Options>, count: number): void {
  const log = Commitlog.open(dir, options);
  for (let i = 0; i < count; i++) {
    log.appendMaybeFlush(randomBytes(256));
    log.flush();
  }
  log.sync();
  log.close();
}

function okOffsets(dir: string): number[] {
  const offsets: number[] = [];
  for (const r of commits(dir, { errors: 'yield' })) {
    if (!r.ok) throw r.error;
    offsets.push(r.value.minTxOffset);
  }
  return offsets;
}

describe('X1 resume with small trailing garbage (ADOPT-UPSTREAM #5116)', () => {
  it('cuts 21 junk bytes on open and keeps every later commit readable', () => {
    const dir = tmpDir();
    writeCommits(dir, {}, 1024);
    const size = 10 + 1024 * COMMIT_LEN;
    expect(fs.statSync(segPath(dir, 0)).size).toBe(size);
    fs.appendFileSync(segPath(dir, 0), Buffer.alloc(21, 0x43));

    const log = Commitlog.open(dir);
    expect(fs.statSync(segPath(dir, 0)).size).toBe(size);
    expect(log.existingSegmentOffsets()).toEqual([0]);
    expect(log.maxCommittedOffset()).toBe(1023);
    for (let i = 0; i < 1024; i++) {
      log.appendMaybeFlush(randomBytes(256));
      log.flush();
    }
    log.sync();
    log.close();

    const results = [...commits(dir, { errors: 'yield' })];
    expect(results.length).toBe(2048);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => (r.ok ? r.value.minTxOffset : -1))).toEqual([...Array(2048).keys()]);
    expect(fs.statSync(segPath(dir, 0)).size).toBe(10 + 2048 * COMMIT_LEN);
  });

  it('any tail of 1..21 bytes is cut back to the last commit', () => {
    const dir = tmpDir();
    writeCommits(dir, {}, 3);
    const size = 10 + 3 * COMMIT_LEN;
    for (let k = 1; k <= 21; k++) {
      fs.appendFileSync(segPath(dir, 0), randomBytes(k));
      const log = Commitlog.open(dir);
      expect(fs.statSync(segPath(dir, 0)).size).toBe(size);
      expect(log.maxCommittedOffset()).toBe(2);
      log.close();
    }
    expect(okOffsets(dir)).toEqual([0, 1, 2]);
  });
});

describe('X2 resume with an emptied last segment (ADOPT-UPSTREAM #4863)', () => {
  it('each reopen removes the emptied segment; at the end a fresh segment 0 remains', () => {
    const dir = tmpDir();
    writeCommits(dir, { maxSegmentSize: 65536 }, 1024);
    // 10 + 232 × 282 = 65434 ≤ 65536 < 65716: 232 commits per segment.
    let list = existingSegmentOffsets(dir);
    expect(list).toEqual([0, 232, 464, 696, 928]);

    while (list.length > 0) {
      const last = list[list.length - 1]!;
      fs.truncateSync(segPath(dir, last), 0);
      const log = Commitlog.open(dir, { maxSegmentSize: 65536 });
      const rest = list.slice(0, -1);
      if (rest.length > 0) {
        expect(log.existingSegmentOffsets()).toEqual(rest);
        expect(log.maxCommittedOffset()).toBe(last - 1);
        expect(fs.existsSync(ofsPath(dir, last))).toBe(false);
      } else {
        expect(log.existingSegmentOffsets()).toEqual([0]);
        expect(log.maxCommittedOffset()).toBeNull();
        expect(log.epoch).toBe(0);
        expect(new Uint8Array(fs.readFileSync(segPath(dir, 0)))).toEqual(HEADER);
      }
      log.close();
      list = rest;
    }
    expect(existingSegmentOffsets(dir)).toEqual([0]);
  });
});

describe('X11 offset 0 is never indexed (streaming source log)', () => {
  it('writes the index entries of §13.9 / X11', () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir, {
      maxSegmentSize: 8192,
      maxRecordsInCommit: 1,
      offsetIndexIntervalBytes: 256,
      offsetIndexRequireSegmentFsync: false,
    });
    for (let i = 0; i < 100; i++) log.appendMaybeFlush(randomBytes(256));
    expect(log.flushAndSync()).toBe(99);
    log.close();
    expect(existingSegmentOffsets(dir)).toEqual([0, 29, 58, 87]);

    // Every commit is 282 ≥ 256 bytes, so each one is indexed as soon as written, except offset 0.
    const expectedKeys: Record<number, number[]> = {
      0: range(1, 29),
      29: range(29, 58),
      58: range(58, 87),
      87: range(87, 100),
    };
    for (const [seg, keys] of Object.entries(expectedKeys)) {
      const s = Number(seg);
      const expected = Buffer.alloc(512); // capacity 8192 / 256 = 32 entries
      keys.forEach((k, i) => {
        expected.writeBigUInt64LE(BigInt(k), i * 16);
        expected.writeBigUInt64LE(BigInt(10 + COMMIT_LEN * (k - s)), i * 16 + 8);
      });
      expect(fs.readFileSync(ofsPath(dir, s)).equals(expected)).toBe(true);
    }
  });
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

describe('X15 empty commits in the write sequence (Q5)', () => {
  // Header + {min 0, epoch 0, n 1, len 20} + 20 zero bytes + CRC 6e a8 71 26 (SPEC X15).
  const segment0 = Buffer.concat([
    HEADER,
    Buffer.alloc(16),
    Buffer.from([0x01, 0x00, 0x14, 0x00, 0x00, 0x00]),
    Buffer.alloc(20),
    Buffer.from([0x6e, 0xa8, 0x71, 0x26]),
  ]);
  const opts = { maxSegmentSize: 64, offsetIndexIntervalBytes: 16 };

  function expectFourFiles(dir: string): void {
    expect(logDirNames(dir).sort()).toEqual([
      `${stem(0)}.stdb.log`,
      `${stem(0)}.stdb.ofs`,
      `${stem(1)}.stdb.log`,
      `${stem(1)}.stdb.ofs`,
    ]);
    expect(segment0.length).toBe(56);
    expect(fs.readFileSync(segPath(dir, 0)).equals(segment0)).toBe(true);
    expect(fs.readFileSync(ofsPath(dir, 0)).equals(Buffer.alloc(64))).toBe(true);
    expect(new Uint8Array(fs.readFileSync(segPath(dir, 1)))).toEqual(HEADER);
    expect(fs.readFileSync(ofsPath(dir, 1)).equals(Buffer.alloc(64))).toBe(true);
  }

  it('flush, then flushAndSync with nothing pending rotates to a header-only segment 1', () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir, opts);
    expect(log.append(new Uint8Array(20))).toBe(true);
    expect(log.flush()).toBe(0);
    expect(log.flushAndSync()).toBe(0);
    log.close();
    expectFourFiles(dir);
  });

  it('variant: setEpoch(1) rotates, and flushAndSync then finds an empty head', () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir, opts);
    expect(log.append(new Uint8Array(20))).toBe(true);
    expect(log.flush()).toBe(0);
    expect(log.setEpoch(1)).toBe(0);
    expect(log.flushAndSync()).toBe(0);
    log.close();
    expectFourFiles(dir);
  });

  it('a flush() with no record appended writes nothing', () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir, opts);
    expect(log.flush()).toBeNull();
    expect(log.flushAndSync()).toBeNull();
    log.close();
    expect(logDirNames(dir).sort()).toEqual([`${stem(0)}.stdb.log`, `${stem(0)}.stdb.ofs`]);
    expect(new Uint8Array(fs.readFileSync(segPath(dir, 0)))).toEqual(HEADER);
  });
});

describe('segment listing quirks (Q36, §2.1)', () => {
  function touch(dir: string, name: string, data: Uint8Array = HEADER): void {
    fs.writeFileSync(path.join(dir, name), data);
  }

  it('accepts +N, unpadded, over-padded and duplicate names; ignores everything else', () => {
    const dir = tmpDir();
    touch(dir, '5.stdb.log');
    touch(dir, '+7.stdb.log');
    touch(dir, `${stem(5)}.stdb.log`);
    touch(dir, `${stem(3)}.stdb.log`);
    touch(dir, '0000000000000000000000011.stdb.log'); // 25 digits, still 11
    touch(dir, '18446744073709551616.stdb.log'); // 2^64: not a u64, skipped
    for (const junk of ['notes.txt', `${stem(9)}.stdb.ofs`, 'abc.stdb.log', '-1.stdb.log', '1e3.stdb.log', ' 4.stdb.log',
      '4.stdb.log.bak', '4.STDB.LOG', '.stdb.log', '++4.stdb.log', '0x10.stdb.log', '.tmpabc123']) {
      touch(dir, junk);
    }
    fs.mkdirSync(path.join(dir, `${stem(13)}.stdb.log`)); // a directory is not a regular file
    expect(existingSegmentOffsets(dir)).toEqual([3, 5, 5, 7, 11]);
  });

  it('ignores symlinked segments (not followed)', () => {
    const dir = tmpDir();
    const elsewhere = tmpDir();
    touch(dir, `${stem(0)}.stdb.log`);
    touch(elsewhere, `${stem(20)}.stdb.log`);
    fs.symlinkSync(path.join(elsewhere, `${stem(20)}.stdb.log`), segPath(dir, 20));
    fs.symlinkSync(segPath(dir, 0), segPath(dir, 30));
    expect(existingSegmentOffsets(dir)).toEqual([0]);
  });

  it('only the 20-digit name is opened: traversal of `5.stdb.log` fails, not silently reads another file', () => {
    const dir = tmpDir();
    touch(dir, '5.stdb.log');
    const results = [...commits(dir, { errors: 'yield' })];
    expect(results.length).toBe(1);
    const r = results[0]!;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(TraversalIoError);
      expect(r.error.cause).toBeInstanceOf(NotFoundError);
    }
  });

  it('a segment named above Number.MAX_SAFE_INTEGER is a typed error, never a rounded offset', () => {
    for (const name of ['9007199254740992.stdb.log', '18446744073709551615.stdb.log', '+9007199254740993.stdb.log']) {
      const dir = tmpDir();
      touch(dir, `${stem(0)}.stdb.log`);
      touch(dir, name);
      let err: unknown;
      try {
        existingSegmentOffsets(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidDataError);
      expect((err as Error).message).toContain(name);
      expect(() => Commitlog.open(dir)).toThrow(InvalidDataError);
      expect(() => [...commits(dir)]).toThrow(InvalidDataError);
      // Nothing was modified or created by the failed open.
      expect(logDirNames(dir).sort()).toEqual([`${stem(0)}.stdb.log`, name].sort());
    }
  });

  it('Commitlog.open resumes from the listed segments only', () => {
    const dir = tmpDir();
    writeCommits(dir, {}, 2);
    fs.writeFileSync(path.join(dir, 'README'), 'not a segment');
    const log = Commitlog.open(dir);
    expect(log.maxCommittedOffset()).toBe(1);
    expect([...log.transactions(rawDecoder)].length).toBe(2);
    log.close();
  });
});
