/**
 * restoreLog: rebuilds a log from the archive's manifest, verifying every object's size and CRC32C and
 * every commit's CRC and tx-offset continuity; a damaged or missing object is an error naming it.
 *
 * What it guarantees: each restored segment is byte-identical to the source's file as archived (a
 * segment archived as a zstd object of a file compressed on disk is written compressed, as the source
 * had it; one compressed only for the archive is written uncompressed). With `at`, the log is the
 * source's prefix ending with the commit holding tx `at` (a segment cut there is written uncompressed).
 * A pruned archive restores from its first kept segment. Index files are rebuilt; the directory holds
 * nothing else afterwards (the lock `rebuildIndexes` takes leaves no `commitlog.lock` behind). With
 * `force`, the segment and index files already in it are deleted first.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { decodeSegmentHeader, SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { AlreadyExistsError, InvalidDataError, InvalidInputError, NotFoundError } from '../errors.js';
import { rebuildIndexes } from '../maintenance/index-rebuild.js';
import { acquireDirLock, LOCK_FILE_NAME } from '../repo/lock.js';
import { INDEX_FILE_EXT, SEGMENT_FILE_EXT, segmentFileName } from '../repo/repo.js';
import { scanFrames } from './frames.js';
import { readManifest } from './manifest-store.js';
import { type S3Target } from './s3-client.js';
import { fetchSegment, type FetchedSegment } from './segment-fetch.js';

export interface RestoreOptions {
  client: S3Client;
  /** Restore only commits holding tx offsets up to and including `at`. */
  at?: number;
  force?: boolean;
  onProgress?: (p: { segment: number; bytesDownloaded: number }) => void;
}

export async function restoreLog(source: S3Target, dir: string, options: RestoreOptions): Promise<{ segments: number; bytes: number }> {
  const { client, at } = options;
  const nonEmpty = fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
  if (nonEmpty && !options.force) throw new AlreadyExistsError(`restore destination ${dir} is not empty (use --force)`);
  const manifest = await readManifest(client, source);
  if (manifest === null) throw new NotFoundError(`no archive manifest at s3://${source.bucket}/${source.prefix}`);
  if (at !== undefined && !(Number.isSafeInteger(at) && at >= 0)) throw new InvalidInputError(`restore: at must be a tx offset ≥ 0, got ${at}`);
  const first = manifest.segments[0];
  if (at !== undefined && first !== undefined && at < first.offset) {
    throw new InvalidInputError(`cannot restore to tx ${at}: the archive starts at tx ${first.offset} (older segments were pruned)`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const hadLock = fs.existsSync(path.join(dir, LOCK_FILE_NAME));
  // --force replaces the log in DEST: its old segments and indexes go first, or a longer old log would
  // leave segments past the restored ones behind. Refused (LockedError) while a writer holds DEST.
  if (nonEmpty) removeLogFiles(dir);
  let bytes = 0;
  let written = 0;
  let nextTx = -1;
  const segs = manifest.segments;
  const download = (i: number): Promise<FetchedSegment> | null => {
    const seg = segs[i];
    if (seg === undefined) return null;
    const p = fetchSegment(client, source, seg, (n) => {
      bytes += n;
      options.onProgress?.({ segment: seg.offset, bytesDownloaded: bytes });
    });
    p.catch(() => {}); // awaited below, or dropped when --at stops early: never an unhandled rejection
    return p;
  };
  // One segment is downloaded ahead while the current one is checked and written: the network and the
  // CPU overlap (at most two segments in memory).
  let ahead = download(0);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const { plain, compressedFile } = await ahead!;
    ahead = download(i + 1);
    if (seg.size < SEGMENT_HEADER_LEN) throw new InvalidDataError(`archive segment ${seg.offset}: shorter than a segment header`);
    const version = decodeSegmentHeader(plain).logFormatVersion;
    if (nextTx !== -1 && seg.offset !== nextTx) throw new InvalidDataError(`archive segment ${seg.offset}: expected tx ${nextTx}`);
    const scan = scanFrames(plain, SEGMENT_HEADER_LEN, version, seg.offset);
    if (scan.end !== seg.size) throw new InvalidDataError(`archive segment ${seg.offset}: commit ${scan.stop} at byte ${scan.end}`);
    const end = at !== undefined && scan.maxTx > at ? scanFrames(plain, SEGMENT_HEADER_LEN, version, seg.offset, at).end : seg.size;
    if (end > SEGMENT_HEADER_LEN || written === 0) {
      const file = compressedFile !== null && end === seg.size ? compressedFile : plain.subarray(0, end);
      fs.writeFileSync(path.join(dir, segmentFileName(seg.offset)), file);
      written++;
    }
    nextTx = scan.nextTx;
    if (at !== undefined && scan.maxTx >= at) break;
  }
  rebuildIndexes(dir);
  // Restore made the directory: the lock file rebuildIndexes created (and released) is not the log's.
  if (!hadLock) fs.rmSync(path.join(dir, LOCK_FILE_NAME), { force: true });
  return { segments: written, bytes };
}

/** Deletes the segment and index files of `dir` under its lock (nothing else in it is touched). */
function removeLogFiles(dir: string): void {
  const lock = acquireDirLock(dir);
  try {
    for (const n of fs.readdirSync(dir)) if (n.endsWith(SEGMENT_FILE_EXT) || n.endsWith(INDEX_FILE_EXT)) fs.rmSync(path.join(dir, n));
  } finally {
    lock.release();
  }
}
