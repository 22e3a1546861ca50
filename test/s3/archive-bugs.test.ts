// Archive behaviour the fault work turned up, against the run's real radosgw. Each test states what
// must hold; a failure here is a bug in src/archive/archive.ts (see the s3-bench report for the fix).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { useS3Env } from './rgw.js';
import { appendCommits, expectRestorablePrefix, segmentFiles } from './archive-check.js';
import { archiveLog, makeS3Client, restoreLog, type S3Target } from '../../src/api/archive.js';
import { resetTo } from '../../src/index.js';

const bucket = 'clog-archive-bugs-test';
const MAX_SEGMENT = 64 * 1024;
let client: S3Client;

beforeAll(async () => {
  client = makeS3Client((await useS3Env()).endpoint);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}, 180_000);

function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `clog-${name}-`));
}

/** An archive run over a log it cannot archive faithfully may fail; if it succeeds, it must restore. */
async function archiveFailsOrRestores(src: string, target: S3Target): Promise<void> {
  let failed = false;
  try {
    await archiveLog(src, target, { client });
  } catch {
    failed = true;
  }
  if (!failed) await expectRestorablePrefix(client, target, src);
}

describe('archiveLog edge cases', () => {
  it('a segment deleted locally after it was archived stays in the archive', async () => {
    const src = tmp('bug-deleted');
    appendCommits(src, 300, 21, MAX_SEGMENT);
    const target: S3Target = { bucket, prefix: 'deleted' };
    const first = await archiveLog(src, target, { client });
    const oldest = Object.keys(segmentFiles(src))[0]!;
    const full = segmentFiles(src);
    // What a server's own retention does: the oldest segment goes; the writer keeps appending.
    fs.rmSync(path.join(src, oldest));
    fs.rmSync(path.join(src, oldest.replace('.stdb.log', '.stdb.ofs')), { force: true });
    appendCommits(src, 100, 22, MAX_SEGMENT);
    const second = await archiveLog(src, target, { client });
    expect(second.manifest.segments.map((s) => s.offset)).toEqual(expect.arrayContaining(first.manifest.segments.map((s) => s.offset)));
    const now = { ...full, ...segmentFiles(src) };
    const dest = tmp('bug-deleted-dest');
    await restoreLog(target, dest, { client, force: true });
    expect(Object.keys(segmentFiles(dest))).toEqual(Object.keys(now).sort());
  }, 60_000);

  it('a damaged commit in a sealed segment: archive fails, or the archive it writes restores', async () => {
    const src = tmp('bug-damaged');
    appendCommits(src, 300, 23, MAX_SEGMENT);
    const names = Object.keys(segmentFiles(src));
    expect(names.length).toBeGreaterThanOrEqual(3);
    // Flip one byte in the middle of the second (sealed) segment.
    const file = path.join(src, names[1]!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    await archiveFailsOrRestores(src, { bucket, prefix: 'damaged' });
  }, 60_000);

  it('a log reset to an earlier offset and rewritten: the archive follows the new commits or fails, never restores the old ones', async () => {
    const src = tmp('bug-reset');
    appendCommits(src, 200, 31, MAX_SEGMENT);
    const target: S3Target = { bucket, prefix: 'reset' };
    const first = await archiveLog(src, target, { client });
    const last = first.manifest.segments[first.manifest.segments.length - 1]!;
    // Drop the head's newer half (what `clog reset` does), then write different commits in its place.
    resetTo(src, last.offset + Math.floor((last.parts[0]!.maxTx - last.offset) / 2));
    appendCommits(src, 20, 32, MAX_SEGMENT);
    await archiveFailsOrRestores(src, target);
  }, 60_000);
});
