/** Segment header I/O and metadata extraction (SPEC §6.4, the reference's `Metadata::extract`). */
import { type SegmentHeader, SEGMENT_HEADER_LEN, decodeSegmentHeader } from '../codec/segment-header.js';
import { CommitlogError, ErrorCodes, InvalidDataError, UnexpectedEofError, isCorruptionKind } from '../errors.js';
import type { IndexFile } from '../offset-index/index-file.js';
import type { StorageFile } from '../repo/repo.js';
import { CommitReader } from './commit-reader.js';

export interface SegmentMetadata {
  header: SegmentHeader;
  /** `[first offset, end)` of the valid commits. */
  txRange: { start: number; end: number };
  /** Bytes up to the end of the last valid commit (header included). */
  sizeInBytes: number;
  maxEpoch: number;
  /** `minTxOffset` of the last valid commit (the segment offset if there is none). */
  maxCommitOffset: number;
}

// Lives here, not in errors.ts, because it carries a SegmentMetadata: errors.ts stays below every layer.
/** `extractMetadata` met an undecodable commit; `sofar` describes the valid prefix before it. */
export class InvalidCommitError extends CommitlogError {
  constructor(
    readonly sofar: SegmentMetadata,
    cause: Error,
    readonly segment?: number,
  ) {
    super(
      ErrorCodes.INVALID_COMMIT,
      `invalid commit encountered${segment === undefined ? '' : ` in segment ${segment}`} after offset ` +
        `${sofar.txRange.end} (byte ${sofar.sizeInBytes}): ${cause.message}`,
      { cause },
    );
  }
}

/** Reads and decodes the 10-byte header at the start of a segment (version not checked). */
export function readSegmentHeader(file: StorageFile): { header: SegmentHeader; bytes: Uint8Array } {
  const bytes = new Uint8Array(SEGMENT_HEADER_LEN);
  let got = 0;
  while (got < SEGMENT_HEADER_LEN) {
    const n = file.read(bytes, got, SEGMENT_HEADER_LEN - got, got);
    if (n <= 0) break;
    got += n;
  }
  if (got < SEGMENT_HEADER_LEN) {
    throw new UnexpectedEofError(`segment is ${got} bytes long, shorter than its ${SEGMENT_HEADER_LEN}-byte header`);
  }
  return { header: decodeSegmentHeader(bytes), bytes };
}

/**
 * Scans the segment (always with v1 framing, QUIRK Q4), starting from the last index entry whose
 * commit verifies. Throws `InvalidCommitError` (with the valid prefix) for a torn or corrupt commit,
 * `InvalidDataError` for an out-of-order commit, and I/O errors as they are.
 */
export function extractMetadata(minTxOffset: number, file: StorageFile, index: IndexFile | null): SegmentMetadata {
  const { header } = readSegmentHeader(file);
  const reader = new CommitReader(file, SEGMENT_HEADER_LEN, 1);
  const sofar: SegmentMetadata = (index && findValidIndexedCommit(minTxOffset, header, reader, index)) || {
    header,
    txRange: { start: minTxOffset, end: minTxOffset },
    sizeInBytes: SEGMENT_HEADER_LEN,
    maxEpoch: 0,
    maxCommitOffset: minTxOffset,
  };
  reader.seek(sofar.sizeInBytes);
  for (;;) {
    let c;
    try {
      c = reader.next();
    } catch (e) {
      if (isCorruptionKind(e)) {
        throw new InvalidCommitError(structuredClone(sofar), e, minTxOffset);
      }
      throw e;
    }
    if (c === null) return sofar;
    if (c.minTxOffset !== sofar.txRange.end) {
      throw new InvalidDataError(
        `out-of-order offset in segment ${minTxOffset}: expected=${sofar.txRange.end} actual=${c.minTxOffset}`,
      );
    }
    sofar.txRange.end = c.minTxOffset + c.n;
    sofar.sizeInBytes += 26 + c.records.length;
    if (c.epoch > sofar.maxEpoch) sofar.maxEpoch = c.epoch;
    sofar.maxCommitOffset = c.minTxOffset;
  }
}

/** The last index entry (searching downwards) whose commit decodes completely with a matching key. */
function findValidIndexedCommit(
  minTxOffset: number,
  header: SegmentHeader,
  reader: CommitReader,
  index: IndexFile,
): SegmentMetadata | null {
  let candidate = Number.MAX_SAFE_INTEGER;
  for (;;) {
    let key: number;
    let pos: number;
    try {
      [key, pos] = index.keyLookup(candidate);
    } catch {
      return null;
    }
    let c;
    try {
      reader.seek(pos);
      c = reader.next();
    } catch {
      return null; // any failure means: scan from the first commit
    }
    if (c !== null && c.minTxOffset === key) {
      return {
        header,
        txRange: { start: minTxOffset, end: c.minTxOffset + c.n },
        sizeInBytes: pos + 26 + c.records.length,
        maxEpoch: c.epoch,
        maxCommitOffset: c.minTxOffset,
      };
    }
    candidate = key - 1;
    if (candidate <= 0) return null;
  }
}
