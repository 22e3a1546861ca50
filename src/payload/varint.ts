/**
 * Unsigned LEB128 varints (SPEC §10.2). Values below 2^53 are JS numbers; larger u64 values are
 * bigints, so no value is ever rounded.
 */
import { DecodeError, InvalidInputError } from '../errors.js';
import type { BufReader } from './buf-reader.js';
import type { ByteWriter } from './byte-writer.js';

/** ceil(64 / 7): a u64 never needs more bytes; anything longer is garbage (1.3.0 would panic or wrap). */
export const MAX_VARINT_LEN = 10;

export const U64_MAX = (1n << 64n) - 1n;

/** Number arithmetic is exact for the first 7 groups (49 bits); later groups switch to bigint. */
const NUMBER_GROUPS = 7;

export function encodeVarint(value: number | bigint, out: ByteWriter): void {
  if (typeof value === 'bigint') {
    if (value < 0n || value > U64_MAX) throw new InvalidInputError(`varint out of u64 range: ${value}`);
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return encodeVarint(Number(value), out);
    let v = value;
    while (v >= 0x80n) {
      out.writeU8(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.writeU8(Number(v));
    return;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`varint must be a non-negative safe integer or a bigint, got ${value}`);
  }
  let v = value;
  // Division, not `>>>`: bitwise operators would cut the value to 32 bits.
  while (v >= 0x80) {
    out.writeU8((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.writeU8(v);
}

/**
 * Reads one varint. Past the end → `DecodeError('BufferLength')`; more than 10 bytes or a value above
 * 2^64−1 → `DecodeError('Other')`. Non-minimal encodings (`80 00`) are accepted, like the reference.
 */
export function decodeVarint(reader: BufReader): number | bigint {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < NUMBER_GROUPS; i++) {
    const b = reader.getU8();
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return result;
    scale *= 0x80;
  }
  let big = BigInt(result);
  let shift = BigInt(NUMBER_GROUPS * 7);
  for (let i = NUMBER_GROUPS; i < MAX_VARINT_LEN; i++) {
    const b = reader.getU8();
    big |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      if (big > U64_MAX) throw new DecodeError('Other', `varint exceeds 2^64-1: ${big}`, { value: big });
      return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    shift += 7n;
  }
  throw new DecodeError('Other', `varint longer than ${MAX_VARINT_LEN} bytes`);
}

/** The number of bytes `encodeVarint(value)` writes. */
export function varintLen(value: number | bigint): number {
  let v = BigInt(value);
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}
