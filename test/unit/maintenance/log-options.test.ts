/**
 * sourceLogOptions (issue 17 §5): the index options a log was written with, derived from its index
 * files, for byte-identical mirrors. Logs are written here with known options; the derivation must
 * find values that give the same index files (capacity and entries), and say where each came from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Commitlog, NotFoundError, StreamWriter, existingSegmentOffsets, streamCommits } from '../../../src/index.js';
import { sourceLogOptions } from '../../../src/api/ops.js';
import { idxPath, tempDirs } from './log-fixtures.js';

const fresh = tempDirs();

function write(dir: string, maxSegmentSize: number, offsetIndexIntervalBytes: number, commits: number, seed = 1): void {
  const log = Commitlog.open(dir, { maxSegmentSize, offsetIndexIntervalBytes });
  for (let i = 0; i < commits; i++) {
    // Commit sizes vary (40..540 bytes) so that entry spacing pins the interval down.
    log.append(new Uint8Array(40 + ((i * 37 + seed * 11) % 500)).fill(i & 0xff));
    if (i % 2 === 1) log.flush();
  }
  log.flushAndSync();
  log.close();
}

/** A copy through StreamWriter with the derived options, compared index file by index file. */
async function expectSameIndexes(src: string, options: { maxSegmentSize: number; offsetIndexIntervalBytes: number }): Promise<void> {
  const dst = fresh();
  const w = StreamWriter.create(dst, options);
  await w.appendAll(streamCommits(src, { start: 0 }));
  await w.syncAll();
  await w.close();
  for (const o of existingSegmentOffsets(src)) {
    expect(fs.readFileSync(idxPath(dst, o)).equals(fs.readFileSync(idxPath(src, o))), `index ${o}`).toBe(true);
  }
}

describe('sourceLogOptions', () => {
  for (const [mss, interval] of [
    [64 * 1024, 1000],
    [256 * 1024, 8192],
    [1024 * 1024, 4096],
    [100 * 1024, 3000],
  ] as const) {
    it(`finds options giving identical index files for maxSegmentSize ${mss}, interval ${interval}`, async () => {
      const dir = fresh();
      write(dir, mss, interval, 3000);
      const o = sourceLogOptions(dir);
      const capacity = Math.floor(mss / interval);
      expect(o.offsetIndexBytes).toBe(capacity * 16);
      expect(o.from).toEqual({ maxSegmentSize: 'index', offsetIndexIntervalBytes: 'index' });
      expect(Math.floor(o.maxSegmentSize / o.offsetIndexIntervalBytes)).toBe(capacity);
      await expectSameIndexes(dir, o);
    });
  }

  it('round values are found exactly', () => {
    const dir = fresh();
    write(dir, 64 * 1024, 1000, 3000);
    expect(sourceLogOptions(dir)).toMatchObject({ offsetIndexIntervalBytes: 1000, maxSegmentSize: 65 * 1000 });
  });

  it('given values win and are marked given', () => {
    const dir = fresh();
    write(dir, 64 * 1024, 1000, 1000);
    const o = sourceLogOptions(dir, { maxSegmentSize: 64 * 1024, offsetIndexIntervalBytes: 1000 });
    expect(o).toEqual({
      maxSegmentSize: 64 * 1024,
      offsetIndexIntervalBytes: 1000,
      offsetIndexBytes: 65 * 16,
      from: { maxSegmentSize: 'given', offsetIndexIntervalBytes: 'given' },
    });
  });

  it('a log without index files: the defaults, marked default', () => {
    const dir = fresh();
    write(dir, 64 * 1024, 1000, 200);
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.stdb.ofs')) fs.rmSync(path.join(dir, f));
    expect(sourceLogOptions(dir)).toEqual({
      maxSegmentSize: 1024 * 1024 * 1024,
      offsetIndexIntervalBytes: 4096,
      offsetIndexBytes: null,
      from: { maxSegmentSize: 'default', offsetIndexIntervalBytes: 'default' },
    });
  });

  it('an empty directory gives the defaults; a missing one is NotFoundError and is not created', () => {
    expect(sourceLogOptions(fresh()).from).toEqual({ maxSegmentSize: 'default', offsetIndexIntervalBytes: 'default' });
    const missing = path.join(fresh(), 'missing');
    expect(() => sourceLogOptions(missing)).toThrow(NotFoundError);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
