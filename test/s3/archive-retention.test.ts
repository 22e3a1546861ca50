// Retention of an archive (retainDays, clog prune s3://) against the run's real radosgw, with a fake
// clock: whole segments only, oldest first, never the newest, never one holding a commit archived
// within the window; what stays restores byte for byte from its first kept segment.
import { beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys, useBucket } from './bucket.js';
import { appendCommits, prefixAt, segFiles, tmpDir, txBounds } from './log-gen.js';
import { archiveLog, DAY_MS, pruneArchive, readManifest, restoreLog, type Manifest, type S3Target } from '../../src/api/archive.js';
import { clog } from '../e2e/clog-run.js';

const tb = useBucket('clog-archive-retention');
const bucket = tb.name;
const T0 = Date.UTC(2026, 0, 1);
let client: S3Client;
let endpoint: string;
beforeAll(() => {
  ({ client, endpoint } = tb);
});
const keys = (t: S3Target) => listKeys(tb, t);

function named(m: Manifest): string[] {
  return ['manifest.json', ...m.segments.flatMap((s) => (s.zstd ? [s.zstd.key] : s.parts.map((p) => p.key)))].sort();
}

/** Six days of archiving, 90 commits a day; returns the last tx archived by the end of each day. */
async function sixDays(src: string, t: S3Target, compress: boolean): Promise<number[]> {
  const lastByDay: number[] = [];
  for (let day = 0; day < 6; day++) {
    appendCommits(src, 90);
    await archiveLog(src, t, { client, compress, now: () => T0 + day * DAY_MS });
    lastByDay.push(txBounds(src).last);
  }
  return lastByDay;
}

describe('archive retention', () => {
  for (const compress of [false, true]) {
    it(`keeps every segment holding a commit archived within the window, deletes the older ones (compress ${compress})`, async () => {
      const src = tmpDir('ret-src');
      const t: S3Target = { bucket, prefix: `window-${compress}` };
      const lastByDay = await sixDays(src, t, compress);
      const before = (await readManifest(client, t))!;
      expect(before.segments.every((s) => s.archivedAt !== undefined)).toBe(true);
      // Day 5.5, keep 2.5 days: commits archived on days 3, 4, 5 are retained points; days 0-2 are not.
      const now = () => T0 + 5.5 * DAY_MS;
      const dry = await pruneArchive(t, { client, retainDays: 2.5, now, dryRun: true });
      expect(dry.executed).toBe(false);
      expect((await readManifest(client, t))!.generation).toBe(before.generation);
      const r = await archiveLog(src, t, { client, compress, retainDays: 2.5, now });
      expect(r.prunedSegments).toEqual(dry.dropped.map((s) => s.offset));
      expect(r.prunedSegments.length).toBeGreaterThan(0);
      const after = r.manifest;
      const firstKept = after.segments[0]!;
      const oldest = lastByDay[2]! + 1; // the first commit archived on day 3
      // No retained commit was dropped: the archive starts at or before the first commit of day 3 ...
      expect(firstKept.offset).toBeLessThanOrEqual(oldest);
      // ... and every dropped segment held only commits archived by day 2.
      const dropped = before.segments.filter((s) => s.offset < firstKept.offset);
      expect(dropped.map((s) => s.offset)).toEqual(r.prunedSegments);
      for (const s of dropped) expect(s.zstd ? s.zstd.maxTx : s.parts.at(-1)!.maxTx).toBeLessThanOrEqual(lastByDay[2]!);
      // The segment right after the last dropped one holds a retained commit (pruning went as far as allowed).
      const next = before.segments[dropped.length]!;
      expect(next.archivedAt!).toBeGreaterThanOrEqual(now() - 2.5 * DAY_MS);
      // The dropped segments' objects are gone, the kept ones all there.
      expect(await keys(t)).toEqual(named(after));
      expect(r.objectsDeleted).toBeGreaterThanOrEqual(dropped.length);
      // Restores: the whole retained log, and --at any retained point, from the first kept segment.
      const keptFiles = (files: Record<string, Buffer>) => Object.fromEntries(Object.entries(files).filter(([n]) => Number(n.slice(0, 20)) >= firstKept.offset));
      const dest = tmpDir('ret-dest');
      await restoreLog(t, dest, { client });
      expect(segFiles(dest)).toEqual(keptFiles(segFiles(src)));
      for (const at of [oldest, oldest + 33, lastByDay[4]!, lastByDay[5]!]) {
        const d = tmpDir('ret-at');
        await restoreLog(t, d, { client, at });
        expect(segFiles(d), `--at ${at}`).toEqual(keptFiles(prefixAt(src, at)));
      }
      if (firstKept.offset > 0) await expect(restoreLog(t, tmpDir('ret-old'), { client, at: firstKept.offset - 1 })).rejects.toThrow(/pruned/);
      // Archiving again uploads nothing: the pruned segments, still on disk, are not uploaded again.
      const again = await archiveLog(src, t, { client, compress, retainDays: 2.5, now });
      expect(again).toMatchObject({ objectsUploaded: 0, objectsDeleted: 0, prunedSegments: [] });
      // Far in the future with 0 days: everything but the newest segment goes; the newest always stays.
      const late = await pruneArchive(t, { client, retainDays: 0, now: () => T0 + 100 * DAY_MS });
      expect(late.manifest.segments.map((s) => s.offset)).toEqual([txBounds(src).segments.at(-1)!]);
      const d = tmpDir('ret-last');
      await restoreLog(t, d, { client });
      expect(segFiles(d)).toEqual(Object.fromEntries(Object.entries(segFiles(src)).slice(-1)));
    }, 120_000);
  }

  it('clog prune s3://… --retain-days: a dry run unless --yes; clog archive --retain-days prunes after archiving', async () => {
    const src = tmpDir('ret-cli');
    appendCommits(src, 300);
    const url = `s3://${bucket}/cli`;
    const t: S3Target = { bucket, prefix: 'cli' };
    const a = await clog('archive', src, url, '--endpoint', endpoint);
    expect(a.code).toBe(0);
    const segs = txBounds(src).segments;
    expect(segs.length).toBeGreaterThan(2);
    const kept = await clog('prune', url, '--retain-days', '1', '--endpoint', endpoint);
    expect(kept.stdout).toMatch(/^nothing to prune/);
    const dry = await clog('prune', url, '--retain-days', '0', '--endpoint', endpoint);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would delete ${segs.length - 1} segments (dry run: add --yes to delete)`);
    expect((await readManifest(client, t))!.segments.length).toBe(segs.length);
    const noDays = await clog('prune', url, '--endpoint', endpoint);
    expect(noDays.code).toBe(2);
    expect(noDays.stderr).toContain('needs --retain-days');
    appendCommits(src, 100);
    const b = await clog('archive', src, url, '--endpoint', endpoint, '--retain-days', '0');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/pruned \d+ segments/);
    const m = (await readManifest(client, t))!;
    expect(m.segments.map((s) => s.offset)).toEqual([txBounds(src).segments.at(-1)!]);
    expect(await keys(t)).toEqual(named(m));
    const yes = await clog('prune', url, '--retain-days', '0', '--yes', '--endpoint', endpoint);
    expect(yes.stdout).toMatch(/^nothing to prune/);
  }, 120_000);
});
