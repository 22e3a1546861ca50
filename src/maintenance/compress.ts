/**
 * `compressLog(dir)`: compresses the sealed segments of a log directory into seekable zstd (SPEC §9,
 * the `clog compress` command), keeping the newest segments plain: the newest one is the segment a
 * writer appends to and is never compressed (§9.1). Takes the log's single-writer lock (§11A).
 */
import { InvalidInputError } from '../errors.js';
import type { FsRepo } from '../repo/fs.js';
import { segmentFileName } from '../repo/repo.js';
import { fileSize, openLogDir } from './log-dir.js';

export interface CompressOptions {
  /** How many of the newest segments stay uncompressed (≥ 1; default 1). */
  keepLast?: number;
  /** Only report what would be compressed. */
  dryRun?: boolean;
  /** Called after each segment is looked at. */
  onSegment?: (done: number, total: number, result: CompressedSegment) => void;
}

export interface CompressedSegment {
  segment: number;
  /** File length before and after (equal when skipped). */
  before: number;
  after: number;
  /** Why the segment was left alone, or null if it was (or in a dry run would be) compressed. */
  skipped: 'already-compressed' | 'kept' | null;
}

export interface CompressResult {
  segments: CompressedSegment[];
  /** Segments compressed now (or, in a dry run, that would be). */
  compressed: number;
  /** File bytes of the segments compressed now, before and after. */
  bytesBefore: number;
  bytesAfter: number;
  saved: number;
}

export function compressLog(dir: string, options: CompressOptions = {}): CompressResult {
  const keepLast = options.keepLast ?? 1;
  if (!Number.isSafeInteger(keepLast) || keepLast < 1) {
    throw new InvalidInputError(`keepLast must be an integer ≥ 1 (the newest segment is never compressed), got ${keepLast}`);
  }
  const repo = openLogDir(dir);
  // Rewriting segment files is writing: hold the single-writer lock (SPEC §11A), so no live log races us.
  const lock = options.dryRun ? null : repo.lock();
  try {
    return compressSegments(repo, options, keepLast);
  } finally {
    lock?.release();
  }
}

function compressSegments(repo: FsRepo, options: CompressOptions, keepLast: number): CompressResult {
  const offsets = repo.existingOffsets();
  const sealed = Math.max(0, offsets.length - keepLast);
  const segments: CompressedSegment[] = [];
  let bytesBefore = 0;
  let bytesAfter = 0;
  let compressed = 0;
  offsets.forEach((segment, i) => {
    const name = segmentFileName(segment);
    const before = fileSize(repo.root, name) ?? 0;
    let result: CompressedSegment;
    if (i >= sealed) {
      result = { segment, before, after: before, skipped: 'kept' };
    } else if (repo.isCompressed(segment)) {
      result = { segment, before, after: before, skipped: 'already-compressed' };
    } else {
      if (!options.dryRun) repo.compressSegment(segment);
      const after = options.dryRun ? before : (fileSize(repo.root, name) ?? 0);
      result = { segment, before, after, skipped: null };
      compressed++;
      bytesBefore += before;
      bytesAfter += after;
    }
    segments.push(result);
    options.onSegment?.(i + 1, offsets.length, result);
  });
  return { segments, compressed, bytesBefore, bytesAfter, saved: bytesBefore - bytesAfter };
}
