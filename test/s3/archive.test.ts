// Archive and restore against the run's real radosgw (test/s3/global-setup.ts) : never a mock; an unreachable server fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { useS3Env } from './rgw.js';
import { archiveLog, restoreLog, makeS3Client, type S3Target } from '../../src/api/archive.js';
import { commitIterator } from '../../src/index.js';

let client: S3Client;
const bucket = 'clog-archive-test';

beforeAll(async () => {
  client = makeS3Client((await useS3Env()).endpoint);
}, 180_000);

function files(dir: string): Record<string, Buffer> {
  const r: Record<string, Buffer> = {};
  for (const n of fs.readdirSync(dir).filter((n) => n.endsWith('.stdb.log'))) r[n] = fs.readFileSync(path.join(dir, n));
  return r;
}

describe('archiveLog / restoreLog against radosgw', () => {
  it('round-trips both real fixtures byte for byte; a second run uploads nothing', async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const fx of ['spacetimedb-v1.2', 'spacetimedb-v2.6']) {
      const src = path.join(__dirname, '..', 'fixtures', fx, 'clog');
      const target: S3Target = { bucket, prefix: `fx/${fx}` };
      const first = await archiveLog(src, target, { client });
      expect(first.objectsUploaded).toBeGreaterThan(0);
      const second = await archiveLog(src, target, { client });
      expect(second.objectsUploaded).toBe(0);
      expect(second.bytesUploaded).toBe(0);
      const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-restore-'));
      await restoreLog(target, dest, { client });
      expect(files(dest)).toEqual(files(src));
      await expect(restoreLog(target, dest, { client })).rejects.toThrow(/not empty/);
    }
  }, 120_000);

  it('an incremental run uploads only the appended bytes; --at restores a prefix; damage is named', async () => {
    const fx = path.join(__dirname, '..', 'fixtures', 'spacetimedb-v1.2', 'clog');
    const seg = fs.readdirSync(fx).find((n) => n.endsWith('.stdb.log'))!;
    const full = fs.readFileSync(path.join(fx, seg));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-src-'));
    // The fixture cut 7 bytes into commit 5 (archive keeps only complete commits), then the rest.
    const it = commitIterator(fx);
    let cut = 0;
    for (const c of it) if (c.minTxOffset === 5) cut = it.byteOffset + 7;
    expect(cut).toBeGreaterThan(7);
    fs.writeFileSync(path.join(work, seg), full.subarray(0, cut));
    const target: S3Target = { bucket, prefix: 'inc' };
    const a = await archiveLog(work, target, { client });
    fs.writeFileSync(path.join(work, seg), full);
    const b = await archiveLog(work, target, { client });
    expect(b.objectsUploaded).toBe(1);
    expect(a.bytesUploaded + b.bytesUploaded).toBe(full.length);
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-restore-'));
    await restoreLog(target, dest, { client });
    expect(files(dest)).toEqual(files(fx));
    const at = a.manifest.segments[0]!.parts[0]!.maxTx;
    expect(at).toBe(4);
    const d2 = path.join(os.tmpdir(), `clog-at-${process.pid}`);
    fs.rmSync(d2, { recursive: true, force: true });
    await restoreLog(target, d2, { client, at });
    expect(fs.readFileSync(path.join(d2, seg))).toEqual(full.subarray(0, a.manifest.segments[0]!.size));
    const part = b.manifest.segments[0]!.parts[1]!;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `inc/${part.key}`, Body: Buffer.from('garbage') }));
    const d3 = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-restore-'));
    await expect(restoreLog(target, d3, { client })).rejects.toThrow(part.key);
  }, 120_000);
});
