/**
 * How `clog` writes numbers (issue 17): binary units, thousands separators, singular for one, and
 * prune saying that its sizes include the index files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clog } from './clog-run.js';
import { tempDirs, writeLog } from '../unit/maintenance/log-fixtures.js';

const newDir = tempDirs();

function log(commits: number, maxSegmentSize = 1024 * 1024): string {
  const dir = path.join(newDir(), 'log');
  fs.mkdirSync(dir);
  writeLog(dir, { commits, maxSegmentSize, recordLen: 50 });
  return dir;
}

describe('numbers in clog output', () => {
  it('one commit, one segment: singular', async () => {
    const dir = log(1);
    expect((await clog('verify', dir)).stdout).toBe('ok: 1 commit verified, no problems\n');
    expect((await clog('info', dir)).stdout).toMatch(/: 1 segment \(0 compressed\), .* on disk .*, 1 commit, offsets 0,/);
  });

  it('thousands separators in counts, binary units in sizes', async () => {
    const dir = log(1500, 64 * 1024); // 1500 commits of 76 bytes: two segments of up to 64 KiB
    expect((await clog('verify', dir)).stdout).toBe('ok: 1,500 commits verified, no problems\n');
    const info = (await clog('info', dir)).stdout;
    expect(info).toMatch(/: 2 segments \(0 compressed\), [\d.]+ KiB on disk \([\d.]+ KiB apparent size\), 1,500 commits, offsets 0\.\.1,?499/);
    expect(info).not.toMatch(/\d (kB|MB|GB)\b/);
  });

  it('prune says its sizes include the index files', async () => {
    const dir = log(1500, 64 * 1024);
    const dry = await clog('prune', dir, '--before', '1400');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would delete segment 0 \(offsets 0\.\.\d+, [\d.]+ KiB with its index file\)\n/);
    expect(dry.stdout).toMatch(/would delete 1 segment, [\d.]+ KiB \(segment and index files\); the log now starts at segment \d+/);
  });
});
