/** pruneLog (clog prune): whole sealed segments ending before an offset; dry run by default; never the newest. */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, commits } from '../../../src/index.js';
import { pruneLog, verifyLog } from '../../../src/api/ops.js';
import { idxPath, segPath, tempLogs } from './log-fixtures.js';

const FRAME = 26 + 50;
const log40 = tempLogs(); // segments 0, 13, 26, 39

const segBytes = (dir: string, s: number): number => fs.statSync(segPath(dir, s)).size + fs.statSync(idxPath(dir, s)).size;

describe('pruneLog', () => {
  it('a dry run lists the segments that end before the offset and deletes nothing', () => {
    const dir = log40();
    const bytes = segBytes(dir, 0) + segBytes(dir, 13);
    const r = pruneLog(dir, 26);
    expect(r).toEqual({
      before: 26,
      executed: false,
      segments: [
        { segment: 0, end: 13, bytes: segBytes(dir, 0) },
        { segment: 13, end: 26, bytes: segBytes(dir, 13) },
      ],
      bytes,
      firstKeptSegment: 26,
      leavesEmpty: false,
    });
    for (const s of [0, 13, 26, 39]) expect(fs.existsSync(segPath(dir, s))).toBe(true);
  });

  it('executing deletes those segments and their index files; the rest reads and verifies', () => {
    const dir = log40();
    const r = pruneLog(dir, 30, { execute: true });
    expect(r.executed).toBe(true);
    expect(r.segments.map((s) => s.segment)).toEqual([0, 13]);
    for (const s of [0, 13]) {
      expect(fs.existsSync(segPath(dir, s))).toBe(false);
      expect(fs.existsSync(idxPath(dir, s))).toBe(false);
    }
    expect([...commits(dir)].map((c) => c.minTxOffset)).toEqual(Array.from({ length: 14 }, (_, i) => 26 + i));
    expect(verifyLog(dir)).toEqual({ ok: true, commits: 14, segments: 2, problems: [] });
  });

  it('a segment is kept while any of its offsets is ≥ before; the newest is never deleted', () => {
    const dir = log40();
    expect(pruneLog(dir, 25).segments.map((s) => s.segment)).toEqual([0]);
    expect(pruneLog(dir, 12).segments).toEqual([]);
    expect(pruneLog(dir, 0).segments).toEqual([]);
    const all = pruneLog(dir, Number.MAX_SAFE_INTEGER, { execute: true });
    expect(all.segments.map((s) => s.segment)).toEqual([0, 13, 26]);
    expect(all.firstKeptSegment).toBe(39);
    expect(fs.statSync(segPath(dir, 39)).size).toBe(10 + FRAME);
    expect(pruneLog(dir, Number.MAX_SAFE_INTEGER, { execute: true }).segments).toEqual([]);
  });

  it('rejects offsets that are not u64 values', () => {
    const dir = log40();
    expect(() => pruneLog(dir, -1)).toThrow();
    expect(() => pruneLog(dir, 1.5)).toThrow();
  });

  it('a prune that leaves no commit is flagged leavesEmpty and refused without allowEmpty (issue 17 §4)', () => {
    const dir = log40();
    // A newest segment with only its 10-byte header, as a writer leaves it right after rotating.
    fs.writeFileSync(segPath(dir, 40), fs.readFileSync(segPath(dir, 0)).subarray(0, 10));
    expect(pruneLog(dir, 40)).toMatchObject({ leavesEmpty: true, executed: false });
    expect(() => pruneLog(dir, 40, { execute: true })).toThrow(InvalidInputError);
    expect(fs.existsSync(segPath(dir, 0))).toBe(true);
    expect(pruneLog(dir, 39).leavesEmpty).toBe(false);
    const r = pruneLog(dir, 40, { execute: true, allowEmpty: true });
    expect(r.segments.map((s) => s.segment)).toEqual([0, 13, 26, 39]);
    expect([...commits(dir)]).toEqual([]);
  });
});
