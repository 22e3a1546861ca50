/** Discarding everything after an offset (SPEC §8.2). */
import { FRAMING_LEN } from '../codec/commit.js';
import { SEGMENT_HEADER_LEN, ensureCompatible } from '../codec/segment-header.js';
import { InvalidDataError, messageOf } from '../errors.js';
import type { IndexFile } from '../offset-index/index-file.js';
import { seekToOffset } from '../offset-index/seek.js';
import type { Repo } from '../repo/repo.js';
import { CommitReader } from '../segment/commit-reader.js';
import { readSegmentHeader } from '../segment/metadata.js';
import { closeQuietly, tryOpenIndex } from '../segment/resume.js';
import { debug } from '../debug.js';

/**
 * Keeps every transaction ≤ `offset` (and the rest of the commit holding it), removes the rest.
 * `segments` ascending; processed newest first.
 */
export function resetToInternal(repo: Repo, segments: readonly number[], offset: number): void {
  // Find the segment that will be cut and uncompress it before anything is removed: if the rewrite
  // fails, the log is unchanged instead of ending in a compressed segment that cannot be resumed (Q34).
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (segment > offset) continue;
    const end = validPrefixUpTo(repo, segment, offset);
    end.index?.close();
    if (end.position === SEGMENT_HEADER_LEN) continue;
    if (repo.isCompressed(segment)) repo.uncompressSegment(segment);
    break;
  }
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (segment > offset) {
      debug('resetTo %d: removing segment %d', offset, segment);
      repo.removeSegment(segment);
      continue;
    }
    const end = validPrefixUpTo(repo, segment, offset);
    if (end.position === SEGMENT_HEADER_LEN) {
      end.index?.close();
      debug('resetTo %d: segment %d holds no commit at or below it, removing', offset, segment);
      repo.removeSegment(segment);
      continue;
    }
    // Q18 FIX: a compressed segment is first rewritten uncompressed, then cut at a plain position.
    if (repo.isCompressed(segment)) {
      debug('resetTo %d: uncompressing segment %d before truncating it', offset, segment);
      repo.uncompressSegment(segment);
    }
    const file = repo.openSegmentWriter(segment);
    try {
      if (end.index) {
        // Only when the index was used to seek (QUIRK Q15).
        try {
          end.index.truncate(offset + 1);
          end.index.asyncFlush();
        } catch (e) {
          throw new InvalidDataError(`Failed to truncate offset index: ${messageOf(e)}`, { cause: e });
        }
      }
      debug('resetTo %d: truncating segment %d at byte %d', offset, segment, end.position);
      file.truncate(end.position);
      file.sync();
    } finally {
      end.index?.close();
      closeQuietly(file);
    }
    return;
  }
}

/** Byte position after the last commit starting at or below `offset`; the index if it was used. */
function validPrefixUpTo(repo: Repo, segment: number, offset: number): { position: number; index: IndexFile | null } {
  const file = repo.openSegmentReader(segment);
  let index: IndexFile | null = null;
  try {
    const { header } = readSegmentHeader(file);
    ensureCompatible(header, 1);
    const reader = new CommitReader(file, SEGMENT_HEADER_LEN, header.logFormatVersion);
    let position = SEGMENT_HEADER_LEN;
    index = tryOpenIndex(repo, segment, true);
    if (index) {
      try {
        position = seekToOffset(reader, index, offset);
      } catch {
        index.close();
        index = null;
      }
    }
    for (;;) {
      // The header decides first: the commit after `offset` is discarded unread, so a damaged one
      // (issue 16: the way forward `open` names for bit rot) does not stop the reset.
      if (header.logFormatVersion === 1) {
        const h = reader.peekHeaderV1();
        if (h === null || h.minTxOffset > offset) break;
      }
      const c = reader.next();
      if (c === null || c.minTxOffset > offset) break;
      position += FRAMING_LEN + c.records.length;
    }
    return { position, index };
  } catch (e) {
    index?.close();
    throw e;
  } finally {
    closeQuietly(file);
  }
}
