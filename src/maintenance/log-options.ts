/**
 * `sourceLogOptions(dir)`: the writer options a log directory was written with, as far as its files
 * tell (issue 17 §5). A mirror needs them for byte-identical offset index files: an index file is
 * `floor(maxSegmentSize / offsetIndexIntervalBytes)` 16-byte entries, and its entries are placed every
 * `offsetIndexIntervalBytes` (SPEC §3.3). Neither option is stored in the log, so:
 *
 * - the index capacity is the size of the newest index file (the one the writer sizes now, QUIRK Q17);
 * - the interval is bounded by the spacing of index entries: entry i+1 is the first commit after the
 *   one that brought the bytes since entry i to the interval, so `gap - lastCommitLen < interval <= gap`.
 *   The default (4096) is taken when it fits every sampled gap, else the largest power of two that
 *   does, else the smallest gap;
 * - `maxSegmentSize` is `capacity × interval` (the smallest size giving that capacity): segment
 *   boundaries of a mirror come from the stream, so only the capacity depends on it.
 *
 * Values given by the caller win. Read-only, and bounded: at most `SAMPLED_GAPS` gaps are scanned.
 */
import { FRAMING_LEN } from '../codec/commit.js';
import { IndexFile, INDEX_ENTRY_LEN } from '../offset-index/index-file.js';
import { DEFAULT_OPTIONS, resolveOptions } from '../options.js';
import type { FsRepo } from '../repo/fs.js';
import { listLogDir, openLogDir } from './log-dir.js';
import { scanSegment } from './segment-scan.js';

/** Where a value came from: the caller, the log's index files, or the library default. */
export type LogOptionSource = 'given' | 'index' | 'default';

export interface SourceLogOptions {
  maxSegmentSize: number;
  offsetIndexIntervalBytes: number;
  /** Size of the newest offset index file in bytes (capacity × 16), null when the log has none. */
  offsetIndexBytes: number | null;
  from: { maxSegmentSize: LogOptionSource; offsetIndexIntervalBytes: LogOptionSource };
}

/** Index entries whose spacing is examined (the newest ones). */
const SAMPLED_GAPS = 64;
/** Segments examined, newest first, for an index with at least two entries. */
const SAMPLED_SEGMENTS = 4;

export function sourceLogOptions(
  dir: string,
  given: { maxSegmentSize?: number; offsetIndexIntervalBytes?: number } = {},
): SourceLogOptions {
  const checked = resolveOptions({ maxSegmentSize: given.maxSegmentSize, offsetIndexIntervalBytes: given.offsetIndexIntervalBytes });
  const repo = openLogDir(dir);
  const segments = listLogDir(repo.root).offsets;
  let capacity: number | null = null;
  let interval: number | null = null;
  let examined = 0;
  for (let i = segments.length - 1; i >= 0 && examined < SAMPLED_SEGMENTS; i--) {
    const entries = readEntries(repo, segments[i]!);
    if (entries === null) continue;
    examined++;
    capacity ??= entries.capacity;
    if (given.offsetIndexIntervalBytes !== undefined) break;
    interval = inferInterval(repo, segments[i]!, entries.pairs);
    if (interval !== null) break;
  }
  const offsetIndexIntervalBytes = given.offsetIndexIntervalBytes ?? interval ?? DEFAULT_OPTIONS.offsetIndexIntervalBytes;
  const intervalFrom: LogOptionSource = given.offsetIndexIntervalBytes !== undefined ? 'given' : interval !== null ? 'index' : 'default';
  let maxSegmentSize = checked.maxSegmentSize;
  let sizeFrom: LogOptionSource = given.maxSegmentSize !== undefined ? 'given' : 'default';
  if (given.maxSegmentSize === undefined && capacity !== null && capacity > 0) {
    maxSegmentSize = capacity * offsetIndexIntervalBytes;
    sizeFrom = 'index';
  }
  return {
    maxSegmentSize,
    offsetIndexIntervalBytes,
    offsetIndexBytes: capacity === null ? null : capacity * INDEX_ENTRY_LEN,
    from: { maxSegmentSize: sizeFrom, offsetIndexIntervalBytes: intervalFrom },
  };
}

/** Capacity and the last `SAMPLED_GAPS + 1` entries of a segment's index, or null without a readable one. */
function readEntries(repo: FsRepo, segment: number): { capacity: number; pairs: Array<[number, number]> } | null {
  let index: IndexFile;
  try {
    index = IndexFile.open(repo.getOffsetIndex(segment), false);
  } catch {
    return null;
  }
  try {
    const pairs: Array<[number, number]> = [];
    for (const e of index.entries()) {
      pairs.push(e);
      if (pairs.length > SAMPLED_GAPS + 1) pairs.shift();
    }
    return { capacity: index.capacity, pairs };
  } finally {
    index.close();
  }
}

/** The interval the entries' spacing allows (see the file comment), or null if they allow none or are too few. */
function inferInterval(repo: FsRepo, segment: number, pairs: Array<[number, number]>): number | null {
  if (pairs.length < 2) return null;
  const positions = pairs.map((p) => p[1]);
  for (let i = 1; i < positions.length; i++) if (positions[i]! <= positions[i - 1]!) return null;
  // Commit lengths between the first and last sampled entry: the commit ending at each entry.
  const endingAt = new Map<number, number>();
  const last = positions[positions.length - 1]!;
  for (const ev of scanSegment(repo, segment, { startAt: positions[0]! })) {
    if (ev.type === 'problem') return null;
    if (ev.type !== 'commit') continue;
    if (ev.byteOffset >= last) break;
    const len = FRAMING_LEN + ev.commit.records.length;
    endingAt.set(ev.byteOffset + len, len);
  }
  let lo = 0; // exclusive
  let hi = Number.MAX_SAFE_INTEGER; // inclusive
  for (let i = 1; i < positions.length; i++) {
    const gap = positions[i]! - positions[i - 1]!;
    const lastLen = endingAt.get(positions[i]!);
    if (lastLen === undefined) return null; // the entry is not at a commit boundary: not the writer's spacing
    lo = Math.max(lo, gap - lastLen);
    hi = Math.min(hi, gap);
  }
  if (lo >= hi) return null;
  const fits = (v: number): boolean => v > lo && v <= hi;
  if (fits(DEFAULT_OPTIONS.offsetIndexIntervalBytes)) return DEFAULT_OPTIONS.offsetIndexIntervalBytes;
  const pow2 = 2 ** Math.floor(Math.log2(hi));
  return fits(pow2) ? pow2 : hi;
}
