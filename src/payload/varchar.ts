/**
 * `Varchar<N>` (SPEC §10.3): a string whose UTF-8 encoding is at most N bytes. In TS a varchar is a
 * plain string that passed these checks; the reducer name and output of a `Txdata` are `Varchar<255>`.
 */
import { DecodeError, InvalidInputError } from '../errors.js';

/** The bound of the reducer name and output: their length is stored in one byte. */
export const VARCHAR_MAX = 255;

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF like Rust's `str::from_utf8` (the default would strip it).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A lone surrogate has no UTF-8 encoding (TextEncoder would silently write U+FFFD). */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8 decoding: invalid bytes → `DecodeError('InvalidUtf8')`. */
export function utf8Decode(bytes: Uint8Array, what = 'string'): string {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    throw new DecodeError('InvalidUtf8', `invalid UTF-8 in ${what}`, { cause: e });
  }
}

function checkWellFormed(s: string): void {
  if (LONE_SURROGATE.test(s)) throw new InvalidInputError('string contains a lone surrogate, which UTF-8 cannot encode');
}

/** `Varchar::from_str`: `s` itself if it encodes to at most `n` bytes, else `InvalidInputError`. */
export function varcharFromStr(s: string, n: number = VARCHAR_MAX): string {
  checkWellFormed(s);
  const len = utf8Encode(s).length;
  if (len > n) throw new InvalidInputError(`string of ${len} UTF-8 bytes exceeds varchar limit of ${n} bytes`);
  return s;
}

/**
 * `Varchar::from_str_truncate`: drops whole trailing characters (code points) until at most `n` bytes
 * remain, so the result is shorter than `n` when the limit falls inside a multi-byte character.
 */
export function varcharFromStrTruncate(s: string, n: number = VARCHAR_MAX): string {
  checkWellFormed(s);
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const w = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + w > n) break;
    bytes += w;
    end += ch.length;
  }
  return s.slice(0, end);
}
