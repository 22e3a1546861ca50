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
import { SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
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
  /** The entries whose spacing bounds the interval. */
  pairs: Array<[number, number]>;
  indexFull: boolean;
  scanned: number;
}

/**
 * Entries of a segment and the commits they were chosen from, replayable from a known writer state:
 * the segment's start (a writer creating a segment starts fresh) when all its entries fit the sample,
 * else an entry with a predecessor (just before the commit at such an entry's position the state was
 * reset by the previous append). Null if the index has no entry.
 */
function sampleSegment(repo: FsRepo, segment: number, entries: Entries, budget: number): Sample | null {
  const all = entries.pairs;
  if (all.length === 0) return null;
  const lastPos = all[all.length - 1]![1];
  let s = all.length - 1;
  while (s > 0 && all.length - s <= SAMPLED_GAPS && lastPos - all[s - 1]![1] <= budget) s--;
  if (s === 0 && all.length - 1 > SAMPLED_GAPS) s = 1;
  if (s > 0 && s === all.length - 1 && all.length < 3) return null;
  const expected = all.slice(s);
  const commits: Sample['commits'] = [];
  let scanned = 0;
  const startAt = s === 0 ? SEGMENT_HEADER_LEN : expected[0]![1];
  for (const ev of scanSegment(repo, segment, { startAt })) {
    if (ev.type === 'problem') break; // replay what was read; a torn tail is not the writer's doing
    if (ev.type !== 'commit') continue;
    const len = FRAMING_LEN + ev.commit.records.length;
    commits.push({ tx: ev.commit.minTxOffset, pos: ev.byteOffset, len });
    scanned += len;
    if (scanned > budget && ev.byteOffset > lastPos) break;
  }
  // Pairs of entries after the first: entry 1 may follow bytes counted before any candidate (QUIRK Q12).
  const pairs = s === 0 ? expected.slice(1) : expected;
  return { commits, expected, pairs, indexFull: all.length >= entries.capacity, scanned };
}

/**
 * The interval that reproduces the most samples' entries (and no entry after them), or null if it
 * reproduces none. A sample may not replay at all: a writer that reopened its segment midway started
 * afresh there. Candidates come from each sample's bounds (`gap - lastCommitLen < interval <= gap`
 * between entries): the default first, then powers of two, multiples of 1000, the bounds.
 */
function inferInterval(samples: Sample[]): number | null {
  const candidates = new Set([DEFAULT_OPTIONS.offsetIndexIntervalBytes]);
  for (const { commits, pairs } of samples) {
    const endingAt = new Map(commits.map((c) => [c.pos + c.len, c.len]));
    let lo = 0;
    let hi = 2 ** 40;
    for (let i = 1; i < pairs.length; i++) {
      const gap = pairs[i]![1] - pairs[i - 1]![1];
      const lastLen = endingAt.get(pairs[i]![1]) ?? 0;
      lo = Math.max(lo, gap - lastLen);
      hi = Math.min(hi, gap);
    }
    if (lo >= hi) continue;
    for (let p = 2 ** Math.floor(Math.log2(hi)), k = 0; p > lo && p >= 1 && k < 40; p /= 2, k++) candidates.add(p);
    for (let m = Math.floor(hi / 1000) * 1000, k = 0; m > lo && m > 0 && k < 8; m -= 1000, k++) candidates.add(m);
    if (hi < 2 ** 40) candidates.add(hi);
    candidates.add(lo + 1);
  }
  let best: number | null = null;
  let bestScore = 0;
  for (const c of candidates) {
    const score = samples.filter((s) => replays(s.commits, s.expected, c, s.indexFull)).length;
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Whether the writer's rule with `interval`, started fresh at the first commit, places exactly `expected`. */
function replays(
  commits: Array<{ tx: number; pos: number; len: number }>,
  expected: Array<[number, number]>,
  interval: number,
  indexFull: boolean,
): boolean {
  let n = 0;
  // As OffsetIndexWriter: tx 0 is "no candidate" (QUIRK Q12), yet its bytes count.
  let candidate: { tx: number; pos: number } | null = null;
  let since = 0;
  for (const c of commits) {
    since += c.len;
    if (candidate === null || candidate.tx === 0) candidate = { tx: c.tx, pos: c.pos };
    if (candidate.tx === 0 || since < interval) continue;
    if (n >= expected.length) return indexFull; // an entry the file lacks (unless it had no room)
    const e = expected[n]!;
    if (e[0] !== candidate.tx || e[1] !== candidate.pos) return false;
    n++;
    candidate = null;
    since = 0;
  }
  return n === expected.length;
}
