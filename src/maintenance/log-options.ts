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

/** Index entries whose spacing is examined (the newest ones), and the bytes of segment scanned at most. */
const SAMPLED_GAPS = 64;
const SCAN_BUDGET_BYTES = 8 * 1024 * 1024;
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
  const samples: Sample[] = [];
  let budget = SCAN_BUDGET_BYTES;
  let examined = 0;
  for (let i = segments.length - 1; i >= 0 && examined < SAMPLED_SEGMENTS && budget > 0; i--) {
    const entries = readEntries(repo, segments[i]!);
    if (entries === null) continue;
    examined++;
    capacity ??= entries.capacity;
    if (given.offsetIndexIntervalBytes !== undefined) break;
    const sample = sampleSegment(repo, segments[i]!, entries, budget);
    if (sample === null) continue;
    budget -= sample.scanned;
    samples.push(sample);
  }
  const interval = samples.length > 0 ? inferInterval(samples) : null;
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

interface Entries {
  capacity: number;
  /** All entries: [key, byte position]. Bounded by the capacity, which the reader holds in memory anyway. */
  pairs: Array<[number, number]>;
}

/** A segment's index entries, or null without a readable index file. */
function readEntries(repo: FsRepo, segment: number): Entries | null {
  let index: IndexFile;
  try {
    index = IndexFile.open(repo.getOffsetIndex(segment), false);
  } catch {
    return null;
  }
  try {
    return { capacity: index.capacity, pairs: [...index.entries()] };
  } finally {
    index.close();
  }
}

interface Sample {
  /** The commits from the first sampled entry to the end of the segment (or of the budget). */
  commits: Array<{ tx: number; pos: number; len: number }>;
  /** The entries from there on. */
  expected: Array<[number, number]>;
  indexFull: boolean;
  scanned: number;
}

/**
 * The newest entries of a segment (each after another entry: just before the commit at such an
 * entry's position the writer's state is known, reset by the previous append) and the commits from
 * the first of them on, or null if the index has too few entries.
 */
function sampleSegment(repo: FsRepo, segment: number, entries: Entries, budget: number): Sample | null {
  const all = entries.pairs;
  if (all.length < 3) return null;
  const lastPos = all[all.length - 1]![1];
  let s = all.length - 1;
  while (s > 1 && all.length - s <= SAMPLED_GAPS && lastPos - all[s - 1]![1] <= budget) s--;
  const expected = all.slice(s);
  const commits: Sample['commits'] = [];
  let scanned = 0;
  for (const ev of scanSegment(repo, segment, { startAt: expected[0]![1] })) {
    if (ev.type === 'problem') break; // replay what was read; a torn tail is not the writer's doing
    if (ev.type !== 'commit') continue;
    const len = FRAMING_LEN + ev.commit.records.length;
    commits.push({ tx: ev.commit.minTxOffset, pos: ev.byteOffset, len });
    scanned += len;
    if (scanned > budget && ev.byteOffset > lastPos) break;
  }
  return { commits, expected, indexFull: all.length >= entries.capacity, scanned };
}

/**
 * The interval that reproduces every sample's entries, and no entry after them, or null. Bounds first,
 * from the gaps (`gap - lastCommitLen < interval <= gap`), then the likeliest values in them are
 * replayed: the default, powers of two, multiples of 1000, the bounds.
 */
function inferInterval(samples: Sample[]): number | null {
  let lo = 0;
  let hi = Number.MAX_SAFE_INTEGER;
  for (const { commits, expected } of samples) {
    const endingAt = new Map(commits.map((c) => [c.pos + c.len, c.len]));
    for (let i = 1; i < expected.length; i++) {
      const gap = expected[i]![1] - expected[i - 1]![1];
      const lastLen = endingAt.get(expected[i]![1]);
      if (lastLen === undefined || gap <= 0) return null; // not the writer's spacing
      lo = Math.max(lo, gap - lastLen);
      hi = Math.min(hi, gap);
    }
  }
  if (lo >= hi) return null;
  const candidates = [DEFAULT_OPTIONS.offsetIndexIntervalBytes];
  for (let p = 2 ** Math.floor(Math.log2(hi)); p > lo; p /= 2) candidates.push(p);
  for (let m = Math.floor(hi / 1000) * 1000, k = 0; m > lo && m > 0 && k < 8; m -= 1000, k++) candidates.push(m);
  candidates.push(hi, lo + 1);
  return (
    candidates.find((c) => c > lo && c <= hi && samples.every((s) => replays(s.commits, s.expected, c, s.indexFull))) ?? null
  );
}

/** Whether the writer's rule with `interval`, started fresh at the first commit, places exactly `expected`. */
function replays(
  commits: Array<{ tx: number; pos: number; len: number }>,
  expected: Array<[number, number]>,
  interval: number,
  indexFull: boolean,
): boolean {
  let n = 0;
  let candidate: { tx: number; pos: number } | null = null;
  let since = 0;
  for (const c of commits) {
    since += c.len;
    candidate ??= { tx: c.tx, pos: c.pos };
    if (since < interval) continue;
    if (n >= expected.length) return indexFull; // an entry the file lacks (unless it had no room)
    const e = expected[n]!;
    if (e[0] !== candidate.tx || e[1] !== candidate.pos) return false;
    n++;
    candidate = null;
    since = 0;
  }
  return n === expected.length;
}
