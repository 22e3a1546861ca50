/**
 * `pruneLog(dir, before)`: deletes the oldest whole segments whose transactions all lie below
 * `before` (the `clog prune` command), e.g. once a snapshot covers them. The newest segment is never
 * deleted. Segments are removed oldest first, so an interruption leaves a log that still starts at a
 * segment boundary and has no holes. Deleting takes the log's single-writer lock (SPEC §11A).
 */
import { checkU64Input } from '../codec/u64.js';
import type { FsRepo } from '../repo/fs.js';
import { indexFileName, segmentFileName } from '../repo/repo.js';
import { InvalidInputError } from '../errors.js';
import { fileSize, openLogDir } from './log-dir.js';
import { scanSegment } from './segment-scan.js';

export interface PrunedSegment {
  segment: number;
  /** The offset after its last transaction: where the next segment starts. */
  end: number;
  /** Bytes of the segment file and its index file. */
  bytes: number;
}

export interface PruneResult {
  before: number;
  /** False for a dry run. */
  executed: boolean;
  segments: PrunedSegment[];
  bytes: number;
  /** First offset of the log afterwards (the first kept segment), null for an empty log. */
  firstKeptSegment: number | null;
  /**
   * Segments go and no kept segment holds a commit: the log would be empty of commits (the newest
   * segment, always kept, is then one a writer created and never wrote to).
   */
  leavesEmpty: boolean;
}

/**
 * Segments are identified by name: segment `i` holds offsets `[name(i), name(i + 1))`, as traversal
 * assumes when it picks segments (SPEC §7.1). Without `execute` nothing is deleted (a dry run).
 * Deleting every commit (`leavesEmpty`) is refused with `InvalidInputError` unless `allowEmpty`.
 */
export function pruneLog(dir: string, before: number, options: { execute?: boolean; allowEmpty?: boolean } = {}): PruneResult {
  const allowEmpty = options.allowEmpty === true;
  checkU64Input(before, 'before');
  const repo = openLogDir(dir);
  if (!options.execute) return prune(repo, before, false, allowEmpty);
  // Deleting segments is writing (SPEC §11A): decide and delete under the single-writer lock.
  const lock = repo.lock();
  try {
    return prune(repo, before, true, allowEmpty);
  } finally {
    lock.release();
  }
}

/** Whether a segment has at least one readable commit (stops at the first). */
function holdsCommit(repo: FsRepo, segment: number): boolean {
  for (const ev of scanSegment(repo, segment)) if (ev.type === 'commit') return true;
  return false;
}

function prune(repo: FsRepo, before: number, execute: boolean, allowEmpty: boolean): PruneResult {
  // Duplicate listings (`5.stdb.log` next to the 20-digit name, QUIRK Q36) are one segment.
  const offsets = [...new Set(repo.existingOffsets())];
  const segments: PrunedSegment[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) {
    const end = offsets[i + 1]!;
    if (end > before) break;
    const segment = offsets[i]!;
    const bytes = (fileSize(repo.root, segmentFileName(segment)) ?? 0) + (fileSize(repo.root, indexFileName(segment)) ?? 0);
    segments.push({ segment, end, bytes });
  }
  const leavesEmpty = segments.length > 0 && !offsets.slice(segments.length).some((o) => holdsCommit(repo, o));
  if (execute && leavesEmpty && !allowEmpty) {
    throw new InvalidInputError(
      `pruning before ${before} would leave the log without commits (the kept segments hold none); allowEmpty permits it`,
    );
  }
  if (execute) for (const s of segments) repo.removeSegment(s.segment);
  return {
    leavesEmpty,
    before,
    executed: execute,
    segments,
    bytes: segments.reduce((sum, s) => sum + s.bytes, 0),
    firstKeptSegment: offsets[segments.length] ?? null,
  };
}
