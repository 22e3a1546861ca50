/** planResetTo / resetLog (clog reset-to): the plan predicts what resetTo (SPEC §8.2) does, and changes nothing itself. */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, commits, existingSegmentOffsets } from '../../../src/index.js';
import { compressLog, planResetTo, pruneLog, resetLog } from '../../../src/api/ops.js';
import { flipBit, segPath, tempDirs, tempLogs, writeMultiRecordLog } from './log-fixtures.js';

const FRAME = 26 + 50;
const log40 = tempLogs(); // segments 0, 13, 26, 39
const fresh = tempDirs();

function snapshot(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(`${dir}/${n}`)]));
}

describe('planResetTo and resetLog', () => {
  it('removes later segments and cuts the one holding the offset at a commit boundary', () => {
    const dir = log40();
    const before = snapshot(dir);
    const plan = planResetTo(dir, 20);
    expect(plan).toEqual({
      offset: 20,
      removeSegments: [39, 26],
      truncate: { segment: 13, size: 10 + 13 * FRAME, newSize: 10 + 8 * FRAME, compressed: false },
      maxOffsetBefore: 39,
      maxOffsetAfter: 20,
      changes: true,
      leavesEmpty: false,
      damage: null,
    });
    expect(snapshot(dir)).toEqual(before);
    const done = resetLog(dir, 20);
    expect(done).toEqual(plan);
    expect(existingSegmentOffsets(dir)).toEqual([0, 13]);
    expect(fs.statSync(segPath(dir, 13)).size).toBe(10 + 8 * FRAME);
    expect([...commits(dir)].map((c) => c.minTxOffset)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it('at the last offset of a segment nothing is cut; at or past the end nothing changes', () => {
    const dir = log40();
    expect(planResetTo(dir, 12)).toMatchObject({ removeSegments: [39, 26, 13], truncate: null, maxOffsetAfter: 12, changes: true });
    expect(planResetTo(dir, 39)).toMatchObject({ removeSegments: [], truncate: null, maxOffsetAfter: 39, changes: false });
    const before = snapshot(dir);
    expect(resetLog(dir, 1000).changes).toBe(false);
    expect(snapshot(dir)).toEqual(before);
  });

  it('keeps the whole commit holding the offset', () => {
    const dir = fresh();
    writeMultiRecordLog(dir);
    // Commits [0,3) [3,6) [6,9) [9,12) of 3 two-byte records: 26 + 6 bytes each.
    const r = resetLog(dir, 4);
    expect(r).toMatchObject({ truncate: { segment: 0, newSize: 10 + 2 * 32 }, maxOffsetBefore: 11, maxOffsetAfter: 5 });
    expect(fs.statSync(segPath(dir, 0)).size).toBe(10 + 2 * 32);
  });

  it('a compressed segment is cut after being rewritten uncompressed (Q18 FIX)', () => {
    const dir = log40();
    compressLog(dir);
    const plan = planResetTo(dir, 5);
    expect(plan.truncate).toEqual({ segment: 0, size: 10 + 13 * FRAME, newSize: 10 + 6 * FRAME, compressed: true });
    resetLog(dir, 5);
    const b = fs.readFileSync(segPath(dir, 0));
    expect(b.length).toBe(10 + 6 * FRAME);
    expect([...b.subarray(0, 6)]).toEqual([0x28, 0x64, 0x73, 0x29, 0x5e, 0x32]);
    expect([...commits(dir)].map((c) => c.minTxOffset)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('names the damage the walk met', () => {
    const dir = log40();
    fs.truncateSync(segPath(dir, 39), 10 + 30);
    const plan = planResetTo(dir, 39);
    expect(plan.maxOffsetBefore).toBe(38);
    // Segment 39 holds no readable commit: it goes, and nothing of segment 26 (commits 26..38) is cut.
    expect(plan).toMatchObject({ removeSegments: [39], truncate: null, maxOffsetAfter: 38, changes: true });
    expect(plan.damage).toMatch(/^segment 39 byte 10: /);
  });

  it('starts where resetTo starts: from the index entry below the offset, so earlier damage does not matter', () => {
    const dir = log40();
    // Segment 0's index has entries for offsets 1, 4 and 8 (SPEC §3.3 with 76-byte commits, interval 256).
    flipBit(segPath(dir, 0), 10 + 2 * FRAME + 30); // commit 2
    const plan = planResetTo(dir, 10);
    expect(plan).toMatchObject({ truncate: { segment: 0, newSize: 10 + 11 * FRAME }, maxOffsetAfter: 10, damage: null });
    expect(resetLog(dir, 10).changes).toBe(true);
    expect(fs.statSync(segPath(dir, 0)).size).toBe(10 + 11 * FRAME);

    flipBit(segPath(dir, 0), 10 + 10 * FRAME + 30); // commit 10, read when looking for the end of commit 9
    expect(planResetTo(dir, 9).damage).toMatch(new RegExp(`^segment 0 byte ${10 + 10 * FRAME}: `));
  });

  it('a reset that removes every commit is flagged leavesEmpty and refused without allowEmpty (issue 17 §4)', () => {
    const dir = log40();
    pruneLog(dir, 26, { execute: true }); // the log now starts at 26
    const plan = planResetTo(dir, 5);
    expect(plan).toMatchObject({ removeSegments: [39, 26], truncate: null, maxOffsetAfter: null, leavesEmpty: true });
    const before = snapshot(dir);
    expect(() => resetLog(dir, 5)).toThrow(InvalidInputError);
    expect(snapshot(dir)).toEqual(before);
    expect(resetLog(dir, 5, { allowEmpty: true }).maxOffsetAfter).toBeNull();
    expect(existingSegmentOffsets(dir)).toEqual([]);
    // A reset that keeps a commit is not leavesEmpty.
    expect(planResetTo(log40(), 0).leavesEmpty).toBe(false);
  });
});
