/**
 * `resetLog(dir, offset)`: what `resetTo` (SPEC §8.2) will discard, and doing it (the `clog reset-to`
 * command). The plan follows the same walk as `resetTo` — segments newest first, whole commits — so
 * it can be shown before anything is deleted.
 */
import { FRAMING_LEN } from '../codec/commit.js';
import { SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { checkU64Input } from '../codec/u64.js';
import { resetTo } from '../log/free.js';
import { seekToOffset } from '../offset-index/seek.js';
import type { FsRepo } from '../repo/fs.js';
import type { StorageFile } from '../repo/repo.js';
import { CommitReader } from '../segment/commit-reader.js';
import { closeQuietly, tryOpenIndex } from '../segment/resume.js';
import { InvalidInputError } from '../errors.js';
import { openLogDir } from './log-dir.js';
import { scanSegment } from './segment-scan.js';

export interface ResetPlan {
  offset: number;
  /** Segments deleted whole, newest first. */
  removeSegments: number[];
  /** The segment cut at a commit boundary, or null (nothing to cut, or every segment goes). */
  truncate: { segment: number; size: number; newSize: number; compressed: boolean } | null;
  /** Last committed transaction offset before and after (null: none). */
  maxOffsetBefore: number | null;
  maxOffsetAfter: number | null;
  /** Whether anything changes. */
  changes: boolean;
  /** The log held commits and would hold none afterwards: every segment goes (e.g. an offset below the first). */
  leavesEmpty: boolean;
  /** A damaged commit met while walking the segment to cut (resetTo cannot read past it), or null. */
  damage: string | null;
}

export function planResetTo(dir: string, offset: number): ResetPlan {
  checkU64Input(offset, 'offset');
  return plan(openLogDir(dir), offset);
}

/**
 * Carries out `resetTo(dir, offset)` (which takes the single-writer lock itself, SPEC §11A); returns the
 * plan it followed, with `maxOffsetAfter` as found afterwards. A reset that would remove every commit
 * (`leavesEmpty`) is refused with `InvalidInputError` unless `allowEmpty`: a mistyped offset must not
 * cost the whole log.
 */
export function resetLog(dir: string, offset: number, options: { allowEmpty?: boolean } = {}): ResetPlan {
  checkU64Input(offset, 'offset');
  const repo = openLogDir(dir);
  const p = plan(repo, offset);
  if (p.leavesEmpty && options.allowEmpty !== true) {
    throw new InvalidInputError(
      `resetting to ${offset} would remove every segment (the log starts after it); allowEmpty permits it`,
    );
  }
  if (p.changes) resetTo(repo, offset);
  return { ...p, maxOffsetAfter: maxCommittedOffset(repo) };
}

function plan(repo: FsRepo, offset: number): ResetPlan {
  const segments = repo.existingOffsets();
  const removeSegments: number[] = [];
  let truncate: ResetPlan['truncate'] = null;
  let maxOffsetAfter: number | null = null;
  let damage: string | null = null;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (segment > offset) {
      removeSegments.push(segment);
      continue;
    }
    let size = 0;
    let compressed = false;
    // Like resetTo, start from the offset index entry at or below `offset` when it checks out.
    let position = seekStart(repo, segment, offset);
    let lastTx: number | null = null;
    for (const ev of scanSegment(repo, segment, { startAt: position })) {
      if (ev.type === 'file') {
        size = ev.size;
        compressed = ev.compressed;
      } else if (ev.type === 'problem') {
        damage = `segment ${segment} byte ${ev.byteOffset}: ${ev.message}`;
      } else if (ev.type === 'commit') {
        if (ev.commit.minTxOffset > offset) break;
        position = ev.byteOffset + FRAMING_LEN + ev.commit.records.length;
        lastTx = ev.commit.minTxOffset + ev.commit.n - 1;
      }
    }
    if (position === SEGMENT_HEADER_LEN) {
      removeSegments.push(segment);
      continue;
    }
    maxOffsetAfter = lastTx;
    if (position !== size) truncate = { segment, size, newSize: position, compressed };
    break;
  }
  const maxOffsetBefore = maxCommittedOffset(repo);
  const changes = removeSegments.length > 0 || truncate !== null;
  return {
    offset,
    removeSegments,
    truncate,
    maxOffsetBefore,
    maxOffsetAfter,
    changes,
    leavesEmpty: changes && maxOffsetBefore !== null && maxOffsetAfter === null,
    damage,
  };
}

/** Where resetTo starts reading segment `segment` (SPEC §8.2, §3.7): the checked index entry for `offset`, or the first commit. */
function seekStart(repo: FsRepo, segment: number, offset: number): number {
  const index = tryOpenIndex(repo, segment);
  if (!index) return SEGMENT_HEADER_LEN;
  let file: StorageFile | null = null;
  try {
    file = repo.openSegmentReader(segment);
    return seekToOffset(new CommitReader(file, SEGMENT_HEADER_LEN, 1), index, offset);
  } catch {
    return SEGMENT_HEADER_LEN; // no usable entry: resetTo scans from the first commit too
  } finally {
    index.close();
    if (file) closeQuietly(file);
  }
}

/** The last readable transaction offset: the end of the valid commits of the newest segment that has any. */
function maxCommittedOffset(repo: FsRepo): number | null {
  const segments = repo.existingOffsets();
  for (let i = segments.length - 1; i >= 0; i--) {
    let last: number | null = null;
    for (const ev of scanSegment(repo, segments[i]!)) {
      if (ev.type === 'commit') last = ev.commit.minTxOffset + ev.commit.n - 1;
    }
    if (last !== null) return last;
  }
  return null;
}
