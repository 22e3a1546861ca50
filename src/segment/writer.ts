/**
 * The head segment writer (SPEC §5): buffers the pending commit and writes it with one call.
 * The pending buffer reserves the 22 header bytes up front, so a flush fills in header and CRC in
 * place and hands the whole commit to the file at once. It is allocated once and reused.
 */
import { COMMIT_HEADER_LEN, FRAMING_LEN, MAX_RECORDS_IN_COMMIT, MAX_RECORDS_LEN, writeCommitHeader } from '../codec/commit.js';
import { crc32c } from '../codec/crc32c.js';
import { SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { writeU32 } from '../codec/u64.js';
import { InvalidInputError, IoError } from '../errors.js';
import type { OffsetIndexWriter } from '../offset-index/offset-index-writer.js';
import { ByteWriter } from '../payload/byte-writer.js';
import { type Encoder, rawEncoder } from '../payload/decoder.js';
import type { StorageFile } from '../repo/repo.js';

/** A commit range written to disk and its checksum (Rust `segment::Committed`). */
export interface Committed {
  txRange: { start: number; end: number };
  checksum: number;
}

/** The commit being built: header fields plus the records buffer (header space reserved). */
export class PendingCommit {
  n = 0;
  readonly records: ByteWriter;
  constructor(
    public minTxOffset: number,
    public epoch: number,
    /** Initial capacity (`writeBufferSize`); the buffer grows for larger commits. */
    bufferSize = 64 * 1024,
  ) {
    this.records = new ByteWriter(bufferSize + COMMIT_HEADER_LEN + 4, COMMIT_HEADER_LEN);
  }

  get recordsLen(): number {
    return this.records.length - COMMIT_HEADER_LEN;
  }

  clear(): void {
    this.n = 0;
    this.records.length = COMMIT_HEADER_LEN;
  }
}

export class SegmentWriter {
  /** A failed write left bytes after `bytesWritten` that could not be cut: appending is refused. */
  torn = false;

  constructor(
    readonly file: StorageFile,
    /** First tx offset of the segment (its file name). */
    readonly minTxOffset: number,
    /** Bytes in the segment including its header: where the next commit starts. */
    public bytesWritten: number,
    public pending: PendingCommit,
    public index: OffsetIndexWriter | null,
    readonly maxRecordsInCommit: number,
  ) {}

  isEmpty(): boolean {
    return this.bytesWritten <= SEGMENT_HEADER_LEN;
  }

  nextTxOffset(): number {
    return this.pending.minTxOffset;
  }

  /** Buffers a record; false when the pending commit is full (the record is not taken). */
  append<T>(record: T, encoder: Encoder<T> | undefined, maxRecords = this.maxRecordsInCommit): boolean {
    const p = this.pending;
    if (p.n >= MAX_RECORDS_IN_COMMIT || p.n + 1 > maxRecords) return false;
    const before = p.records.length;
    if (encoder === undefined || encoder === (rawEncoder as unknown)) {
      p.records.write(record as unknown as Uint8Array);
    } else {
      try {
        encoder.encodeRecord(record, p.records);
      } catch (e) {
        p.records.length = before; // a half-encoded record must not reach the commit
        throw e;
      }
    }
    if (p.records.length - COMMIT_HEADER_LEN > MAX_RECORDS_LEN) {
      p.records.length = before;
      throw new InvalidInputError(`commit records would exceed ${MAX_RECORDS_LEN} bytes`);
    }
    p.n += 1;
    return true;
  }

  /**
   * Writes the pending commit (`commit_pending`); null when nothing is pending. On a write error the
   * pending commit is kept for a retry and the error propagates.
   */
  commitPending(): Committed | null {
    const p = this.pending;
    if (p.n === 0) return null;
    if (this.torn) {
      throw new IoError(`segment ${this.minTxOffset} ends in a partial commit that could not be cut off; reopen the log`, {
        errno: 'EIO',
      });
    }
    const len = p.recordsLen;
    const buf = p.records;
    buf.reserve(4);
    writeCommitHeader(buf.buf, 0, p.minTxOffset, p.epoch, p.n, len);
    const checksum = crc32c(buf.buf.subarray(0, COMMIT_HEADER_LEN + len));
    writeU32(buf.buf, COMMIT_HEADER_LEN + len, checksum);
    const total = FRAMING_LEN + len;
    this.file.append(buf.buf, 0, total);
    this.index?.onCommitWritten(p.minTxOffset, this.bytesWritten, total);
    const start = p.minTxOffset;
    this.bytesWritten += total;
    p.minTxOffset += p.n;
    p.clear();
    return { txRange: { start, end: p.minTxOffset }, checksum };
  }

  /** fdatasync the segment, then let the index catch up (errors there are logged, §5.7). */
  sync(): void {
    this.file.sync();
    this.index?.onSync();
  }

  close(): void {
    this.index?.close();
    this.index = null;
    this.file.close();
  }
}
