/** The maintenance operations that write take the single-writer lock (SPEC §11A); the read-only ones never do. */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Commitlog, LockedError } from '../../../src/index.js';
import {
  compressLog,
  logInfo,
  planResetTo,
  pruneLog,
  rebuildIndexes,
  resetLog,
  verifyLog,
} from '../../../src/api/ops.js';
import { tempLogs } from './log-fixtures.js';

const log40 = tempLogs(); // segments 0, 13, 26, 39

describe('maintenance under a live writer', () => {
  it('compress, prune --yes, index rebuild and reset-to are refused with LockedError and change nothing', () => {
    const dir = log40();
    const writer = Commitlog.open(dir, { maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    try {
      const before = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(`${dir}/${n}`)]));
      expect(() => compressLog(dir)).toThrow(LockedError);
      expect(() => pruneLog(dir, 30, { execute: true })).toThrow(LockedError);
      expect(() => rebuildIndexes(dir)).toThrow(LockedError);
      expect(() => resetLog(dir, 5)).toThrow(LockedError);
      // Read-only work and dry runs go on.
      expect(verifyLog(dir).ok).toBe(true);
      expect(logInfo(dir).totals.commits).toBe(40);
      expect(pruneLog(dir, 30).segments).toHaveLength(2);
      expect(compressLog(dir, { dryRun: true }).compressed).toBe(3);
      expect(planResetTo(dir, 5).changes).toBe(true);
      const after = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(`${dir}/${n}`)]));
      expect(after).toEqual(before);
    } finally {
      writer.close();
    }
    expect(pruneLog(dir, 30, { execute: true }).executed).toBe(true);
    // Released: the file stays (the lock lives on its descriptor), emptied, and the next writer gets in.
    expect(fs.readFileSync(`${dir}/commitlog.lock`, 'utf8')).toBe('');
    Commitlog.open(dir).close();
  });
});
