/**
 * restoreLog: rebuilds a log from the archive's manifest, verifying every part's size and CRC32C and
 * every commit's CRC and tx-offset continuity; a damaged or missing object is an error naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '../codec/crc32c.js';
import { decodeSegmentHeader, SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { AlreadyExistsError, InvalidDataError, NotFoundError } from '../errors.js';
import { rebuildIndexes } from '../maintenance/index-rebuild.js';
import { readManifest } from './archive.js';
import { scanFrames } from './frames.js';
import { getRequired, objectKey, type S3Target } from './s3-client.js';

export interface RestoreOptions {
  client: S3Client;
  /** Restore only commits holding tx offsets up to and including `at`. */
  at?: number;
  force?: boolean;
  onProgress?: (p: { segment: number; bytesDownloaded: number }) => void;
}

export async function restoreLog(source: S3Target, dir: string, options: RestoreOptions): Promise<{ segments: number; bytes: number }> {
  const { client } = options;
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0 && !options.force) {
    throw new AlreadyExistsError(`restore destination ${dir} is not empty (use --force)`);
  }
  const manifest = await readManifest(client, source);
  if (manifest === null) throw new NotFoundError(`no archive manifest at s3://${source.bucket}/${source.prefix}`);
  fs.mkdirSync(dir, { recursive: true });
  let bytes = 0;
  let written = 0;
  let nextTx = -1;
  for (const seg of manifest.segments) {
    const buf = new Uint8Array(seg.size);
    for (const p of seg.parts) {
      const body = await getRequired(client, source.bucket, objectKey(source, p.key));
      if (body.length !== p.end - p.start) throw new InvalidDataError(`archive object ${p.key}: ${body.length} bytes, manifest says ${p.end - p.start}`);
      if (crc32c(body) !== p.crc32c) throw new InvalidDataError(`archive object ${p.key}: CRC32C mismatch`);
      buf.set(body, p.start);
      bytes += body.length;
      options.onProgress?.({ segment: seg.offset, bytesDownloaded: bytes });
    }
    if (seg.size < SEGMENT_HEADER_LEN) throw new InvalidDataError(`archive segment ${seg.offset}: shorter than a segment header`);
    const version = decodeSegmentHeader(buf).logFormatVersion;
    if (nextTx !== -1 && seg.offset !== nextTx) throw new InvalidDataError(`archive segment ${seg.offset}: expected tx ${nextTx}`);
    // Scan with an end bound at `at`: commits past it are left out of the restored prefix.
    const scan = scanFrames(buf, SEGMENT_HEADER_LEN, version, seg.offset);
    if (scan.end !== seg.size) throw new InvalidDataError(`archive segment ${seg.offset}: commit ${scan.stop} at byte ${scan.end}`);
    let end = seg.size;
    if (options.at !== undefined && scan.maxTx > options.at) {
      end = cutAt(buf, version, options.at);
    }
    if (end > SEGMENT_HEADER_LEN || written === 0) {
      fs.writeFileSync(path.join(dir, `${String(seg.offset).padStart(20, '0')}.stdb.log`), buf.subarray(0, end));
      written++;
    }
    nextTx = scan.nextTx;
    if (options.at !== undefined && scan.maxTx >= options.at) break;
  }
  rebuildIndexes(dir);
  return { segments: written, bytes };
}

/** Byte end of the last commit whose first tx is <= at (frames already verified by the full scan). */
function cutAt(buf: Uint8Array, version: number, at: number): number {
  let pos = SEGMENT_HEADER_LEN;
  while (pos < buf.length) {
    const single = scanFrames(buf.subarray(0, nextFrameEnd(buf, pos, version)), pos, version, -1);
    if (single.commits === 0 || single.minTx > at) return pos;
    pos = single.end;
  }
  return pos;
}

function nextFrameEnd(buf: Uint8Array, pos: number, version: number): number {
  const hlen = version === 0 ? 14 : 22;
  const len = buf[pos + hlen - 4]! | (buf[pos + hlen - 3]! << 8) | (buf[pos + hlen - 2]! << 16) | (buf[pos + hlen - 1]! * 2 ** 24);
  return pos + hlen + len + 4;
}
