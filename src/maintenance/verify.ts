/**
 * `verifyLog(dir)`: checks every segment name, segment header, commit and offset index file of a log
 * directory and lists the problems (the `clog verify` command). Commits are decoded by the log's own
 * reader (`scanSegment`), and their sequence is checked with the traversal's rules (SPEC §7.2):
 * duplicates, forks and gaps, across segment boundaries. Read-only.
 */
import type { StoredCommit } from '../codec/commit.js';
import { SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { indexFileName, segmentFileName } from '../repo/repo.js';
import { IndexCheck } from './index-check.js';
import type { LogSource } from '../log/free.js';
import { listLogSource, openLogSource } from './log-dir.js';
import { scanSegment } from './segment-scan.js';

export type ProblemKind =
  | 'checksum'
  | 'out-of-order'
  | 'fork'
  | 'truncated'
  | 'segment-name'
  | 'segment-header'
  | 'unsupported-version'
  | 'index';

export interface Problem {
  kind: ProblemKind;
  /** First offset of the segment concerned (from its name); null for a file that names no segment. */
  segment: number | null;
  /** Byte position in the segment (in its index file for `index`); null when the whole file is meant. */
  byteOffset: number | null;
  /** The transaction offset concerned, where known (for damaged commits: the offset expected there). */
  offset: number | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Commits that decoded with a valid checksum and in sequence. */
  commits: number;
  /** Segment files the readers list. 0 for a directory without segments, which `ok` alone does not reveal. */
  segments: number;
  problems: Problem[];
}

export interface VerifyOptions {
  /** Go past problems to find them all; by default verification stops at the first. */
  continue?: boolean;
  /** Called before each segment is checked. */
  onSegment?: (done: number, total: number, segment: number) => void;
  /**
   * Called after each decoded commit with its segment and byte position: progress within a
   * segment, which can be 1 GiB. Called often; throttle what it does.
   */
  onCommit?: (segment: number, byteOffset: number) => void;
}

/**
 * Verifies the log in `source` (a directory, or a `Repo` such as an `S3Repo`). Throws only for usage
 * and I/O errors (missing directory, unreadable files).
 */
export function verifyLog(source: LogSource, options: VerifyOptions = {}): VerifyResult {
  const repo = openLogSource(source);
  const listing = listLogSource(repo);
  const problems: Problem[] = [];
  let commits = 0;
  const keepGoing = options.continue === true;
  const report = (p: Problem): boolean => {
    problems.push(p);
    return keepGoing;
  };
  const result = (): VerifyResult => ({ ok: problems.length === 0, commits, segments: listing.offsets.length, problems });

  const canonical = new Set<number>();
  for (const f of listing.segmentFiles) {
    if (f.issue === null) {
      canonical.add(f.offset!);
      continue;
    }
    if (!report({ kind: 'segment-name', segment: f.offset, byteOffset: null, offset: null, message: `${f.name}: ${f.issue}` })) {
      return result();
    }
  }

  // The traversal state of SPEC §7.2, carried across segments.
  let prev: { start: number; end: number; checksum: number } | null = null;
  // A damaged commit was met since the last good one: the next good commit may skip offsets it held.
  let afterDamage = false;
  const segments = listing.offsets.filter((o) => canonical.has(o));
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    options.onSegment?.(i, segments.length, segment);
    const index = IndexCheck.open(repo, segment);
    let first = true;
    let end: number | null = null;
    const damaged: Array<[number, number]> = [];
    for (const ev of scanSegment(repo, segment, { resync: keepGoing })) {
      if (ev.type === 'problem') {
        afterDamage = true;
        damaged.push([ev.byteOffset, ev.resumedAt ?? Number.POSITIVE_INFINITY]);
        const offset = prev ? prev.end : first ? segment : null;
        first = false;
        if (!report({ kind: ev.kind, segment, byteOffset: ev.byteOffset, offset, message: ev.message })) return result();
        continue;
      }
      if (ev.type !== 'commit') continue;
      const c = ev.commit;
      const at = ev.byteOffset;
      options.onCommit?.(segment, at);
      index?.see(c.minTxOffset, at);
      end = c.minTxOffset + c.n;
      if (first) {
        first = false;
        // Only a commit right after the header is the segment's first (after damage it may not be).
        if (at === SEGMENT_HEADER_LEN && c.minTxOffset !== segment) {
          const message = `the first commit has offset ${c.minTxOffset}, but the file is named ${segmentFileName(segment)} (readers pick segments by name)`;
          if (!report({ kind: 'segment-name', segment, byteOffset: at, offset: c.minTxOffset, message })) return result();
        }
      }
      const problem = sequenceProblem(prev, c, afterDamage);
      afterDamage = false;
      if (problem) {
        if (!report({ ...problem, segment, byteOffset: at })) return result();
        // Report a gap once, then follow the log from there (the reference would repeat it for every commit).
        if (problem.kind === 'out-of-order' && prev && c.minTxOffset !== prev.start) {
          prev = { start: c.minTxOffset, end: c.minTxOffset + c.n, checksum: c.checksum };
          commits++;
        }
        continue;
      }
      prev = { start: c.minTxOffset, end: c.minTxOffset + c.n, checksum: c.checksum };
      commits++;
    }
    if (index) {
      const indexFile = indexFileName(segment);
      for (const p of [...index.problems, ...index.unmatched(end, damaged)]) {
        const message = `${indexFile}: ${p.message}`;
        if (!report({ kind: 'index', segment, byteOffset: p.byteOffset, offset: null, message })) return result();
      }
    }
  }

  const present = new Set(listing.offsets);
  for (const o of listing.indexOffsets) {
    if (present.has(o)) continue;
    const message = `${indexFileName(o)}: index file without a segment (readers ignore it)`;
    if (!report({ kind: 'index', segment: o, byteOffset: null, offset: null, message })) return result();
  }
  return result();
}

/** The traversal's checks for commit `c` after the accepted commit `prev` (SPEC §7.2), as a problem or null. */
function sequenceProblem(
  prev: { start: number; end: number; checksum: number } | null,
  c: StoredCommit,
  afterDamage: boolean,
): Pick<Problem, 'kind' | 'offset' | 'message'> | null {
  if (prev === null) return null; // the first commit of the log may start anywhere (e.g. after a prune)
  if (c.minTxOffset === prev.start) {
    if (c.checksum !== prev.checksum) {
      return { kind: 'fork', offset: c.minTxOffset, message: `forked history: a second, different commit for offset ${c.minTxOffset}` };
    }
    return {
      kind: 'out-of-order',
      offset: c.minTxOffset,
      message: `duplicate of the previous commit (offset ${c.minTxOffset}); readers skip it, but opening the log refuses it in the newest segment`,
    };
  }
  if (c.minTxOffset === prev.end) return null;
  // Offsets held by a damaged commit are unaccounted for, so only a step back is certain to be wrong.
  if (afterDamage && c.minTxOffset > prev.end) return null;
  const what = c.minTxOffset > prev.end ? `a gap: offsets ${prev.end}..${c.minTxOffset - 1} are missing` : 'offsets go backwards';
  return { kind: 'out-of-order', offset: c.minTxOffset, message: `expected offset ${prev.end}, found ${c.minTxOffset} (${what})` };
}
