/**
 * What one archive run does for one segment: nothing (already complete in the archive), a delta part
 * (the bytes past what the manifest names, cut at the last complete commit), or one zstd object for
 * a sealed segment (compressed here, or the file itself when it is compressed on disk). Every object
 * is checked on the server (`putVerified`) before the returned manifest entry names it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '../codec/crc32c.js';
import { decodeSegmentHeader, SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { InvalidDataError } from '../errors.js';
import { scanFrames } from './frames.js';
import type { LocalSegment } from './local-segment.js';
import type { ManifestSegment } from './manifest.js';
import { objectKey, putVerified, type S3Target } from './s3-client.js';
import { compressChecked, zstdKey } from './zstd-object.js';

export interface SegmentContext {
  client: S3Client;
  target: S3Target;
  /** Upload sealed segments as zstd objects. */
  compress: boolean;
  /** The time recorded as `archivedAt` when a segment grows. */
  now: number;
}

export interface SegmentOutcome {
  /** The segment's new manifest entry (null: nothing archivable yet, e.g. shorter than a header). */
  seg: ManifestSegment | null;
  objects: number;
  bytes: number;
  /** Objects the new entry no longer names (parts replaced by a zstd object), to delete after the manifest is put. */
  obsoleteKeys: string[];
}

export function partKey(offset: number, start: number, end: number): string {
  return `segments/${String(offset).padStart(20, '0')}/${String(start).padStart(12, '0')}-${String(end).padStart(12, '0')}`;
}

function diverged(offset: number, detail: string): InvalidDataError {
  return new InvalidDataError(`segment ${offset}: ${detail}; the log changed after it was archived (reset-to?): archive it to a new prefix`);
}

export async function archiveSegment(ctx: SegmentContext, local: LocalSegment, sealed: boolean, old: ManifestSegment | undefined): Promise<SegmentOutcome> {
  const none: SegmentOutcome = { seg: old ?? null, objects: 0, bytes: 0, obsoleteKeys: [] };
  const offset = local.offset;
  const archived = old?.size ?? 0;
  const size = local.size();
  if (size < archived) throw diverged(offset, `${size} bytes here, ${archived} archived`);
  // A zstd object is the whole sealed segment: it never changes again.
  if (old?.zstd) return none;
  if (size < SEGMENT_HEADER_LEN) return none;
  if ((sealed && ctx.compress) || (local.compressed && old === undefined)) {
    const z = await uploadZstd(ctx, local, old);
    if (z !== null) return z;
  }
  return uploadDelta(ctx, local, old);
}

/** The sealed segment as one zstd object; null when it holds no commit (it stays as parts). */
async function uploadZstd(ctx: SegmentContext, local: LocalSegment, old: ManifestSegment | undefined): Promise<SegmentOutcome | null> {
  const offset = local.offset;
  const archived = old?.size ?? 0;
  const plain = local.readPlain(0, local.size());
  const scan = scanFrames(plain, SEGMENT_HEADER_LEN, decodeSegmentHeader(plain).logFormatVersion, offset);
  if (scan.commits === 0) return null;
  if (scan.end < archived) throw diverged(offset, `its commits end at byte ${scan.end}, ${archived} bytes archived`);
  const what = `segment ${offset}`;
  let body: Uint8Array;
  if (local.compressed) {
    // Uploaded as is, so a restore writes back the very file; it must then hold nothing but commits.
    if (scan.end !== plain.length) {
      throw new InvalidDataError(`compressed segment ${offset}: commit ${scan.stop} at byte ${scan.end} of ${plain.length} (damaged? see 'clog verify'); not archived`);
    }
    body = local.rawBytes();
  } else {
    body = compressChecked(plain.subarray(0, scan.end), what);
  }
  const key = zstdKey(offset);
  const crc = crc32c(body);
  await putVerified(ctx.client, ctx.target.bucket, objectKey(ctx.target, key), body);
  const grew = scan.end > archived || old?.archivedAt === undefined;
  return {
    seg: {
      offset,
      size: scan.end,
      parts: [],
      zstd: { key, bytes: body.length, crc32c: crc, keepCompressed: local.compressed, commits: scan.commits, minTx: scan.minTx, maxTx: scan.maxTx },
      archivedAt: grew ? ctx.now : old!.archivedAt!,
    },
    objects: 1,
    bytes: body.length,
    obsoleteKeys: old?.parts.map((p) => p.key) ?? [],
  };
}

/** The bytes past `old.size`, up to the last complete commit, as one part object. */
async function uploadDelta(ctx: SegmentContext, local: LocalSegment, old: ManifestSegment | undefined): Promise<SegmentOutcome> {
  const offset = local.offset;
  const parts = old ? [...old.parts] : [];
  const archived = old?.size ?? 0;
  const version = decodeSegmentHeader(local.readPlain(0, SEGMENT_HEADER_LEN)).logFormatVersion;
  const tail = local.readPlain(archived, local.size());
  const last = parts[parts.length - 1];
  const expect = last !== undefined && last.maxTx >= 0 ? last.maxTx + 1 : offset;
  const scan = scanFrames(tail, archived === 0 ? SEGMENT_HEADER_LEN : 0, version, expect);
  if (scan.stop === 'gap' && scan.commits === 0) throw diverged(offset, `the commit at byte ${archived} does not start at tx ${expect}`);
  // A new segment is archived from its header on, even before its first commit (as the log holds it).
  if (archived > 0 && scan.end === 0) return { seg: old ?? null, objects: 0, bytes: 0, obsoleteKeys: [] };
  const start = archived;
  const end = archived + scan.end;
  const body = tail.subarray(0, scan.end);
  const key = partKey(offset, start, end);
  const crc = crc32c(body);
  await putVerified(ctx.client, ctx.target.bucket, objectKey(ctx.target, key), body);
  parts.push({ key, start, end, crc32c: crc, commits: scan.commits, minTx: scan.minTx, maxTx: scan.maxTx });
  return { seg: { offset, size: end, parts, archivedAt: ctx.now }, objects: 1, bytes: body.length, obsoleteKeys: [] };
}
