/**
 * Commit framing (SPEC §2.3). Pure: works on byte arrays, never on files. The segment reader, the
 * stream reader and the stream writer all frame commits with these functions.
 *
 * v1: minTxOffset u64 | epoch u64 | n u16 | len u32 | records[len] | crc32c u32 (over header+records)
 * v0: minTxOffset u64 | n u16 | len u32 | records[len] | crc32c u32 (read-only)
 */
import { ChecksumMismatchError, InvalidInputError, UnexpectedEofError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { checkSafeOnDisk, checkU64Input, readU16, readU32, readU64, writeU16, writeU32, writeU64 } from './u64.js';

export const COMMIT_HEADER_LEN = 22;
export const COMMIT_HEADER_LEN_V0 = 14;
export const CHECKSUM_LEN = 4;
/** Header plus checksum of a v1 commit. */
export const FRAMING_LEN = COMMIT_HEADER_LEN + CHECKSUM_LEN;
export const DEFAULT_EPOCH = 0;
export const CHECKSUM_ALGORITHM = 0;
export const MAX_RECORDS_IN_COMMIT = 0xffff;
export const MAX_RECORDS_LEN = 0xffff_ffff;

export interface Commit {
  minTxOffset: number;
  epoch: number;
  /** Number of records. */
  n: number;
  /** The `n` encoded records, concatenated without framing. */
  records: Uint8Array;
}

export interface StoredCommit extends Commit {
  /** The CRC32C stored after the commit (verified when the commit was read). */
  checksum: number;
}

export interface CommitHeader {
  minTxOffset: number;
  epoch: number;
  n: number;
  len: number;
}

export function commitHeaderLen(logFormatVersion: number): number {
  return logFormatVersion === 0 ? COMMIT_HEADER_LEN_V0 : COMMIT_HEADER_LEN;
}

/** `[minTxOffset, minTxOffset + n)` */
export function txRange(c: Commit): { start: number; end: number } {
  return { start: c.minTxOffset, end: c.minTxOffset + c.n };
}

export function encodedLen(c: Commit): number {
  return FRAMING_LEN + c.records.length;
}

/**
 * Decodes the commit header at `bytes[pos..]`; the caller guarantees `commitHeaderLen(version)` bytes.
 * Returns null where the reference treats the header as end of segment: only an all-zero v0 header
 * (the v1 all-zero check never matches in 1.3.0, QUIRK Q1). Offsets are not range-checked here: a
 * garbage header must still be reported as a checksum mismatch, so the check follows the CRC.
 */
export function decodeCommitHeader(bytes: Uint8Array, pos: number, logFormatVersion: number): CommitHeader | null {
  if (logFormatVersion === 0) {
    let zero = true;
    for (let i = 0; i < COMMIT_HEADER_LEN_V0; i++) {
      if (bytes[pos + i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return null;
    return { minTxOffset: readU64(bytes, pos), epoch: DEFAULT_EPOCH, n: readU16(bytes, pos + 8), len: readU32(bytes, pos + 10) };
  }
  return {
    minTxOffset: readU64(bytes, pos),
    epoch: readU64(bytes, pos + 8),
    n: readU16(bytes, pos + 16),
    len: readU32(bytes, pos + 18),
  };
}

/** Bytes of the whole commit frame described by `header`. */
export function frameLen(header: CommitHeader, logFormatVersion: number): number {
  return commitHeaderLen(logFormatVersion) + header.len + CHECKSUM_LEN;
}

/**
 * Verifies and decodes a complete commit frame at `bytes[pos .. pos + frameLen)`. With `copy`, the
 * records are copied out (the caller reuses `bytes`); otherwise they are a view into `bytes`.
 * Throws `ChecksumMismatchError`, or `InvalidDataError` for offsets beyond Number.MAX_SAFE_INTEGER.
 */
export function decodeCommitFrame(
  bytes: Uint8Array,
  pos: number,
  header: CommitHeader,
  logFormatVersion: number,
  copy: boolean,
): StoredCommit {
  const hlen = commitHeaderLen(logFormatVersion);
  const crcPos = pos + hlen + header.len;
  const computed = crc32c(bytes.subarray(pos, crcPos));
  const stored = readU32(bytes, crcPos);
  if (computed !== stored) throw new ChecksumMismatchError(stored, computed);
  checkSafeOnDisk(header.minTxOffset, 'commit minTxOffset');
  checkSafeOnDisk(header.epoch, 'commit epoch');
  const start = pos + hlen;
  const records = copy ? bytes.slice(start, crcPos) : bytes.subarray(start, crcPos);
  return { minTxOffset: header.minTxOffset, epoch: header.epoch, n: header.n, records, checksum: stored };
}

/** Whether the complete commit frame at `bytes[pos .. pos + len)` matches its stored CRC32C. */
export function frameChecksumMatches(bytes: Uint8Array, pos: number, len: number): boolean {
  return crc32c(bytes.subarray(pos, pos + len - CHECKSUM_LEN)) === readU32(bytes, pos + len - CHECKSUM_LEN);
}

/** Writes a v1 commit header at `buf[pos..pos+22)`. */
export function writeCommitHeader(
  buf: Uint8Array,
  pos: number,
  minTxOffset: number,
  epoch: number,
  n: number,
  len: number,
): void {
  writeU64(buf, pos, minTxOffset);
  writeU64(buf, pos + 8, epoch);
  writeU16(buf, pos + 16, n);
  writeU32(buf, pos + 18, len);
}

/** Encodes a commit in v1 framing (`Commit::write`). */
export function encodeCommit(c: Commit): { bytes: Uint8Array; checksum: number } {
  checkU64Input(c.minTxOffset, 'minTxOffset');
  checkU64Input(c.epoch, 'epoch');
  if (!Number.isInteger(c.n) || c.n < 0 || c.n > MAX_RECORDS_IN_COMMIT) {
    throw new InvalidInputError(`commit record count must be in 0..${MAX_RECORDS_IN_COMMIT}, got ${c.n}`);
  }
  if (c.records.length > MAX_RECORDS_LEN) {
    throw new InvalidInputError(`commit records exceed ${MAX_RECORDS_LEN} bytes`);
  }
  const bytes = new Uint8Array(FRAMING_LEN + c.records.length);
  writeCommitHeader(bytes, 0, c.minTxOffset, c.epoch, c.n, c.records.length);
  bytes.set(c.records, COMMIT_HEADER_LEN);
  const checksum = crc32c(bytes.subarray(0, COMMIT_HEADER_LEN + c.records.length));
  writeU32(bytes, COMMIT_HEADER_LEN + c.records.length, checksum);
  return { bytes, checksum };
}

/**
 * Decodes one commit from the start of `bytes` (`Commit::decode` over an in-memory reader). Returns
 * null when fewer than a header's bytes are there; throws `UnexpectedEofError` when the records or
 * the checksum are cut short.
 */
export function decodeStoredCommit(bytes: Uint8Array, logFormatVersion = 1): StoredCommit | null {
  const hlen = commitHeaderLen(logFormatVersion);
  if (bytes.length < hlen) return null;
  const header = decodeCommitHeader(bytes, 0, logFormatVersion);
  if (header === null) return null;
  const need = frameLen(header, logFormatVersion);
  if (bytes.length < need) {
    throw new UnexpectedEofError(`commit at offset ${header.minTxOffset} needs ${need} bytes, ${bytes.length} available`);
  }
  return decodeCommitFrame(bytes, 0, header, logFormatVersion, false);
}

/** `Commit::decode`: like `decodeStoredCommit`, without the checksum in the result. */
export function decodeCommit(bytes: Uint8Array, logFormatVersion = 1): Commit | null {
  const c = decodeStoredCommit(bytes, logFormatVersion);
  if (c === null) return null;
  return { minTxOffset: c.minTxOffset, epoch: c.epoch, n: c.n, records: c.records };
}
