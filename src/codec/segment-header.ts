/** The 10-byte segment header (SPEC §2.2). Pure: no I/O. */
import { InvalidDataError, UnexpectedEofError } from '../errors.js';

export const SEGMENT_HEADER_LEN = 10;
/** ASCII `(ds)^2`. */
export const MAGIC = Uint8Array.of(0x28, 0x64, 0x73, 0x29, 0x5e, 0x32);
export const DEFAULT_LOG_FORMAT_VERSION = 1;
export const CHECKSUM_ALGORITHM_CRC32C = 0;
/** Checksum length per algorithm id; only CRC32C (4 bytes) exists. */
export const CHECKSUM_LEN: readonly number[] = [4];

export interface SegmentHeader {
  logFormatVersion: number;
  checksumAlgorithm: number;
}

export function encodeSegmentHeader(header: SegmentHeader, out = new Uint8Array(SEGMENT_HEADER_LEN)): Uint8Array {
  out.set(MAGIC, 0);
  out[6] = header.logFormatVersion;
  out[7] = header.checksumAlgorithm;
  out[8] = 0;
  out[9] = 0;
  return out;
}

export function startsWithMagic(bytes: Uint8Array, pos = 0): boolean {
  if (bytes.length - pos < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[pos + i] !== MAGIC[i]) return false;
  return true;
}

/** Decodes a header from `bytes` (at least 10 bytes expected). Version and algorithm are not checked. */
export function decodeSegmentHeader(bytes: Uint8Array, pos = 0): SegmentHeader {
  if (bytes.length - pos < SEGMENT_HEADER_LEN) {
    throw new UnexpectedEofError(`segment header needs ${SEGMENT_HEADER_LEN} bytes, got ${bytes.length - pos}`);
  }
  if (!startsWithMagic(bytes, pos)) {
    const seen = Array.from(bytes.subarray(pos, pos + MAGIC.length), (b) => b.toString(16).padStart(2, '0'));
    throw new InvalidDataError(`segment header does not start with magic (found ${seen.join(' ')})`);
  }
  return { logFormatVersion: bytes[pos + 6]!, checksumAlgorithm: bytes[pos + 7]! };
}

/** `ensureCompatible(maxVersion, CRC32C)`. */
export function ensureCompatible(header: SegmentHeader, maxLogFormatVersion: number): void {
  if (header.logFormatVersion > maxLogFormatVersion) {
    throw new InvalidDataError(`unsupported log format version: ${header.logFormatVersion}`);
  }
  if (header.checksumAlgorithm !== CHECKSUM_ALGORITHM_CRC32C) {
    throw new InvalidDataError(`unsupported checksum algorithm: ${header.checksumAlgorithm}`);
  }
}

/**
 * What `open` requires of the newest segment's header (SPEC §6.3 steps 3–4): compatible, and exactly
 * the version of `options.logFormatVersion`. StreamWriter applies the same check to every header it
 * is sent, since each one it writes becomes the newest segment (issue 16 §3).
 */
export function ensureResumable(header: SegmentHeader, logFormatVersion: number): void {
  ensureCompatible(header, logFormatVersion);
  if (header.logFormatVersion !== logFormatVersion) {
    throw new InvalidDataError(`log format version mismatch: current=${logFormatVersion} segment=${header.logFormatVersion}`);
  }
}
