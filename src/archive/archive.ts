/**
 * archiveLog: incremental upload of a log directory to S3. Each run uploads, per segment, only the bytes
 * past what the current manifest names, cut at the last complete commit, as one delta object named by its
 * byte range; then puts a new manifest. The previous manifest stays valid until the new one is put.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '../codec/crc32c.js';
import { decodeSegmentHeader, SEGMENT_HEADER_LEN, startsWithMagic } from '../codec/segment-header.js';
import { InvalidDataError } from '../errors.js';
import { decodeManifest, encodeManifest, MANIFEST_VERSION, type Manifest, type ManifestSegment } from './manifest.js';
import { getBytes, objectKey, putBytes, type S3Target } from './s3-client.js';
import { scanFrames } from './frames.js';

export const MANIFEST_NAME = 'manifest.json';
const SEGMENT_RE = /^(\d{20})\.stdb\.log$/;

export interface ArchiveProgress {
  segment: number;
  bytesUploaded: number;
  objectsUploaded: number;
}

export interface ArchiveOptions {
  client: S3Client;
  onProgress?: (p: ArchiveProgress) => void;
}

export interface ArchiveResult {
  objectsUploaded: number;
  bytesUploaded: number;
  manifest: Manifest;
}

export async function readManifest(client: S3Client, target: S3Target): Promise<Manifest | null> {
  const b = await getBytes(client, target.bucket, objectKey(target, MANIFEST_NAME));
  return b === null ? null : decodeManifest(b);
}

export function partKey(offset: number, start: number, end: number): string {
  return `segments/${String(offset).padStart(20, '0')}/${String(start).padStart(12, '0')}-${String(end).padStart(12, '0')}`;
}

export async function archiveLog(dir: string, target: S3Target, options: ArchiveOptions): Promise<ArchiveResult> {
  const { client } = options;
  const prev = await readManifest(client, target);
  const known = new Map<number, ManifestSegment>();
  for (const s of prev?.segments ?? []) known.set(s.offset, s);
  const offsets = fs.readdirSync(dir).map((n) => SEGMENT_RE.exec(n)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b);
  const progress: ArchiveProgress = { segment: 0, bytesUploaded: 0, objectsUploaded: 0 };
  const segments: ManifestSegment[] = [];
  for (const offset of offsets) {
    const bytes = fs.readFileSync(path.join(dir, `${String(offset).padStart(20, '0')}.stdb.log`));
    if (bytes.length < SEGMENT_HEADER_LEN) continue;
    if (!startsWithMagic(bytes)) throw new InvalidDataError(`segment ${offset} in ${dir}: no segment magic (compressed segments are not archived yet)`);
    const version = decodeSegmentHeader(bytes).logFormatVersion;
    const old = known.get(offset);
    const seg: ManifestSegment = old ? { offset, size: old.size, parts: [...old.parts] } : { offset, size: 0, parts: [] };
    const from = seg.size === 0 ? SEGMENT_HEADER_LEN : seg.size;
    const expect = seg.parts.length > 0 ? seg.parts[seg.parts.length - 1]!.maxTx + 1 : -1;
    const scan = scanFrames(bytes, from, version, expect <= 0 ? -1 : expect);
    const end = scan.end;
    if (end > seg.size) {
      const start = seg.size;
      const body = bytes.subarray(start, end);
      const key = partKey(offset, start, end);
      const crc = crc32c(body);
      await putBytes(client, target.bucket, objectKey(target, key), body);
      seg.parts.push({ key, start, end, crc32c: crc, commits: scan.commits, minTx: scan.minTx, maxTx: scan.maxTx });
      seg.size = end;
      progress.bytesUploaded += body.length;
      progress.objectsUploaded++;
    }
    progress.segment = offset;
    options.onProgress?.({ ...progress });
    if (seg.size > 0) segments.push(seg);
  }
  // Nothing new: the previous manifest already names everything, so no put (and no new generation).
  if (prev !== null && progress.objectsUploaded === 0) return { objectsUploaded: 0, bytesUploaded: 0, manifest: prev };
  const manifest: Manifest = { version: MANIFEST_VERSION, generation: (prev?.generation ?? 0) + 1, segments };
  await putBytes(client, target.bucket, objectKey(target, MANIFEST_NAME), encodeManifest(manifest));
  return { objectsUploaded: progress.objectsUploaded, bytesUploaded: progress.bytesUploaded, manifest };
}
