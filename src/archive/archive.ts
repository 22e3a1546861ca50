/**
 * archiveLog: incremental upload of a log directory to S3. Each run uploads, per segment, only what the
 * current manifest does not name: a delta part (the bytes past it, cut at the last complete commit),
 * or with `compress` one zstd object for a sealed segment (any segment followed by a later one, or one
 * compressed on disk). Then it puts a new manifest; the previous one stays valid until then. Objects the
 * new manifest no longer names (parts replaced by a zstd object, pruned segments) are deleted only after.
 *
 * The directory is listed the way the readers list it (`FsRepo.existingOffsets`) and only read, never
 * written (no lock is taken: a live writer may keep appending; what it has not finished is left for
 * the next run). Without `compress` a sealed segment stays as the parts it was archived in.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidDataError } from '../errors.js';
import { openLogDir } from '../maintenance/log-dir.js';
import { LocalSegment } from './local-segment.js';
import { MANIFEST_VERSION, type Manifest, type ManifestSegment } from './manifest.js';
import { putManifest, readManifest } from './manifest-store.js';
import { applyRetention, checkRetainDays, planRetention } from './retention.js';
import { deleteKeys, objectKey, type S3Target } from './s3-client.js';
import { archiveSegment } from './segment-archiver.js';

export { MANIFEST_NAME, readManifest } from './manifest-store.js';
export { partKey } from './segment-archiver.js';

export interface ArchiveProgress {
  segment: number;
  bytesUploaded: number;
  objectsUploaded: number;
}

export interface ArchiveOptions {
  client: S3Client;
  /** Upload sealed segments as one seekable zstd object each (the bytes `clog compress` writes). */
  compress?: boolean;
  /** After archiving, delete whole segments all of whose commits were archived more than this many days ago. */
  retainDays?: number;
  /** The clock (ms since the epoch) for `archivedAt` and retention; tests pass a fake one. */
  now?: () => number;
  onProgress?: (p: ArchiveProgress) => void;
}

export interface ArchiveResult {
  objectsUploaded: number;
  bytesUploaded: number;
  /** Objects deleted: parts replaced by zstd objects and the objects of pruned segments. */
  objectsDeleted: number;
  /** Offsets of the segments retention removed from the archive. */
  prunedSegments: number[];
  manifest: Manifest;
}

/** Last tx offset a manifest segment holds; `offset - 1` when it holds no commit yet. */
function lastTxOf(seg: ManifestSegment): number {
  if (seg.zstd) return seg.zstd.maxTx;
  let last = seg.offset - 1;
  for (const p of seg.parts) if (p.maxTx > last) last = p.maxTx;
  return last;
}

/**
 * A sealed segment's archived commits must lead straight into the next segment. A torn tail left by a
 * crash does (the writer starts the next segment after the last good commit); damage inside a sealed
 * segment does not, and archiving past it would make an archive that cannot be restored. Refuse it.
 */
function checkSealedReachesNext(seg: ManifestSegment | undefined, offset: number, next: number): void {
  const last = seg === undefined ? offset - 1 : lastTxOf(seg);
  if (last + 1 !== next) {
    throw new InvalidDataError(
      `segment ${offset}: its readable commits end at tx ${last} (byte ${seg?.size ?? 0}) but the next segment starts at tx ${next}; ` +
        `the segment is damaged (see 'clog verify'); nothing archived past it`,
    );
  }
}

export async function archiveLog(dir: string, target: S3Target, options: ArchiveOptions): Promise<ArchiveResult> {
  const { client } = options;
  const now = options.now ?? Date.now;
  if (options.retainDays !== undefined) checkRetainDays(options.retainDays);
  const repo = openLogDir(dir);
  const prev = await readManifest(client, target);
  const segments = new Map<number, ManifestSegment>();
  // Segments no longer on disk (pruned locally) stay in the archive until its own retention drops them.
  for (const s of prev?.segments ?? []) segments.set(s.offset, s);
  // Segments older than the archive's first were pruned from it by retention: never upload them again.
  const first = prev?.segments[0]?.offset ?? -1;
  const offsets = repo.existingOffsets().filter((o) => o >= first);
  const ctx = { client, target, compress: options.compress === true, now: Math.floor(now()) };
  const progress: ArchiveProgress = { segment: 0, bytesUploaded: 0, objectsUploaded: 0 };
  const obsolete: string[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const local = LocalSegment.open(repo, offsets[i]!);
    if (local === null) continue;
    try {
      const r = await archiveSegment(ctx, local, i < offsets.length - 1, segments.get(local.offset));
      if (r.seg !== null) segments.set(local.offset, r.seg);
      if (i < offsets.length - 1) checkSealedReachesNext(segments.get(local.offset), local.offset, offsets[i + 1]!);
      obsolete.push(...r.obsoleteKeys);
      progress.bytesUploaded += r.bytes;
      progress.objectsUploaded += r.objects;
    } finally {
      local.close();
    }
    progress.segment = local.offset;
    options.onProgress?.({ ...progress });
  }
  let manifest: Manifest;
  // Nothing new: the previous manifest already names everything, so no put (and no new generation).
  if (prev !== null && progress.objectsUploaded === 0) {
    manifest = prev;
  } else {
    manifest = { version: MANIFEST_VERSION, generation: (prev?.generation ?? 0) + 1, segments: [...segments.values()].sort((a, b) => a.offset - b.offset) };
    await putManifest(client, target, manifest);
  }
  await deleteKeys(client, target.bucket, obsolete.map((k) => objectKey(target, k)));
  let objectsDeleted = obsolete.length;
  let prunedSegments: number[] = [];
  if (options.retainDays !== undefined) {
    const r = await applyRetention(client, target, manifest, planRetention(manifest, options.retainDays, now()));
    manifest = r.manifest;
    objectsDeleted += r.objectsDeleted;
    prunedSegments = r.dropped.map((s) => s.offset);
  }
  return { objectsUploaded: progress.objectsUploaded, bytesUploaded: progress.bytesUploaded, objectsDeleted, prunedSegments, manifest };
}
