/** logInfo (clog info): per-segment sizes, offsets, epochs, version, compression and index coverage. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compressLog, logInfo } from '../../../src/api/ops.js';
import { flipBit, idxPath, indexEntries, segPath, tempDirs, writeLog } from './log-fixtures.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
const FRAME = 26 + 50;
const fresh = tempDirs();

/** Disk blocks of the log's files, bytes (what `allocated` must report). */
function allocatedBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.stdb\.(log|ofs)$/.test(f))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).blocks * 512, 0);
}

describe('logInfo', () => {
  it('describes every segment of a generated log', () => {
    const dir = fresh();
    writeLog(dir, { commits: 40, epochs: [[20, 3]] });
    const info = logInfo(dir);
    expect(info.segments.map((s) => s.segment)).toEqual([0, 13, 26, 39]);
    for (const s of info.segments) {
      const commits = s.segment === 39 ? 1 : 13;
      const size = 10 + commits * FRAME;
      expect(s).toMatchObject({
        file: path.basename(segPath(dir, s.segment)),
        bytes: size,
        size,
        compressed: false,
        version: 1,
        checksumAlgorithm: 0,
        commits,
        minTxOffset: s.segment,
        maxTxOffset: s.segment + commits - 1,
        error: null,
      });
      const entries = indexEntries(idxPath(dir, s.segment));
      const last = entries[entries.length - 1];
      expect(s.index).toMatchObject({
        bytes: fs.statSync(idxPath(dir, s.segment)).size,
        capacity: Math.floor(1024 / 256),
        entries: entries.length,
        lastKey: last ? last[0] : null,
        lastByteOffset: last ? last[1] : null,
      });
      expect(s.index!.coverage).toBeCloseTo(last ? last[1] / size : 0, 3);
    }
    // Epoch 3 from commit 20 on: segment 13 holds 13..25.
    expect(info.segments.map((s) => [s.minEpoch, s.maxEpoch])).toEqual([
      [0, 0],
      [0, 3],
      [3, 3],
      [3, 3],
    ]);
    const indexBytes = info.segments.reduce((n, s) => n + s.index!.bytes, 0);
    expect(info.totals).toEqual({
      segments: 4,
      compressedSegments: 0,
      bytes: 3 * (10 + 13 * FRAME) + 10 + FRAME + indexBytes,
      allocated: allocatedBytes(dir),
      size: 3 * (10 + 13 * FRAME) + 10 + FRAME,
      commits: 40,
      minTxOffset: 0,
      maxTxOffset: 39,
      maxEpoch: 3,
    });
  });

  it('shows compressed segments with their decompressed size', () => {
    const dir = fresh();
    writeLog(dir, { commits: 40 });
    compressLog(dir);
    const info = logInfo(dir);
    expect(info.segments.map((s) => s.compressed)).toEqual([true, true, true, false]);
    for (const s of info.segments.slice(0, 3)) {
      expect(s.size).toBe(10 + 13 * FRAME);
      expect(s.bytes).toBe(fs.statSync(segPath(dir, s.segment)).size);
      expect(s.bytes).toBeLessThan(s.size);
      expect(s.commits).toBe(13);
    }
    expect(info.totals.compressedSegments).toBe(3);
  });

  it('describes a damaged segment up to the damage', () => {
    const dir = fresh();
    writeLog(dir, { commits: 40 });
    flipBit(segPath(dir, 13), 10 + 4 * FRAME + 30);
    const s = logInfo(dir).segments[1]!;
    expect(s.commits).toBe(4);
    expect(s.maxTxOffset).toBe(16);
    expect(s.error).toMatch(new RegExp(`^byte ${10 + 4 * FRAME}: `));
  });

  it('reads the SpacetimeDB fixtures (no index files)', () => {
    for (const name of ['spacetimedb-v1.2', 'spacetimedb-v2.6']) {
      const dir = path.join(FIXTURES, name, 'clog');
      const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'expected-commits.json'), 'utf8')) as {
        commits: Array<{ minTxOffset: number; n: number }>;
      };
      const info = logInfo(dir);
      const last = expected.commits[expected.commits.length - 1]!;
      expect(info.segments).toHaveLength(1);
      expect(info.segments[0]).toMatchObject({
        segment: 0,
        version: 1,
        compressed: false,
        commits: expected.commits.length,
        minTxOffset: 0,
        maxTxOffset: last.minTxOffset + last.n - 1,
        index: null,
        error: null,
      });
    }
  });
});
