// What every archive must satisfy whatever happened to the run that wrote it: checked against radosgw
// directly (never through the fault proxy), shared by the fault and kill tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { Commitlog } from '../../src/index.js';
import { seededRandom } from '../../src/api/testing.js';
import { crc32c } from '../../src/api/codec.js';
import { readManifest, restoreLog, type Manifest, type S3Target } from '../../src/api/archive.js';
import { getBytes, objectKey } from '../../src/archive/s3-client.js';

export function segmentFiles(dir: string): Record<string, Buffer> {
  const r: Record<string, Buffer> = {};
  for (const n of fs.readdirSync(dir).filter((n) => n.endsWith('.stdb.log')).sort()) r[n] = fs.readFileSync(path.join(dir, n));
  return r;
}

/** Appends `commits` commits of 1-8 random 200-byte records to the log in `dir` (created if missing). */
export function appendCommits(dir: string, commits: number, seed: number, maxSegmentSize: number): void {
  const rand = seededRandom(seed);
  const log = Commitlog.open(dir, { maxSegmentSize });
  try {
    for (let c = 0; c < commits; c++) {
      const n = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) {
        const rec = new Uint8Array(200);
        for (let i = 0; i < rec.length; i += 4) rec[i] = Math.floor(rand() * 256);
        if (!log.append(rec)) throw new Error(`commit ${c} full`);
      }
      log.flush();
    }
  } finally {
    log.close();
  }
}

/** Every object the manifest names exists with exactly the size and CRC32C it records. */
export async function expectManifestComplete(client: S3Client, target: S3Target, m: Manifest): Promise<void> {
  for (const s of m.segments) {
    if (s.zstd) {
      const body = await getBytes(client, target.bucket, objectKey(target, s.zstd.key));
      expect(body?.length, `size of ${s.zstd.key}`).toBe(s.zstd.bytes);
      expect(crc32c(body!), `crc32c of ${s.zstd.key}`).toBe(s.zstd.crc32c);
    }
    for (const p of s.parts) {
      const body = await getBytes(client, target.bucket, objectKey(target, p.key));
      expect(body, `object ${p.key}`).not.toBeNull();
      expect(body!.length, `size of ${p.key}`).toBe(p.end - p.start);
      expect(crc32c(body!), `crc32c of ${p.key}`).toBe(p.crc32c);
    }
  }
}

/** Restored segments are the source's first segments, the last one possibly a byte prefix. */
export function expectPrefixOf(restored: Record<string, Buffer>, source: Record<string, Buffer>): void {
  const names = Object.keys(restored);
  expect(names).toEqual(Object.keys(source).slice(0, names.length));
  names.forEach((n, i) => {
    const r = restored[n]!;
    const s = source[n]!;
    if (i < names.length - 1) expect(r.equals(s), `${n} differs from the source`).toBe(true);
    else expect(r.equals(s.subarray(0, r.length)), `${n} is not a prefix of the source`).toBe(true);
  });
}

/**
 * The invariant after any run, finished, failed or killed: no manifest (nothing archived yet), or one
 * naming only complete objects that restores to a byte-identical prefix of `source`. Returns the
 * manifest and the restored segments.
 */
export async function expectRestorablePrefix(
  client: S3Client,
  target: S3Target,
  source: string,
): Promise<{ manifest: Manifest | null; restored: Record<string, Buffer> }> {
  const manifest = await readManifest(client, target);
  if (manifest === null) return { manifest, restored: {} };
  await expectManifestComplete(client, target, manifest);
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-fault-restore-'));
  try {
    await restoreLog(target, dest, { client });
    const restored = segmentFiles(dest);
    expectPrefixOf(restored, segmentFiles(source));
    return { manifest, restored };
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
}
