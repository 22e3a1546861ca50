/**
 * Issue 16 §5: a mirror stopped by a full disk leaves a torn tail in the replica; the plain re-run is
 * refused and must say how to go on (`--trim`), and the re-run with `--trim` must finish the copy.
 * Runs the real binary (dist/src/cli/main.js, built first).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commits, existingSegmentOffsets, segmentFileName } from '../../src/index.js';
import { tmpDir } from '../unit/maintenance/log-fixtures.js';
import { clog, generatedLog, snapshot } from './clog-run.js';

let root: string;
beforeAll(() => {
  root = tmpDir();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** sha256 of every file (comparing 4 MiB buffers with toEqual is far too slow). */
const digest = (dir: string): Record<string, string> =>
  Object.fromEntries([...snapshot(dir)].map(([n, b]) => [n, createHash('sha256').update(b).digest('hex')]));

const plain = (dir: string): Array<{ offset: number; records: string }> =>
  [...commits(dir)].map((c) => ({ offset: c.minTxOffset, records: Buffer.from(c.records).toString('hex') }));

describe('clog mirror after a torn tail', () => {
  it('is refused with a message naming --trim (exit 1, replica untouched); --trim then finishes it', async () => {
    const { dir: src } = generatedLog(root, 'src');
    const dst = path.join(root, 'dst');
    const first = await clog('mirror', src, dst);
    expect(first.code).toBe(0);
    // The write that hit ENOSPC stopped inside the last commit: cut the newest segment there.
    const segs = existingSegmentOffsets(dst);
    const last = path.join(dst, segmentFileName(segs[segs.length - 1]!));
    fs.truncateSync(last, fs.statSync(last).size - 7);
    const torn = digest(dst);

    const refused = await clog('mirror', src, dst);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    // stderr may carry progress lines first; the error is one line of its own.
    const errors = refused.stderr.split('\n').filter((l) => l.startsWith('clog: '));
    expect(errors).toHaveLength(1);
    const line = errors[0]!;
    expect(line).toMatch(/^clog: .*trailing data in segment \d+ at byte \d+/);
    expect(line).toContain(`re-run with --trim to cut it and continue: clog mirror ${src} ${dst} --trim`);
    expect(line).toMatch(/\[INVALID_DATA\]$/);
    expect(digest(dst)).toEqual(torn);

    const trimmed = await clog('mirror', src, dst, '--trim');
    expect(trimmed.code).toBe(0);
    expect(trimmed.stderr).not.toContain('clog: ');
    expect(plain(dst)).toEqual(plain(src));
    // The cut index stays sparse (it was fully allocated, 4 MiB, before issue 16 §5's fix).
    for (const n of fs.readdirSync(dst).filter((f) => f.endsWith('.stdb.ofs'))) {
      expect(fs.statSync(path.join(dst, n)).blocks * 512, n).toBeLessThanOrEqual(64 * 1024);
    }
    const verify = await clog('verify', dst, '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, commits: 40 });
  });
});
