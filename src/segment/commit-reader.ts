/**
 * Sequential commit reader over one segment file (the reference's `segment::Reader` commit loop).
 * Reads through a chunk buffer allocated once; a commit larger than the chunk is read into a buffer of
 * its own, but only after checking that the file really holds that many bytes.
 */
import {
  type CommitHeader,
  type StoredCommit,
  commitHeaderLen,
  decodeCommitFrame,
  decodeCommitHeader,
  frameLen,
} from '../codec/commit.js';
import { UnexpectedEofError } from '../errors.js';
import type { StorageFile } from '../repo/repo.js';

/** 256 KiB: large enough that small commits cost one read per many commits. */
export const READ_CHUNK_LEN = 256 * 1024;

export class CommitReader {
  private readonly chunk: Uint8Array;
  /** File position of `chunk[0]`, and how many bytes of `chunk` are valid. */
  private chunkStart = 0;
  private chunkLen = 0;
  /** File position of the next unread byte. */
  position: number;
  /** File position where the most recently returned commit started. */
  lastCommitPosition = -1;

  constructor(
    private readonly file: StorageFile,
    position: number,
    readonly logFormatVersion: number,
    /** A buffer to read through; traversal passes one buffer to the readers of all its segments. */
    chunk: Uint8Array = new Uint8Array(READ_CHUNK_LEN),
  ) {
    this.position = position;
    this.chunk = chunk;
  }

  seek(position: number): void {
    this.position = position;
  }

  /**
   * Makes up to `n` bytes from `position` available in the chunk; returns how many are (fewer only at
   * EOF). `n` must not exceed the chunk length.
   */
  private fill(n: number): number {
    const rel = this.position - this.chunkStart;
    if (rel >= 0 && rel + n <= this.chunkLen) return n;
    if (rel >= 0 && rel < this.chunkLen) {
      this.chunk.copyWithin(0, rel, this.chunkLen);
      this.chunkLen -= rel;
    } else {
      this.chunkLen = 0;
    }
    this.chunkStart = this.position;
    while (this.chunkLen < n) {
      const got = this.file.read(this.chunk, this.chunkLen, this.chunk.length - this.chunkLen, this.chunkStart + this.chunkLen);
      if (got <= 0) break;
      this.chunkLen += got;
    }
    return Math.min(n, this.chunkLen);
  }

  /**
   * Reads a commit header only, without consuming it (index entries, §3.7; the stream reader). Null at
   * EOF, and at a zero-filled tail (see `next`).
   */
  peekHeaderV1(): CommitHeader | null {
    const got = this.fill(commitHeaderLen(1));
    if (got < commitHeaderLen(1)) return null;
    const header = decodeCommitHeader(this.chunk, this.position - this.chunkStart, 1)!;
    return this.atZeroTail(header, this.position) ? null : header;
  }

  /** Whether `header`, read at `at`, is the start of a zero tail (see `next`). */
  private atZeroTail(header: CommitHeader, at: number): boolean {
    return header.minTxOffset === 0 && header.len === 0 && header.n === 0 && header.epoch === 0 && this.zerosToEnd(at);
  }

  /**
   * Whether every byte from `from` to the end of the file is zero: preallocated space the writer has
   * not reached yet (`FsRepo` option `preallocateBytes`), or left behind by a crash. Leaves the reader
   * at `from`. Bounded by the file size; a real commit never starts with 22 zero bytes (the writer
   * never writes a commit with no records).
   */
  private zerosToEnd(from: number): boolean {
    const end = this.file.size();
    let pos = from;
    let zero = true;
    while (zero && pos < end) {
      this.position = pos;
      const got = this.fill(Math.min(this.chunk.length, end - pos));
      if (got === 0) break;
      const base = pos - this.chunkStart;
      for (let i = 0; i < got; i++) {
        if (this.chunk[base + i] !== 0) {
          zero = false;
          break;
        }
      }
      pos += got;
    }
    this.position = from;
    return zero;
  }

