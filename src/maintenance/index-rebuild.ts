/**
 * `rebuildIndexes(dir)`: regenerates the offset index files (`*.stdb.ofs`, SPEC §3) from the segments
 * (the `clog index rebuild` command). 1.3.0 never rebuilds an index (§3.8); this replays the segment's
 * commits through the writer's own `OffsetIndexWriter`, so the entries are those a writer with the
 * given `offsetIndexIntervalBytes` would have written (§3.3: the first commit since the last entry,
 * once the interval has accumulated; offset 0 never). Stale entries (QUIRK Q13/Q15/Q16) disappear.
 * Takes the log's single-writer lock (§11A).
 */
import { FRAMING_LEN } from '../codec/commit.js';
import { IndexError, messageOf } from '../errors.js';
import { INDEX_ENTRY_LEN, IndexFile } from '../offset-index/index-file.js';
import { OffsetIndexWriter } from '../offset-index/offset-index-writer.js';
import { offsetIndexLen, resolveOptions } from '../options.js';
import type { FsRepo } from '../repo/fs.js';
import { indexFileName } from '../repo/repo.js';
import { fileSize, listLogDir, openLogDir } from './log-dir.js';
import { scanSegment } from './segment-scan.js';

export interface RebuildOptions {
  /** With `offsetIndexIntervalBytes`, sets the capacity (`maxSegmentSize / interval` entries). */
  maxSegmentSize?: number;
  /** Bytes between entries, as the writer's option (default 4096). */
  offsetIndexIntervalBytes?: number;
  /** Rebuild only these segments (default: all). */
  segments?: number[];
  onSegment?: (done: number, total: number, segment: number) => void;
}

export interface RebuiltIndex {
  segment: number;
  entries: number;
  /** Capacity of the new file in entries. */
  capacity: number;
  /** Commits replayed into the index. */
  commits: number;
  /** Why replaying stopped before the end of the segment (damage, a gap, a full index), or null. */
  stoppedEarly: string | null;
}

export interface RebuildResult {
  indexes: RebuiltIndex[];
  /** Index files without a segment, removed. */
  removedOrphans: number[];
}

/**
 * The capacity is `maxSegmentSize / interval` when `maxSegmentSize` is given; otherwise an existing
 * index file keeps its capacity (it was sized by the writer's options), and a missing one gets the
 * default options' capacity.
 */
export function rebuildIndexes(dir: string, options: RebuildOptions = {}): RebuildResult {
  const resolved = resolveOptions({
    maxSegmentSize: options.maxSegmentSize,
    offsetIndexIntervalBytes: options.offsetIndexIntervalBytes,
  });
  const repo = openLogDir(dir);
  // Index files belong to the writer (SPEC §11A): never rebuild one under a live writer.
  const lock = repo.lock();
  try {
    return rebuild(repo, options, offsetIndexLen(resolved), resolved.offsetIndexIntervalBytes);
  } finally {
    lock.release();
  }
}

function rebuild(repo: FsRepo, options: RebuildOptions, defaultCapacity: number, interval: number): RebuildResult {
  const listing = listLogDir(repo.root);
  const wanted = options.segments ? new Set(options.segments) : null;
  const segments = listing.offsets.filter((o) => wanted === null || wanted.has(o));
  const indexes = segments.map((segment, i) => {
    options.onSegment?.(i, segments.length, segment);
    const existing = fileSize(repo.root, indexFileName(segment));
    const capacity =
      options.maxSegmentSize === undefined && existing !== null && existing >= INDEX_ENTRY_LEN
        ? Math.floor(existing / INDEX_ENTRY_LEN)
        : defaultCapacity;
    return rebuildOne(repo, segment, capacity, interval);
  });
  const removedOrphans: number[] = [];
  if (wanted === null) {
    const present = new Set(listing.offsets);
    for (const o of listing.indexOffsets) {
      if (present.has(o)) continue;
      repo.removeOffsetIndex(o);
      removedOrphans.push(o);
    }
  }
  return { indexes, removedOrphans };
}

function rebuildOne(repo: FsRepo, segment: number, capacity: number, interval: number): RebuiltIndex {
  // A fresh zero-filled file: whatever the old one held is gone.
  repo.removeOffsetIndex(segment);
  const index = IndexFile.open(repo.createOffsetIndex(segment, capacity), true);
  // `requireSegmentFsync` so that `onCommitWritten` leaves the append to us and we see its errors.
  const writer = new OffsetIndexWriter(index, interval, true);
  let commits = 0;
  let stoppedEarly: string | null = null;
  let expected: number | null = null;
  try {
    for (const ev of scanSegment(repo, segment)) {
      if (ev.type === 'problem') {
        stoppedEarly = `byte ${ev.byteOffset}: ${ev.message}`;
        break;
      }
      if (ev.type !== 'commit') continue;
      const c = ev.commit;
      if (expected !== null && c.minTxOffset !== expected) {
        stoppedEarly = `byte ${ev.byteOffset}: expected offset ${expected}, found ${c.minTxOffset}`;
        break;
      }
      writer.onCommitWritten(c.minTxOffset, ev.byteOffset, FRAMING_LEN + c.records.length);
      try {
        writer.tryAppend();
      } catch (e) {
        if (!(e instanceof IndexError)) throw e;
        stoppedEarly = `at offset ${c.minTxOffset}: ${e.code === 'INDEX_OUT_OF_RANGE' ? `the index is full (${capacity} entries)` : messageOf(e)}`;
        break;
      }
      expected = c.minTxOffset + c.n;
      commits++;
    }
    index.flush();
    return { segment, entries: index.numEntries, capacity, commits, stoppedEarly };
  } finally {
    writer.close();
  }
}
