/**
 * Walks one segment commit by commit with the log's own `CommitReader` (the one framing decoder, SPEC
 * §2.3) and reports what it finds as events: the file, its header, each commit with its byte position,
 * and each problem. Unlike traversal it can resynchronise after a damaged commit, so `verify
 * --continue` finds every problem in a segment instead of abandoning it at the first.
 */
import { COMMIT_HEADER_LEN, FRAMING_LEN, type StoredCommit, commitHeaderLen } from '../codec/commit.js';
import { SEGMENT_HEADER_LEN, type SegmentHeader } from '../codec/segment-header.js';
import { ZstdSegmentFile } from '../compress/zstd-file.js';
import { NotFoundError, UnexpectedEofError, isCorruptionKind, messageOf } from '../errors.js';
import type { Repo, StorageFile } from '../repo/repo.js';
import { segmentFileName } from '../repo/repo.js';
import { CommitReader } from '../segment/commit-reader.js';
import { readSegmentHeader } from '../segment/metadata.js';

/** The highest log format version this implementation reads (traversal of the free functions, §7.1). */
export const MAX_LOG_FORMAT_VERSION = 1;

export type ScanProblemKind = 'checksum' | 'truncated' | 'segment-name' | 'segment-header' | 'unsupported-version';

export type ScanEvent =
  /** The segment file is open: its (decompressed) length and whether it is stored compressed. */
  | { type: 'file'; size: number; compressed: boolean }
  | { type: 'header'; header: SegmentHeader }
  | { type: 'commit'; commit: StoredCommit; byteOffset: number }
  /** `resumedAt`: where a valid commit was found again after the damage (with `resync`), else null. */
  | { type: 'problem'; kind: ScanProblemKind; byteOffset: number; message: string; resumedAt: number | null };

export interface ScanOptions {
  /** After a damaged commit, look for the next valid one instead of abandoning the segment. */
  resync?: boolean;
  /** Byte position of the first commit to read (default: right after the header). */
  startAt?: number;
}

/**
 * A resynchronisation candidate must claim an offset in `[lower, lower + MAX_RESYNC_GAP)`: garbage
 * rarely looks like that, so few candidates reach the (costly) checksum test.
 */
const MAX_RESYNC_GAP = 2 ** 32;
/** Bytes of candidate commits checksummed per resynchronisation before giving up (bounds the work on garbage). */
const RESYNC_BUDGET_BYTES = 256 * 1024 * 1024;

/**
 * Scans segment `segment` of `repo`. Corruption (checksums, torn commits, bad headers) is reported as
 * `problem` events; real I/O errors are thrown.
 */
export function* scanSegment(repo: Repo, segment: number, options: ScanOptions = {}): Generator<ScanEvent, void, undefined> {
  let file: StorageFile;
  try {
    file = repo.openSegmentReader(segment);
  } catch (e) {
    if (e instanceof NotFoundError) {
      yield problem('segment-name', 0, `cannot open ${segmentFileName(segment)}: ${messageOf(e)}`);
      return;
    }
    if (!isCorruptionKind(e)) throw e;
    // A compressed segment whose seek table or frames cannot be decoded.
    yield problem('segment-header', 0, `cannot open the segment: ${messageOf(e)}`);
    return;
  }
  try {
    const size = file.size();
    yield { type: 'file', size, compressed: file instanceof ZstdSegmentFile };
    let header: SegmentHeader;
    try {
      header = readSegmentHeader(file).header;
    } catch (e) {
      if (!isCorruptionKind(e)) throw e;
      yield problem('segment-header', 0, messageOf(e));
      return;
    }
    yield { type: 'header', header };
    if (header.logFormatVersion > MAX_LOG_FORMAT_VERSION) {
      yield problem('unsupported-version', 6, `unsupported log format version ${header.logFormatVersion} (this reader supports up to ${MAX_LOG_FORMAT_VERSION})`);
      return;
    }
    if (header.checksumAlgorithm !== 0) {
      yield problem('segment-header', 7, `unsupported checksum algorithm ${header.checksumAlgorithm} (only 0 = CRC32C exists)`);
      return;
    }
    const startAt = options.startAt ?? SEGMENT_HEADER_LEN;
    yield* scanCommits(file, segment, header.logFormatVersion, size, startAt, options.resync === true);
  } finally {
    try {
      file.close();
    } catch {
      // read-only handle: nothing to lose
    }
  }
}

