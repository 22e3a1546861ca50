/** compressLog (clog compress): sealed segments become seekable zstd, the newest n stay plain, reads are unchanged. */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FsRepo, InvalidInputError, commits } from '../../../src/index.js';
import { compressLog, verifyLog } from '../../../src/api/ops.js';
import { flipBit, segPath, tempLogs } from './log-fixtures.js';

const log40 = tempLogs(); // segments 0, 13, 26, 39

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const isZstd = (file: string): boolean => [...fs.readFileSync(file).subarray(0, 4)].every((b, i) => b === ZSTD_MAGIC[i]);

describe('compressLog', () => {
  it('compresses every segment but the newest; commits read back identically; a second run skips them', () => {
    const dir = log40();
    const before = [...commits(dir)];
    const sizes = [0, 13, 26, 39].map((s) => fs.statSync(segPath(dir, s)).size);
    const r = compressLog(dir);
    expect(r.segments.map((s) => [s.segment, s.skipped])).toEqual([
      [0, null],
      [13, null],
      [26, null],
      [39, 'kept'],
    ]);
    expect([0, 13, 26].map((s) => isZstd(segPath(dir, s)))).toEqual([true, true, true]);
    expect(isZstd(segPath(dir, 39))).toBe(false);
    const after = [0, 13, 26].map((s) => fs.statSync(segPath(dir, s)).size);
    expect(r.segments.slice(0, 3).map((s) => [s.before, s.after])).toEqual(after.map((a, i) => [sizes[i], a]));
    expect(r).toMatchObject({ compressed: 3, bytesBefore: sizes[0]! + sizes[1]! + sizes[2]! });
    expect(r.saved).toBe(r.bytesBefore - r.bytesAfter);
    expect(r.saved).toBeGreaterThan(0);
    expect([...commits(dir)]).toEqual(before);
    expect(verifyLog(dir)).toEqual({ ok: true, commits: 40, segments: 4, problems: [] });

    const again = compressLog(dir);
    expect(again.compressed).toBe(0);
    expect(again.segments.map((s) => s.skipped)).toEqual(['already-compressed', 'already-compressed', 'already-compressed', 'kept']);
  });

  it('--keep-last n keeps the newest n plain; a dry run changes nothing; n < 1 is refused', () => {
    const dir = log40();
    const dry = compressLog(dir, { keepLast: 2, dryRun: true });
    expect(dry.segments.filter((s) => s.skipped === null).map((s) => s.segment)).toEqual([0, 13]);
    expect([0, 13, 26, 39].some((s) => isZstd(segPath(dir, s)))).toBe(false);
    compressLog(dir, { keepLast: 3 });
    expect([0, 13, 26, 39].map((s) => new FsRepo(dir).isCompressed(s))).toEqual([true, false, false, false]);
    expect(() => compressLog(dir, { keepLast: 0 })).toThrow(InvalidInputError);
  });

  it('damage in a compressed segment is found by verify: in a frame (checksum), in the seek table (segment-header)', () => {
    const dir = log40();
    compressLog(dir);
    flipBit(segPath(dir, 13), 40, 3);
    const frame = verifyLog(dir, { continue: true });
    expect(frame.ok).toBe(false);
    expect(frame.problems[0]).toMatchObject({ kind: 'checksum', segment: 13 });

    // The frame count in the seek table footer (9 bytes from the end, SPEC §9.4).
    const f = segPath(dir, 26);
    flipBit(f, fs.statSync(f).size - 9, 0);
    const table = verifyLog(dir, { continue: true });
    expect(table.problems.filter((p) => p.segment === 26)).toEqual([
      expect.objectContaining({ kind: 'segment-header', segment: 26, byteOffset: 0 }),
    ]);
  });
});
