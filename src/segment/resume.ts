/** Creating and resuming segment writers (SPEC §5.4, §6.3). */
import { SEGMENT_HEADER_LEN, encodeSegmentHeader, ensureResumable } from '../codec/segment-header.js';
import { COMMIT_HEADER_LEN } from '../codec/commit.js';
import { AssertionError, DamagedCommitError, InvalidDataError, UnexpectedEofError, messageOf } from '../errors.js';
import { IndexFile } from '../offset-index/index-file.js';
import { OffsetIndexWriter } from '../offset-index/offset-index-writer.js';
import { debug } from '../debug.js';
import { type Options, offsetIndexLen } from '../options.js';
import type { Repo, StorageFile } from '../repo/repo.js';
import { isZeroTail } from './commit-reader.js';
import { type SegmentMetadata, extractMetadata } from './metadata.js';
import { PendingCommit, SegmentWriter } from './writer.js';
import { InvalidCommitError } from './metadata.js';
import { findIntactAfter } from './damage.js';

/** Index writer for segment `offset`, or null if the index cannot be created (never fatal, §3.1). */
export function tryCreateOffsetIndexWriter(repo: Repo, offset: number, options: Options): OffsetIndexWriter | null {
  try {
    const file = repo.createOffsetIndex(offset, offsetIndexLen(options));
    const index = IndexFile.open(file, true);
    return new OffsetIndexWriter(index, options.offsetIndexIntervalBytes, options.offsetIndexRequireSegmentFsync);
  } catch (e) {
    debug('segment %d: no offset index: %s', offset, messageOf(e));
    return null;
  }
}

/** Opens the index of `offset` for reading, or null (any error means "no index"). */
export function tryOpenIndex(repo: Repo, offset: number, writable = false): IndexFile | null {
  try {
    return IndexFile.open(repo.getOffsetIndex(offset, writable), writable);
  } catch {
    return null;
  }
}

/** A new segment at `offset`: header written and fdatasynced, fresh index. */
export function createSegmentWriter(
  repo: Repo,
  options: Options,
  epoch: number,
  offset: number,
  pending: PendingCommit = new PendingCommit(offset, epoch, options.writeBufferSize),
): SegmentWriter {
  const file = repo.createSegment(offset);
  try {
    const header = encodeSegmentHeader({ logFormatVersion: options.logFormatVersion, checksumAlgorithm: 0 });
    file.append(header, 0, header.length);
    file.sync();
    // FIX beyond 1.3.0: the new file's directory entry is made durable before any commit in it can be
    // reported durable (a power loss could otherwise drop the whole segment).
    repo.syncDirectory?.();
  } catch (e) {
    closeQuietly(file);
    // A segment without its header holds nothing: left in place it would sit inside the log and make
    // traversal fail there, or block the retry that creates it again.
    try {
      repo.removeSegment(offset);
    } catch (removal) {
      debug('removing segment %d after its header failed: %s', offset, messageOf(removal));
    }
    throw e;
  }
  debug('created segment %d (epoch %d)', offset, epoch);
  const writer = new SegmentWriter(
    file,
    offset,
    SEGMENT_HEADER_LEN,
    pending,
    tryCreateOffsetIndexWriter(repo, offset, options),
    options.maxRecordsInCommit,
  );
  if (repo.onNewSegment) {
    try {
      repo.onNewSegment(offset);
    } catch (e) {
      // The segment exists and the log is consistent; a failing observer must not undo that.
      debug('onNewSegment(%d) threw: %s', offset, messageOf(e));
    }
  }
  return writer;
}

export type ResumeResult =
  | { kind: 'resumed'; writer: SegmentWriter }
  /** A torn or corrupt commit after a valid prefix: the caller starts a new segment after `sofar`. */
  | { kind: 'corrupt'; sofar: SegmentMetadata }
  /** No complete commit (a torn first commit, now cut off): the caller removes the segment (Q45 FIX). */
  | { kind: 'empty' };

export function resumeSegmentWriter(repo: Repo, options: Options, offset: number): ResumeResult {
  const file = repo.openSegmentWriter(offset);
  let keepFile = false;
  try {
    const index = tryOpenIndex(repo, offset);
    let meta: SegmentMetadata;
    try {
      meta = extractMetadata(offset, file, index);
    } catch (e) {
      if (!(e instanceof InvalidCommitError)) throw e;
      // FIX over 1.3.0 (issue 16): 1.3.0 cuts here whatever follows. Only a torn tail may be cut; a
      // damaged commit with intact ones after it is bit rot, and cutting would lose them silently.
      const intact = findIntactAfter(file, e.sofar.sizeInBytes, e.sofar.txRange.end);
      if (intact !== null) {
        throw new DamagedCommitError(offset, e.sofar.sizeInBytes, e.sofar.txRange.end, intact.count, intact.offset, String(repo), e.cause);
      }
      if (e.sofar.txRange.end > e.sofar.txRange.start) {
        debug('segment %d: invalid commit after offset %d, starting a new segment: %s', offset, e.sofar.txRange.end, e.message);
        // The valid prefix may never have been synced by the process that wrote it; the next segment
        // builds on it, so make it durable first (FIX: 1.3.0 does not).
        file.sync();
        return { kind: 'corrupt', sofar: e.sofar };
      }
      if (e.cause instanceof UnexpectedEofError) {
        // Torn first commit: never completely written, so never synced; nothing durable is lost.
        debug('segment %d: torn first commit (%s), truncating to the header', offset, e.cause.message);
        file.truncate(SEGMENT_HEADER_LEN);
        file.sync();
        return { kind: 'empty' };
      }
      throw new InvalidDataError(
        `first commit in the newest segment ${offset} is corrupt; repair with resetTo: ${messageOf(e.cause)}`,
        { cause: e.cause },
      );
    } finally {
      index?.close();
    }
    ensureResumable(meta.header, options.logFormatVersion);
    // ADOPT-UPSTREAM #5116: cut a torn tail (< 22 bytes) instead of appending after it; and a zero
    // tail of any length (preallocated space, issue 7), which the reader stopped at.
    const size = file.size();
    if (size > meta.sizeInBytes) {
      if (size - meta.sizeInBytes >= COMMIT_HEADER_LEN && !isZeroTail(file, meta.sizeInBytes)) {
        throw new AssertionError(
          `segment ${offset}: ${size - meta.sizeInBytes} bytes after the last commit, expected fewer than ${COMMIT_HEADER_LEN}`,
        );
      }
      debug('segment %d: truncating %d trailing bytes at %d', offset, size - meta.sizeInBytes, meta.sizeInBytes);
      file.truncate(meta.sizeInBytes);
      file.sync();
    }
    if (meta.txRange.end === meta.txRange.start) return { kind: 'empty' };
    debug('resuming segment %d at offset %d (byte %d, epoch %d)', offset, meta.txRange.end, meta.sizeInBytes, meta.maxEpoch);
    keepFile = true;
    return {
      kind: 'resumed',
      writer: new SegmentWriter(
        file,
        offset,
        meta.sizeInBytes,
        new PendingCommit(meta.txRange.end, meta.maxEpoch, options.writeBufferSize),
        tryCreateOffsetIndexWriter(repo, offset, options),
        options.maxRecordsInCommit,
      ),
    };
  } finally {
    if (!keepFile) closeQuietly(file);
  }
}

export function closeQuietly(file: StorageFile): void {
  try {
    file.close();
  } catch {
    // nothing left to lose: the handle was only read or already synced
  }
}
