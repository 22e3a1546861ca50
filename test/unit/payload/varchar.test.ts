/** `Varchar<N>` (SPEC §10.3, §13.5 V1–V5): byte-length bound on UTF-8 strings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, InvalidInputError } from '../../../src/index.js';
import { VARCHAR_MAX, utf8Decode, varcharFromStr, varcharFromStrTruncate } from '../../../src/payload/index.js';

const encoder = new TextEncoder();
const utf8Len = (s: string) => encoder.encode(s).length;
const RUNS = { numRuns: 300 };

const ascii = (minLength: number, maxLength: number) => fc.string({ unit: 'binary-ascii', minLength, maxLength });

/** Unicode word characters of 1 to 4 UTF-8 bytes (Rust's `\w` is Unicode-aware). */
const wordChar = fc.constantFrom('a', 'Z', '7', '_', 'ß', 'é', 'Ж', '中', 'ア', '𝒳', '𐐷');

describe('V1 generated varchars stay within 255 bytes (proptest)', () => {
  it('chars appended while they fit (the reference generator) are accepted and ≤ 255 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 254 }), (chars) => {
        let s = '';
        let len = 0;
        // Iterating a string yields whole code points, i.e. Rust `char`s.
        for (const c of chars) {
          const w = utf8Len(c);
          if (len + w <= VARCHAR_MAX) {
            s += c;
            len += w;
          }
        }
        expect(utf8Len(s)).toBeLessThanOrEqual(VARCHAR_MAX);
        expect(varcharFromStr(s)).toBe(s);
      }),
      RUNS,
    );
  });

  it('truncating any string gives a prefix of at most 255 bytes, whole characters only', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        const v = varcharFromStrTruncate(s);
        expect(utf8Len(v)).toBeLessThanOrEqual(VARCHAR_MAX);
        expect(s.startsWith(v)).toBe(true);
        // Maximal: the next character would not have fit.
        if (v.length < s.length) {
          const next = String.fromCodePoint(s.codePointAt(v.length)!);
          expect(utf8Len(v) + utf8Len(next)).toBeGreaterThan(VARCHAR_MAX);
        } else {
          expect(v).toBe(s);
        }
      }),
      RUNS,
    );
  });
});

describe('V2 strings of ≥ 33 word chars are rejected by fromString(…, 32) (proptest)', () => {
  it('rejects', () => {
    fc.assert(
      fc.property(fc.array(wordChar, { minLength: 33, maxLength: 80 }), (chars) => {
        expect(() => varcharFromStr(chars.join(''), 32)).toThrow(InvalidInputError);
      }),
      RUNS,
    );
  });
});

describe('V3 ASCII strings of ≤ 32 chars are accepted unchanged (proptest)', () => {
  it('accepts', () => {
    fc.assert(
      fc.property(ascii(0, 32), (s) => {
        expect(varcharFromStr(s, 32)).toBe(s);
        expect(varcharFromStrTruncate(s, 32)).toBe(s);
      }),
      RUNS,
    );
  });
});

describe('V4 ASCII strings of ≥ 33 chars truncate to exactly 32 bytes (proptest)', () => {
  it('truncates', () => {
    fc.assert(
      fc.property(ascii(33, 200), (s) => {
        const v = varcharFromStrTruncate(s, 32);
        expect(utf8Len(v)).toBe(32);
        expect(v).toBe(s.slice(0, 32));
      }),
      RUNS,
    );
  });
});

describe('V5 truncation on a character boundary (proptest)', () => {
  it('31 ASCII chars + ß truncated to 32 bytes → the 31 chars', () => {
    fc.assert(
      fc.property(ascii(31, 31), (s) => {
        expect(varcharFromStrTruncate(s + 'ß', 32)).toBe(s);
      }),
      RUNS,
    );
  });

  it('a 4-byte character straddling the limit is dropped whole', () => {
    expect(varcharFromStrTruncate('a'.repeat(30) + '𝒳', 32)).toBe('a'.repeat(30));
    expect(varcharFromStrTruncate('a'.repeat(28) + '𝒳', 32)).toBe('a'.repeat(28) + '𝒳');
  });
});

describe('limits and UTF-8', () => {
  it('the default limit is 255 bytes, counted in UTF-8 bytes not UTF-16 units', () => {
    expect(varcharFromStr('x'.repeat(255))).toBe('x'.repeat(255));
    expect(() => varcharFromStr('x'.repeat(256))).toThrow(InvalidInputError);
    // 128 two-byte chars = 256 bytes, though only 128 UTF-16 units.
    expect(() => varcharFromStr('é'.repeat(128))).toThrow(InvalidInputError);
    expect(varcharFromStrTruncate('é'.repeat(128))).toBe('é'.repeat(127));
  });

  it('a lone surrogate has no UTF-8 form and is rejected', () => {
    expect(() => varcharFromStr('a\ud800')).toThrow(InvalidInputError);
    expect(() => varcharFromStrTruncate('\udc00b')).toThrow(InvalidInputError);
  });

  it('strict decoding: invalid UTF-8 → DecodeError InvalidUtf8; a BOM is kept', () => {
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      let err: unknown;
      try {
        utf8Decode(Uint8Array.from(bad));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).reason).toBe('InvalidUtf8');
    }
    expect(utf8Decode(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('\ufeffa');
  });
});
