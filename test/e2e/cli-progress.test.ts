/**
 * Progress bars as a terminal shows them (issue 17): `clog` is run under `script(1)` so stderr is a TTY.
 * `compress` names each segment with what happened to it, so a segment it skips is not shown as if
 * it were being compressed.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { FIXTURES, MAIN, clog, generatedLog } from './clog-run.js';
import type { CompressedSegment } from '../../src/api/ops.js';
import { segmentDone } from '../../src/cli/commands/compress.js';
import { tempDirs } from '../unit/maintenance/log-fixtures.js';

const newDir = tempDirs();

/** Runs clog with a pseudo-terminal; returns what the terminal received, escape sequences removed. */
function onTerminal(...args: string[]): { code: number | null; screen: string } {
  const cmd = [process.execPath, MAIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
  // eslint-disable-next-line no-control-regex
  return { code: r.status, screen: r.stdout.replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '').replace(/\r/g, '\n') };
}

describe('progress on a terminal', () => {
  it('compress names the segments it skips as skipped', () => {
    const { dir } = generatedLog(newDir(), 'log'); // segments 0, 13, 26, 39
    // The bar redraws at most 10 times a second, so what stays on screen is the last segment looked
    // at: the newest, which is kept plain and must not read as being compressed.
    const run = onTerminal('compress', dir, '--keep-last', '2');
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/4\/4 \| segment 39 skipped \(kept plain\); saved [\d.]+ K?i?B\n/);
    expect(run.screen).not.toMatch(/segment 39 compressed/);
    expect(run.screen).toMatch(/compressed 2 segments: /);
  });

  it('each kind of segment has its own words', () => {
    const at = (skipped: CompressedSegment['skipped'], dryRun = false) =>
      segmentDone({ segment: 7, before: 2048, after: skipped ? 2048 : 512, skipped }, dryRun);
    expect(at(null)).toBe('segment 7 compressed (2.0 KiB -> 512 B)');
    expect(at(null, true)).toBe('segment 7 would be compressed');
    expect(at('already-compressed')).toBe('segment 7 skipped (already compressed)');
    expect(at('kept')).toBe('segment 7 skipped (kept plain)');
  });

  it('export shows transactions, megabytes, rate and ETA on a terminal, and nothing when piped', async () => {
    const file = path.join(newDir(), 'out.sqlite');
    const run = onTerminal('export', path.join(FIXTURES, 'spacetimedb-v1.2', 'clog'), '--sqlite', file);
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/export \[[^\]]+\] \d+% \| 9 tx \| [\d.]+ KiB of [\d.]+ KiB \| [\d.]+ [KM]iB\/s \| ETA /);
    expect(run.screen).toMatch(/exported 9 transactions into /);
    const piped = await clog('export', path.join(FIXTURES, 'spacetimedb-v1.2', 'clog'), '--sqlite', path.join(newDir(), 'b.sqlite'));
    expect(piped.stderr).toBe('');
  });
});

