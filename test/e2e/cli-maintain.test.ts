/**
 * `clog compress`, `reset-to`, `index rebuild` and `prune` as a user runs them (issue 5): the real
 * binary on generated logs and a fixture copy; each result is checked on disk and by reading the log
 * back with the library. Needs the build (`npm test` builds first): dist/src/cli/main.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commitlog, commits, existingSegmentOffsets } from '../../src/index.js';
import { idxPath, segPath, tmpDir, writeIndexEntry } from '../unit/maintenance/log-fixtures.js';
import { clog, copyFixture, generatedLog, hexChecksums, jsonLines, snapshot } from './clog-run.js';

const FRAME = 26 + 50;
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

let root: string;
beforeAll(() => {
  root = tmpDir();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const generated = (name: string): ReturnType<typeof generatedLog> => generatedLog(root, name);

const offsets = (dir: string): number[] => [...commits(dir)].map((c) => c.minTxOffset);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('clog compress', () => {
  it('compresses the sealed segments, reports the space saved; the log reads and verifies the same', async () => {
    const { dir } = generated('compress');
    const dumpBefore = (await clog('dump', dir)).stdout;
    const r = await clog('compress', dir, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.compressed).toBe(3);
    expect(out.saved).toBe(out.bytesBefore - out.bytesAfter);
    expect(out.saved).toBeGreaterThan(0);
    for (const s of [0, 13, 26]) expect(fs.readFileSync(segPath(dir, s)).subarray(0, 4)).toEqual(ZSTD_MAGIC);
    expect(fs.readFileSync(segPath(dir, 39)).subarray(0, 4)).not.toEqual(ZSTD_MAGIC);
    expect(offsets(dir)).toEqual(range(0, 39));

    const [again, verify, dump, info] = await Promise.all([
      clog('compress', dir),
      clog('verify', dir, '--json'),
      clog('dump', dir),
      clog('info', dir, '--json'),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^nothing to compress/);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toEqual({ ok: true, commits: 40, segments: 4, empty: false, problems: [] });
    expect(dump.stdout).toBe(dumpBefore);
    expect(JSON.parse(info.stdout).segments.map((s: { compressed: boolean }) => s.compressed)).toEqual([true, true, true, false]);
  });

  it('--keep-last n keeps the newest n plain; --keep-last 0 is a usage error', async () => {
    const { dir } = generated('keep-last');
    const [kept, zero] = await Promise.all([clog('compress', dir, '--keep-last', '3'), clog('compress', dir, '--keep-last', '0')]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toMatch(/^compressed 1 segment: .* saved /);
    expect(fs.readFileSync(segPath(dir, 0)).subarray(0, 4)).toEqual(ZSTD_MAGIC);
    expect(fs.readFileSync(segPath(dir, 13)).subarray(0, 4)).not.toEqual(ZSTD_MAGIC);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/^clog: --keep-last must be at least 1/);
  });
});

describe('clog reset-to', () => {
  it('refuses without --yes (exit 2, nothing changed), then discards everything after the offset', async () => {
    const { dir } = generated('reset');
    const before = snapshot(dir);
    const refused = await clog('reset-to', dir, '20');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('clog: refusing to discard data without --yes [CONFIRMATION_REQUIRED]\n');
    expect(refused.stdout).toMatch(/remove segment 39\nremove segment 26\ncut segment 13 /);
    expect(snapshot(dir)).toEqual(before);

    const done = await clog('reset-to', dir, '20', '--yes', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      offset: 20,
      removeSegments: [39, 26],
      truncate: { segment: 13, newSize: 10 + 8 * FRAME },
      maxOffsetBefore: 39,
      maxOffsetAfter: 20,
      executed: true,
    });
    expect(existingSegmentOffsets(dir)).toEqual([0, 13]);
    expect(offsets(dir)).toEqual(range(0, 20));

    const noop = await clog('reset-to', dir, '20');
    expect(noop.code).toBe(0);
    expect(noop.stdout).toMatch(/nothing to do/);
  });

  it('refuses before deleting anything when resetTo would stop at a damaged commit', async () => {
    const { dir, places } = generated('reset-damaged');
    fs.truncateSync(segPath(dir, 26), places[30]!.byteOffset + 40); // commit 30 torn
    const before = snapshot(dir);
    const r = await clog('reset-to', dir, '29', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `clog: cannot reset to 29: resetTo reads up to the first commit after it and cannot read past the damaged commit at ` +
        `segment 26 byte ${places[30]!.byteOffset}; choose an offset at least one commit before the damage [RESET_PAST_DAMAGE]\n`,
    );
    expect(snapshot(dir)).toEqual(before);
    const ok = await clog('reset-to', dir, '28', '--yes');
    expect(ok.code).toBe(0);
    expect(offsets(dir)).toEqual(range(0, 28));
  });

  it('works on the fixture: whole commits up to the offset remain', async () => {
    const { dir, expected } = copyFixture('spacetimedb-v1.2', path.join(root, 'reset-fixture'));
    const r = await clog('reset-to', dir, '4', '--yes');
    expect(r.code).toBe(0);
    const c5 = expected.commits[5]!;
    expect(fs.statSync(path.join(dir, '00000000000000000000.stdb.log')).size).toBe(c5.byteOffset);
    expect(jsonLines((await clog('dump', dir)).stdout)).toEqual(hexChecksums(expected.commits.slice(0, 5)));
  });
});

describe('clog index rebuild', () => {
  it('regenerates the writer’s index files byte for byte and repairs a bad index', async () => {
    const { dir } = generated('rebuild');
    const written = [0, 13, 26, 39].map((s) => fs.readFileSync(idxPath(dir, s)));
    for (const s of [0, 13, 26, 39]) fs.rmSync(idxPath(dir, s));
    const r = await clog('index', 'rebuild', dir, '--max-segment-size', '1024', '--offset-index-interval-bytes', '256', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).indexes.map((i: { segment: number; entries: number }) => [i.segment, i.entries])).toEqual([
      [0, 3],
      [13, 3],
      [26, 3],
      [39, 0],
    ]);
    expect([0, 13, 26, 39].map((s) => fs.readFileSync(idxPath(dir, s)))).toEqual(written);

    writeIndexEntry(idxPath(dir, 13), 1, 17, 11);
    expect((await clog('verify', dir)).code).toBe(1);
    const again = await clog('index', 'rebuild', dir, '--offset-index-interval-bytes', '256');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/rebuilt 4 index files\n$/);
    expect((await clog('verify', dir)).code).toBe(0);
    expect([0, 13, 26, 39].map((s) => fs.readFileSync(idxPath(dir, s)))).toEqual(written);
  });

  it('--segment limits the rebuild; an unknown segment is a usage error', async () => {
    const { dir } = generated('rebuild-one');
    fs.rmSync(idxPath(dir, 0));
    fs.rmSync(idxPath(dir, 13));
    // One after the other: both take the writer lock, so run together one could see the other's lock.
    const one = await clog('index', 'rebuild', dir, '--segment', '13', '--max-segment-size', '1024', '--offset-index-interval-bytes', '256');
    const unknown = await clog('index', 'rebuild', dir, '--segment', '7');
    expect(one.code).toBe(0);
    expect(fs.existsSync(idxPath(dir, 0))).toBe(false);
    expect(fs.existsSync(idxPath(dir, 13))).toBe(true);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('clog: no segment starts at 7 [USAGE]\nusage: clog index rebuild [options] <dir>\n');
  });
});

describe('clog prune', () => {
  it('a dry run by default; --yes (or --execute) deletes whole old segments, never the newest', async () => {
    const { dir } = generated('prune');
    const before = snapshot(dir);
    const dry = await clog('prune', dir, '--before', '30');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would delete segment 0 \(offsets 0\.\.12, .*\)\nwould delete segment 13 \(offsets 13\.\.25, /);
    expect(snapshot(dir)).toEqual(before);

    const done = await clog('prune', dir, '--before', '30', '--yes', '--json');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ before: 30, executed: true, segments: [{ segment: 0 }, { segment: 13 }], firstKeptSegment: 26 });
    expect(existingSegmentOffsets(dir)).toEqual([26, 39]);
    expect(fs.existsSync(idxPath(dir, 0))).toBe(false);
    expect(offsets(dir)).toEqual(range(26, 39));

    const all = await clog('prune', dir, '--before', '1000000', '--execute');
    expect(all.code).toBe(0);
    expect(existingSegmentOffsets(dir)).toEqual([39]);
    expect((await clog('verify', dir)).code).toBe(0);
  });
});

describe('a live writer', () => {
  it('holds off the commands that write (exit 2, one line naming the holder); verify still runs', async () => {
    const { dir } = generated('locked');
    const writer = Commitlog.open(dir, { maxSegmentSize: 1024, offsetIndexIntervalBytes: 256 });
    try {
      const before = snapshot(dir);
      const [prune, compress, verify] = await Promise.all([
        clog('prune', dir, '--before', '30', '--yes'),
        clog('compress', dir),
        clog('verify', dir),
      ]);
      for (const r of [prune, compress]) {
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^clog: .*commitlog\\.lock is locked by pid ${process.pid} .*\\[LOCKED\\]\\n$`));
      }
      expect(verify.code).toBe(0);
      expect(snapshot(dir)).toEqual(before);
    } finally {
      writer.close();
    }
  });
});