function* scanCommits(
  file: StorageFile,
  segment: number,
  version: number,
  size: number,
  startAt: number,
  resync: boolean,
): Generator<ScanEvent, void, undefined> {
  const reader = new CommitReader(file, startAt, version);
  let lower = segment;
  let epochFloor = 0;
  for (;;) {
    let start = reader.position;
    let c: StoredCommit | null;
    try {
      c = reader.next();
    } catch (e) {
      if (!isCorruptionKind(e)) throw e;
      const torn = e instanceof UnexpectedEofError;
      // After a checksum mismatch the reader stands after the commit's declared end: try there first.
      const afterFrame = torn ? null : reader.position;
      // A "torn" commit followed by valid ones was not torn but has a damaged length field: look ahead
      // to tell the two apart even when not going on.
      const search = (resync || torn) && version !== 0;
      const found = search ? findNextCommit(reader, size, start, afterFrame, lower, epochFloor) : null;
      if (found === null) {
        yield problem(torn ? 'truncated' : 'checksum', start, describe(e, torn, size - start, null, search), null);
        return;
      }
      yield problem('checksum', start, describe(e, torn, size - start, found.position, true), found.position);
      if (!resync) return;
      start = found.position;
      c = found.commit;
    }
    if (c === null) {
      const rest = size - start;
      if (rest > 0 && rest < commitHeaderLen(version)) {
        const bytes = `${rest} byte${rest === 1 ? '' : 's'}`;
        yield problem('truncated', start, `${bytes} after the last commit, too few for a commit (a torn write; readers ignore them)`);
      } else if (rest > 0 && !allZero(file, start, size)) {
        // Only a version-0 segment stops early: an all-zero commit header is its end marker (QUIRK Q1,
        // X12). Readers then skip whatever follows, so data there would be lost without a word.
        yield problem(
          'checksum',
          start,
          `${rest} bytes after byte ${start} are never read: a version-${version} segment ends at an all-zero commit header, ` +
            `but data follows (a damaged version byte? a v1 log has byte 6 = 01)`,
        );
      }
      return;
    }
    yield { type: 'commit', commit: c, byteOffset: start };
    lower = c.minTxOffset + c.n;
    epochFloor = c.epoch;
  }
}

function describe(e: unknown, torn: boolean, left: number, resumedAt: number | null, searched: boolean): string {
  if (!torn) {
    const tail =
      resumedAt !== null ? `; next valid commit at byte ${resumedAt}` : searched ? '; no valid commit follows in this segment' : '';
    return `commit is damaged: ${messageOf(e)}${tail}`;
  }
  if (resumedAt !== null) {
    return `commit header is damaged (its length runs past the end of the segment, ${left} bytes left), next valid commit at byte ${resumedAt}`;
  }
  return `commit is cut short (a torn write): ${messageOf(e)}`;
}

function problem(kind: ScanProblemKind, byteOffset: number, message: string, resumedAt: number | null = null): ScanEvent {
  return { type: 'problem', kind, byteOffset, message, resumedAt };
}

/**
 * The first position after `from` where a whole v1 commit verifies and plausibly continues the
 * segment (offset in `[lower, lower + MAX_RESYNC_GAP)`, n ≥ 1 as the writer never writes empty
 * commits, epoch not below the last one). `first` is tried before scanning byte by byte.
 */
function findNextCommit(
  reader: CommitReader,
  size: number,
  from: number,
  first: number | null,
  lower: number,
  epochFloor: number,
): { position: number; commit: StoredCommit } | null {
  let budget = RESYNC_BUDGET_BYTES;
  const tryAt = (p: number): StoredCommit | null => {
    reader.seek(p);
    let h;
    try {
      h = reader.peekHeaderV1();
    } catch (e) {
      if (!isCorruptionKind(e)) throw e;
      return null; // e.g. an undecodable zstd frame of a compressed segment
    }
    if (h === null || h.n === 0 || h.minTxOffset < lower || h.minTxOffset - lower >= MAX_RESYNC_GAP) return null;
    if (h.epoch < epochFloor) return null;
    const len = FRAMING_LEN + h.len;
    if (len > size - p || len > budget) return null;
    budget -= len;
    try {
      return reader.next();
    } catch (e) {
      if (!isCorruptionKind(e)) throw e;
      return null;
    }
  };
  if (first !== null && first > from) {
    const c = tryAt(first);
    if (c) return { position: first, commit: c };
  }
  for (let p = from + 1; p + COMMIT_HEADER_LEN <= size && budget > 0; p++) {
    const c = tryAt(p);
    if (c) return { position: p, commit: c };
  }
  return null;
}

/** Whether `file[from, to)` holds only zero bytes (read in 64 KiB slices). */
function allZero(file: StorageFile, from: number, to: number): boolean {
  const buf = new Uint8Array(Math.min(64 * 1024, to - from));
  for (let pos = from; pos < to; ) {
    const n = file.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (n <= 0) return true;
    for (let i = 0; i < n; i++) if (buf[i] !== 0) return false;
    pos += n;
  }
  return true;
}
