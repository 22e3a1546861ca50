/**
 * rebuildIndexes (clog index rebuild): the regenerated files are byte-identical to what the writer
 * wrote with the same options (SPEC §3.3 entry rule, §3.1 size), and stale entries disappear.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commitsFrom, resetTo } from '../../../src/index.js';
import { rebuildIndexes, verifyLog } from '../../../src/api/ops.js';
import { flipBit, idxPath, indexEntries, segPath, tempDirs, writeLog } from './log-fixtures.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const fresh = tempDirs();

const SEGMENTS = [0, 13, 26, 39];

function snapshotIndexes(dir: string): Map<number, Buffer> {
  return new Map(SEGMENTS.map((s) => [s, fs.readFileSync(idxPath(dir, s))]));
}

describe('rebuildIndexes', () => {
  it('reproduces the writer’s index files byte for byte, with or without the old files', () => {
    const dir = fresh();
    writeLog(dir, { commits: 40, recordLen: 50, maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    const written = snapshotIndexes(dir);
    expect(SEGMENTS.map((s) => indexEntries(idxPath(dir, s)).length)).toEqual([3, 3, 3, 0]);

    // Old files present: their capacity is kept.
    const r = rebuildIndexes(dir, { offsetIndexIntervalBytes: 256 });
    expect(r.indexes.map((i) => [i.segment, i.capacity, i.stoppedEarly])).toEqual(SEGMENTS.map((s) => [s, 4, null]));
    expect(snapshotIndexes(dir)).toEqual(written);

    // No old files: the capacity comes from maxSegmentSize / interval.
    for (const s of SEGMENTS) fs.rmSync(idxPath(dir, s));
    rebuildIndexes(dir, { maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    expect(snapshotIndexes(dir)).toEqual(written);
  });

  it('drops stale entries left by resetTo (QUIRK Q15), after which the log verifies', () => {
    const dir = fresh();
    writeLog(dir, { commits: 40 });
    resetTo(dir, 0);
    expect(indexEntries(idxPath(dir, 0)).length).toBeGreaterThan(0);
    expect(verifyLog(dir).ok).toBe(false);
    const r = rebuildIndexes(dir, { offsetIndexIntervalBytes: 256 });
    // One commit at offset 0, which is never indexed (QUIRK Q12).
    expect(r.indexes).toEqual([{ segment: 0, entries: 0, capacity: 4, commits: 1, stoppedEarly: null }]);
    expect(indexEntries(idxPath(dir, 0))).toEqual([]);
    expect(verifyLog(dir).ok).toBe(true);
  });

  it('stops at a damaged commit, at a full index, and removes index files without a segment', () => {
    const dir = fresh();
    const places = writeLog(dir, { commits: 40 });
    flipBit(segPath(dir, 13), places[20]!.byteOffset + 30);
    fs.writeFileSync(idxPath(dir, 500), Buffer.alloc(16));
    const r = rebuildIndexes(dir, { maxSegmentSize: 512, offsetIndexIntervalBytes: 256 });
    const seg13 = r.indexes.find((i) => i.segment === 13)!;
    expect(seg13.commits).toBe(7);
    expect(seg13.stoppedEarly).toMatch(new RegExp(`^byte ${places[20]!.byteOffset}: `));
    for (const [key, value] of indexEntries(idxPath(dir, 13))) expect(value).toBe(places[key]!.byteOffset);
    // Capacity 512 / 256 = 2 entries; segment 0 wants 3 (keys 1, 4, 8).
    const seg0 = r.indexes.find((i) => i.segment === 0)!;
    expect(seg0).toMatchObject({ entries: 2, capacity: 2 });
    expect(seg0.stoppedEarly).toMatch(/full/);
    expect(r.removedOrphans).toEqual([500]);
    expect(fs.existsSync(idxPath(dir, 500))).toBe(false);
  });

  it('only the segments asked for; readers seek with the rebuilt index', () => {
    const dir = fresh();
    writeLog(dir, { commits: 40 });
    for (const s of SEGMENTS) fs.rmSync(idxPath(dir, s));
    const r = rebuildIndexes(dir, { segments: [26], maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    expect(r.indexes.map((i) => i.segment)).toEqual([26]);
    expect(fs.existsSync(idxPath(dir, 0))).toBe(false);
    expect(indexEntries(idxPath(dir, 26)).map(([k]) => k)).toEqual([26, 30, 34]);
    expect([...commitsFrom(dir, 31)].map((c) => c.minTxOffset)).toEqual([31, 32, 33, 34, 35, 36, 37, 38, 39]);
  });

  it('the v1.2 fixture gets one entry with the default interval: offset 1, as offset 0 is never indexed', () => {
    const dir = fresh();
    fs.cpSync(path.join(FIXTURES, 'spacetimedb-v1.2', 'clog'), dir, { recursive: true });
    const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'spacetimedb-v1.2', 'expected-commits.json'), 'utf8'));
    const r = rebuildIndexes(dir);
    // Default options: 1 GiB / 4096 entries.
    expect(r.indexes).toEqual([{ segment: 0, entries: 1, capacity: 262144, commits: 9, stoppedEarly: null }]);
    expect(indexEntries(idxPath(dir, 0))).toEqual([[1, expected.commits[1].byteOffset]]);
    expect(verifyLog(dir).ok).toBe(true);
  });
});
