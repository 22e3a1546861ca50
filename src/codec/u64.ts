/**
 * Little-endian u64 helpers for offsets and epochs, which the API keeps as JS numbers (SPEC §0.2).
 * Values above Number.MAX_SAFE_INTEGER cannot be represented exactly and are rejected, never rounded.
 */
import { InvalidDataError, InvalidInputError } from '../errors.js';

const TWO_32 = 0x1_0000_0000;

/**
 * Reads a u64 as a number without the range check. Above 2^53 the result may be rounded, but it
 * always stays above MAX_SAFE_INTEGER, so a later `checkSafeOffset` still rejects it.
 */
export function readU64(buf: Uint8Array, pos: number): number {
  const lo = (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16)) + buf[pos + 3]! * 0x100_0000;
  const hi = (buf[pos + 4]! | (buf[pos + 5]! << 8) | (buf[pos + 6]! << 16)) + buf[pos + 7]! * 0x100_0000;
  return hi * TWO_32 + lo;
}

export function writeU64(buf: Uint8Array, pos: number, value: number): void {
  const lo = value % TWO_32;
  const hi = (value - lo) / TWO_32;
  writeU32(buf, pos, lo);
  writeU32(buf, pos + 4, hi);
}

export function readU32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16)) + buf[pos + 3]! * 0x100_0000;
}

export function writeU32(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value & 0xff;
  buf[pos + 1] = (value >>> 8) & 0xff;
  buf[pos + 2] = (value >>> 16) & 0xff;
  buf[pos + 3] = (value >>> 24) & 0xff;
}

export function readU16(buf: Uint8Array, pos: number): number {
  return buf[pos]! | (buf[pos + 1]! << 8);
}

export function writeU16(buf: Uint8Array, pos: number, value: number): void {
  buf[pos] = value & 0xff;
  buf[pos + 1] = (value >>> 8) & 0xff;
}

/** A u64 read from disk or network that must fit a JS number exactly. */
export function checkSafeOnDisk(value: number, what: string): number {
  if (value > Number.MAX_SAFE_INTEGER) {
    throw new InvalidDataError(`${what} ${value} read from the log exceeds Number.MAX_SAFE_INTEGER; not supported`);
  }
  return value;
}

/** A u64 given by the caller: a non-negative safe integer. */
export function checkU64Input(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`${what} must be an integer in 0..Number.MAX_SAFE_INTEGER, got ${value}`);
  }
  return value;
}