  /**
   * The complete v1 commit at `position` (CRC verified), without moving this reader. Used to check an
   * offset index entry before trusting it (upstream #5493): a header alone can be matched by bytes in
   * the middle of another commit. Null when fewer than a header's bytes are there; throws like `next`.
   */
  commitAtV1(position: number): StoredCommit | null {
    const saved = this.position;
    this.position = position;
    try {
      const header = this.peekHeaderV1();
      if (header === null) return null;
      const { bytes, at, owned } = this.readExact(frameLen(header, 1), header.minTxOffset);
      return decodeCommitFrame(bytes, at, header, 1, !owned);
    } finally {
      this.position = saved;
    }
  }

  /**
   * `decodeStoredCommit` over the file: null at EOF (fewer than a header's bytes left, consumed) and
   * at a zero-filled tail (not consumed: `position` is where the next commit will be written),
   * `UnexpectedEofError` for a commit cut short (rest consumed), `ChecksumMismatchError` for a bad CRC
   * (positioned after the commit).
   */
  next(): StoredCommit | null {
    const version = this.logFormatVersion;
    const hlen = commitHeaderLen(version);
    const start = this.position;
    const got = this.fill(hlen);
    if (got < hlen) {
      this.position += got;
      return null;
    }
    const header = decodeCommitHeader(this.chunk, start - this.chunkStart, version);
    if (header === null) {
      this.position += hlen;
      return null;
    }
    // Deviation from QUIRK Q1, asked for by issue 7 ("reads correct over preallocated zero tails"):
    // zeros up to EOF end the segment (not consumed: a writer may still fill them). Zeros followed by
    // anything else stay a checksum mismatch, as in 1.3.0.
    if (version !== 0 && this.atZeroTail(header, start)) return null;
    const need = frameLen(header, version);
    const { bytes, at, owned } = this.readExact(need, header.minTxOffset);
    this.lastCommitPosition = start;
    return decodeCommitFrame(bytes, at, header, version, !owned);
  }

  /**
   * Consumes exactly `need` bytes from `position` and returns where they are: a view into the chunk
   * (`owned` false: valid until the next read) or a buffer of their own. Checks the file really holds
   * them before allocating; on a short read consumes what is there and throws `UnexpectedEofError`.
   */
  readExact(need: number, txOffset: number): { bytes: Uint8Array; at: number; owned: boolean } {
    const start = this.position;
    // Commits above a quarter of the chunk are read straight into a buffer of their own: copying
    // them out of the chunk would cost a second pass over their bytes.
    if (need <= this.chunk.length >>> 2) {
      const have = this.fill(need);
      if (have < need) {
        this.position += have;
        throw shortCommit(txOffset, start, need, have);
      }
      this.position += need;
      return { bytes: this.chunk, at: start - this.chunkStart, owned: false };
    }
    const available = this.file.size() - start;
    if (available < need) {
      this.position = start + Math.max(available, 0);
      throw shortCommit(txOffset, start, need, available);
    }
    const frame = new Uint8Array(need);
    const inChunk = Math.max(0, Math.min(need, this.chunkStart + this.chunkLen - start));
    if (inChunk > 0) frame.set(this.chunk.subarray(start - this.chunkStart, start - this.chunkStart + inChunk));
    let have = inChunk;
    while (have < need) {
      const n = this.file.read(frame, have, need - have, start + have);
      if (n <= 0) break;
      have += n;
    }
    this.position = start + have;
    if (have < need) throw shortCommit(txOffset, start, need, have);
    return { bytes: frame, at: 0, owned: true };
  }
}

/**
 * Whether the bytes from `position` to the end of `file` are a zero tail (at least a header's worth,
 * all zero): the end of the segment, which opening a log cuts (see `CommitReader.next`).
 */
export function isZeroTail(file: StorageFile, position: number): boolean {
  return file.size() - position >= commitHeaderLen(1) && new CommitReader(file, position, 1).peekHeaderV1() === null;
}

function shortCommit(txOffset: number, start: number, need: number, have: number): UnexpectedEofError {
  return new UnexpectedEofError(`commit at byte ${start} (offset ${txOffset}) needs ${need} bytes, only ${Math.max(have, 0)} left`);
}
