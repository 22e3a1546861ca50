/**
 * Issue 16 §2: opening a log tells bit rot (a damaged commit with intact commits after it) from a
 * torn tail. Bit rot is refused with DamagedCommitError and no byte changes; a torn tail is cut as
 * in 1.3.0. Real files (FsRepo).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DamagedCommitError, FsRepo, GenericLog, resetTo } from '../../src/index.js';
import { segmentFileName } from '../../src/repo/repo.js';
import { logDirNames, thrown, useTmpDirs } from '../helpers/common.js';
import { fillLog, txOffsets } from '../helpers/log-helpers.js';

const tmp = useTmpDirs('clog-bitrot-');

/** `commits` commits of one 32-byte record each in one segment: 10 + 58 × commits bytes. */
const COMMIT = 26 + 32;
function writeLog(commits: number): string {
  const dir = tmp();
  const log = GenericLog.open(new FsRepo(dir));
  fillLog(log, commits, [1]);
  log.close();
  return dir;
}

/** Name → SHA-256 of every file (the 4 MiB index included), cheap to compare. */
function snapshot(dir: string): Map<string, string> {
  return new Map(logDirNames(dir).map((n) => [n, createHash('sha256').update(fs.readFileSync(path.join(dir, n))).digest('hex')]));
}

function flip(dir: string, pos: number, mask: number): void {
  const p = path.join(dir, segmentFileName(0));
  const b = fs.readFileSync(p);
  b[pos]! ^= mask;
  fs.writeFileSync(p, b);
}

function open(dir: string): GenericLog {
  return GenericLog.open(new FsRepo(dir));
}

describe('open: bit rot is refused, torn tails are cut', () => {
  it('a flipped record bit mid-segment: DamagedCommitError naming segment, byte, offset, intact count; no byte changed', () => {
    const dir = writeLog(10);
    flip(dir, 10 + 3 * COMMIT + 22 + 5, 0x10);
    const before = snapshot(dir);
    const e = thrown(() => open(dir));
    expect(e).toBeInstanceOf(DamagedCommitError);
    const d = e as DamagedCommitError;
    expect(d.code).toBe('DAMAGED_COMMIT');
    expect([d.segment, d.position, d.offset, d.intactAfter, d.nextIntactOffset]).toEqual([0, 10 + 3 * COMMIT, 3, 6, 4]);
    expect(d.message).toContain(`clog reset-to ${dir} 2 --yes`);
    expect(snapshot(dir)).toEqual(before);
    // Refused twice the same way: nothing was repaired behind the operator's back.
    expect(thrown(() => open(dir))).toBeInstanceOf(DamagedCommitError);
    expect(snapshot(dir)).toEqual(before);
  });

  it('the way forward named in the message works: reset-to the offset before the damage, then open', () => {
    const dir = writeLog(10);
    flip(dir, 10 + 3 * COMMIT + 30, 0x01);
    const d = thrown(() => open(dir)) as DamagedCommitError;
    resetTo(dir, d.offset - 1);
    const log = open(dir);
    expect(txOffsets(log)).toEqual([0, 1, 2]);
    log.close();
  });

  it('a damaged last commit is a torn tail: cut as in 1.3.0', () => {
    const dir = writeLog(10);
    flip(dir, 10 + 9 * COMMIT + 40, 0x04);
    const log = open(dir);
    // 1.3.0's resume rule: the next commit is written at the damaged offset, in a new segment.
    expect(log.maxCommittedOffset()).toBe(8);
    log.close();
  });

  it('a tail cut mid-commit is still cut', () => {
    const dir = writeLog(10);
    const p = path.join(dir, segmentFileName(0));
    fs.truncateSync(p, 10 + 9 * COMMIT + 30);
    const log = open(dir);
    // 1.3.0's resume rule: the next commit is written at the damaged offset, in a new segment.
    expect(log.maxCommittedOffset()).toBe(8);
    log.close();
  });

  it('every byte of every commit but the last, flipped: open refuses and changes nothing', () => {
    const pristine = writeLog(5);
    const bytes = fs.readFileSync(path.join(pristine, segmentFileName(0)));
    const dir = tmp();
    for (let pos = 10; pos < 10 + 4 * COMMIT; pos++) {
      for (const n of logDirNames(dir)) fs.rmSync(path.join(dir, n));
      const b = Buffer.from(bytes);
      b[pos]! ^= 1 << pos % 8;
      fs.writeFileSync(path.join(dir, segmentFileName(0)), b);
      const before = snapshot(dir);
      const e = thrown(() => open(dir)) as { code?: string } | null;
      // A flipped offset field is an out-of-order commit (INVALID_DATA); every other flip is bit rot.
      expect(e?.code, `byte ${pos}`).toMatch(/^(DAMAGED_COMMIT|INVALID_DATA)$/);
      expect(snapshot(dir), `byte ${pos}`).toEqual(before);
    }
  });
});
