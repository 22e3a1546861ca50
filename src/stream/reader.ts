/**
 * The stream reader (SPEC §11.2): the raw bytes of the commits in a range, segment headers included,
 * exactly as they are on disk. No CRC, contiguity or version check (the receiving StreamWriter checks),
 * except for a commit right before preallocated zeros (see the loop).
 */
import { Readable } from 'node:stream';
import { COMMIT_HEADER_LEN, frameChecksumMatches } from '../codec/commit.js';
import { CHECKSUM_LEN, SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { InvalidDataError, InvalidInputError, UnexpectedEofError } from '../errors.js';
import { seekToOffset } from '../offset-index/seek.js';
import { type LogSource, toRepo } from '../log/free.js';
import type { Repo } from '../repo/repo.js';
import { CommitReader } from '../segment/commit-reader.js';
import { readSegmentHeader } from '../segment/metadata.js';
import { closeQuietly, tryOpenIndex } from '../segment/resume.js';
import { type TxRange, rangeFromBounds, retainRange } from './range.js';

/** Commits are batched into chunks of about this size; the bytes are the same whatever the chunking. */
export const STREAM_CHUNK_LEN = 256 * 1024;
/** Bounds of `chunkLen`: below 4 KiB every small commit costs a read; above 16 MiB a stream is a memory hog. */
const MIN_CHUNK_LEN = 4 * 1024;
const MAX_CHUNK_LEN = 16 * 1024 * 1024;

export interface StreamReadOptions {
  /**
   * Size of the stream's two buffers (the file read buffer and the chunk being filled), bytes. A
   * stream holds about three of them at a time (the third is the chunk its consumer still has);
   * a commit larger than a chunk is sent in a buffer of its own size. Default 256 KiB.
   */
  chunkLen?: number;
}

function chunkLenOf(options: StreamReadOptions): number {
  const n = options.chunkLen ?? STREAM_CHUNK_LEN;
  if (!Number.isInteger(n) || n < MIN_CHUNK_LEN || n > MAX_CHUNK_LEN) {
    throw new InvalidInputError(`option chunkLen must be an integer in ${MIN_CHUNK_LEN}..${MAX_CHUNK_LEN}, got ${String(n)}`);
  }
  return n;
}

/** Where a stream stopped: the offset the next commit would have (updated as commits are yielded). */
export interface StreamPosition {
  nextOffset: number | null;
}

/**
 * Yields the bytes of the commits whose `minTxOffset` lies in `range` (a commit that merely contains
 * `range.start` is skipped, QUIRK Q10), preceded by each segment's header when the stream starts at
 * that segment's first offset. Commits are batched into chunks; every commit read before an error is
 * yielded before the error is thrown.
 */
export function* streamCommitsSync(
  source: LogSource,
  range: TxRange = {},
  position: StreamPosition = { nextOffset: null },
  options: StreamReadOptions = {},
): Generator<Uint8Array, void, undefined> {
  const chunkLen = chunkLenOf(options);
  const repo = toRepo(source);
  const r = rangeFromBounds(range);
  const out = new Uint8Array(chunkLen);
  // One read buffer for all segments of the stream, like traversal's.
  const readChunk = new Uint8Array(chunkLen);
  let outLen = 0;
  for (const segStart of retainRange(repo.existingOffsets(), r)) {
    if (r.start < segStart) r.start = segStart;
    const file = repo.openSegmentReader(segStart);
    let failure: unknown = null;
    let held: Uint8Array | null = null;
    try {
      const { header, bytes: headerBytes } = readSegmentHeader(file);
      let sendHeader: Uint8Array | null = headerBytes;
      const reader = new CommitReader(file, SEGMENT_HEADER_LEN, 1, readChunk);
      if (r.start > segStart) {
        sendHeader = null; // never a header mid-segment
        trySeek(repo, segStart, reader, r.start);
      }
      const checksumLen = CHECKSUM_LEN[header.checksumAlgorithm];
      if (checksumLen === undefined) {
        throw new InvalidDataError(`segment ${segStart}: unsupported checksum algorithm ${header.checksumAlgorithm}`);
      }
      // The last commit copied into `out` (or held, if larger than a chunk), until the next header
      // shows whether preallocated zeros follow it (see below).
      let lastAt = -1;
      let offsetBefore = position.nextOffset;
      for (;;) {
        const h = reader.peekHeaderV1();
        if (h === null) {
          // Null before EOF: zeros fill the rest of the segment (preallocated). A commit right before
          // them may be mid-write in another process, or torn by a crash: unlike at a growing file's
          // end, its length cannot show that, so check its CRC and treat a mismatch as a cut-short
          // commit (followers retry it). Everywhere else the bytes pass unchecked, as in the reference.
          if (reader.position < file.size() && (lastAt >= 0 || held !== null)) {
            const intact = held !== null ? frameChecksumMatches(held, 0, held.length) : frameChecksumMatches(out, lastAt, outLen - lastAt);
            if (!intact) {
              if (held === null) outLen = lastAt;
              held = null;
              position.nextOffset = offsetBefore;
              throw new UnexpectedEofError(
                `segment ${segStart}: the last commit before its preallocated space does not verify (still being written, or torn)`,
              );
            }
          }
          break;
        }
        if (held !== null) {
          yield held;
          held = null;
        }
        const need = COMMIT_HEADER_LEN + h.len + checksumLen;
        if (h.minTxOffset < r.start) {
          reader.seek(reader.position + need);
          continue;
        }
        if (r.end !== null && h.minTxOffset > r.end) break;
        const { bytes, at } = reader.readExact(need, h.minTxOffset);
        if (sendHeader) {
          if (outLen + sendHeader.length > out.length) {
            yield out.slice(0, outLen);
            outLen = 0;
          }
          out.set(sendHeader, outLen);
          outLen += sendHeader.length;
          sendHeader = null;
        }
        if (outLen + need > out.length) {
          if (outLen > 0) yield out.slice(0, outLen);
          outLen = 0;
        }
        if (need > out.length) {
          held = bytes.slice(at, at + need);
          lastAt = -1;
        } else {
          out.set(bytes.subarray(at, at + need), outLen);
          lastAt = outLen;
          outLen += need;
        }
        offsetBefore = position.nextOffset;
        position.nextOffset = h.minTxOffset + h.n;
      }
      if (held !== null) yield held;
      held = null;
    } catch (e) {
      failure = e;
    } finally {
      closeQuietly(file);
    }
    if (failure !== null) {
      if (outLen > 0) yield out.slice(0, outLen);
      if (held !== null) yield held; // `out` is empty while a commit is held
      throw failure;
    }
  }
  if (outLen > 0) yield out.slice(0, outLen);
}

function trySeek(repo: Repo, segment: number, reader: CommitReader, offset: number): void {
  const index = tryOpenIndex(repo, segment);
  if (!index) return;
  try {
    seekToOffset(reader, index, offset);
  } catch {
    // scan from the first commit
  } finally {
    index.close();
  }
}

/** `streamCommitsSync` as an async iterable (it yields to the event loop between chunks). */
export async function* streamCommits(
  source: LogSource,
  range: TxRange = {},
  options: StreamReadOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  for (const chunk of streamCommitsSync(source, range, { nextOffset: null }, options)) {
    yield chunk;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The stream as a Node `Readable` (pipes into HTTP responses and files with backpressure). */
export function streamCommitsReadable(source: LogSource, range: TxRange = {}, options: StreamReadOptions = {}): Readable {
  return Readable.from(streamCommits(source, range, options), { objectMode: false });
}
