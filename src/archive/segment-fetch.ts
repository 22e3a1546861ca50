/**
 * Downloads one archived segment for a restore: every object named by the manifest is checked for
 * its size and CRC32C before its bytes are used, and a zstd object must decompress to exactly the
 * size the manifest records. Errors name the object's key.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '../codec/crc32c.js';
import { InvalidDataError } from '../errors.js';
import type { ManifestSegment } from './manifest.js';
import { getRequired, objectKey, type S3Target } from './s3-client.js';
import { decompressSeekable } from './zstd-object.js';

export interface FetchedSegment {
  /** The segment's uncompressed bytes (`seg.size` of them). */
  plain: Uint8Array;
  /** The zstd object itself, when the source file was compressed (`keepCompressed`). */
  compressedFile: Uint8Array | null;
}

async function getChecked(client: S3Client, source: S3Target, key: string, bytes: number, crc: number): Promise<Uint8Array> {
  const body = await getRequired(client, source.bucket, objectKey(source, key));
  if (body.length !== bytes) throw new InvalidDataError(`archive object ${key}: ${body.length} bytes, manifest says ${bytes}`);
  if (crc32c(body) !== crc) throw new InvalidDataError(`archive object ${key}: CRC32C mismatch`);
  return body;
}

export async function fetchSegment(client: S3Client, source: S3Target, seg: ManifestSegment, onBytes: (n: number) => void): Promise<FetchedSegment> {
  if (seg.zstd) {
    const z = seg.zstd;
    const raw = await getChecked(client, source, z.key, z.bytes, z.crc32c);
    onBytes(raw.length);
    const plain = decompressSeekable(raw, `archive object ${z.key}`);
    if (plain.length !== seg.size) throw new InvalidDataError(`archive object ${z.key}: decompresses to ${plain.length} bytes, manifest says ${seg.size}`);
    return { plain, compressedFile: z.keepCompressed ? raw : null };
  }
  const only = seg.parts.length === 1 ? seg.parts[0]! : null;
  if (only !== null) {
    // One part holds the whole segment: its checked body is the segment, no copy.
    const body = await getChecked(client, source, only.key, only.end - only.start, only.crc32c);
    onBytes(body.length);
    return { plain: body, compressedFile: null };
  }
  const plain = new Uint8Array(seg.size);
  for (const p of seg.parts) {
    plain.set(await getChecked(client, source, p.key, p.end - p.start, p.crc32c), p.start);
    onBytes(p.end - p.start);
  }
  return { plain, compressedFile: null };
}
