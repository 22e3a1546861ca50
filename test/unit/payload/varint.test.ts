/** Varints (SPEC §10.2, §13.5 VI1, §12.7): round trips, the spec's examples, and garbage input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufReader, DecodeError, InvalidInputError } from '../../../src/index.js';
import { MAX_VARINT_LEN, U64_MAX, decodeVarint, encodeVarint, varintLen } from '../../../src/payload/index.js';
import { encodeWith, hex } from './test-rows.js';

const encode = (v: number | bigint) => encodeWith((out) => encodeVarint(v, out));

function decodeAll(bytes: Uint8Array): number | bigint {
  const reader = new BufReader(bytes);
  const v = decodeVarint(reader);
  expect(reader.remaining).toBe(0);
  return v;
}

function decodeError(bytes: Uint8Array): DecodeError {
  try {
    decodeVarint(new BufReader(bytes));
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('varint examples (§10.2)', () => {
  const examples: [number | bigint, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, '80 01'],
    [300, 'ac 02'],
    [16384, '80 80 01'],
    [2 ** 32, '80 80 80 80 10'],
  ];
  for (const [value, bytes] of examples) {
    it(`${value} <-> ${bytes}`, () => {
      expect(encode(value)).toEqual(hex(bytes));
      expect(decodeAll(hex(bytes))).toBe(value);
    });
  }

  it('2^64−1 takes ten bytes and decodes as a bigint', () => {
    const bytes = hex('ff ff ff ff ff ff ff ff ff 01');
    expect(encode(U64_MAX)).toEqual(bytes);
    expect(decodeAll(bytes)).toBe(U64_MAX);
  });

  it('numbers up to 2^53−1, bigints from 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(decodeAll(encode(max))).toBe(max);
    expect(decodeAll(encode(BigInt(max)))).toBe(max);
    expect(decodeAll(encode(2n ** 53n))).toBe(2n ** 53n);
  });

  it('a bigint below 2^53 encodes like the same number', () => {
    expect(encode(300n)).toEqual(hex('ac 02'));
  });

  it('non-minimal encodings are accepted like the reference', () => {
    expect(decodeAll(hex('80 00'))).toBe(0);
    expect(decodeAll(hex('ff 80 80 80 80 80 80 80 80 00'))).toBe(127);
  });

  it('stops at the first byte with bit 7 clear and leaves the rest', () => {
    const reader = new BufReader(hex('ac 02 ff'));
    expect(decodeVarint(reader)).toBe(300);
    expect(reader.remaining).toBe(1);
  });
});

describe('VI1 varint round trip (proptest)', () => {
  it('any u64 (number below 2^53, bigint from 2^53)', () => {
    const u64 = fc.bigInt({ min: 0n, max: U64_MAX });
    fc.assert(
      fc.property(u64, (big) => {
        const value = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
        const bytes = encode(value);
        expect(bytes.length).toBe(varintLen(value));
        expect(bytes.length).toBeLessThanOrEqual(MAX_VARINT_LEN);
        expect(decodeAll(bytes)).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('safe integers', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (v) => {
        expect(decodeAll(encode(v))).toBe(v);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('garbage input (§10.2, §12.7)', () => {
  it('past the end → BufferLength', () => {
    expect(decodeError(new Uint8Array(0)).reason).toBe('BufferLength');
    expect(decodeError(hex('80')).reason).toBe('BufferLength');
    expect(decodeError(hex('ff ff ff ff ff ff ff ff')).reason).toBe('BufferLength');
  });

  it('more than 10 bytes → Other', () => {
    expect(decodeError(hex('80 80 80 80 80 80 80 80 80 80 00')).reason).toBe('Other');
    expect(decodeError(new Uint8Array(64).fill(0xff)).reason).toBe('Other');
  });

  it('a value above 2^64−1 → Other', () => {
    expect(decodeError(hex('ff ff ff ff ff ff ff ff ff 02')).reason).toBe('Other');
    expect(decodeError(hex('80 80 80 80 80 80 80 80 80 7f')).reason).toBe('Other');
  });

  it('any bytes: a value, or a DecodeError (never another exception)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (bytes) => {
        try {
          const v = decodeVarint(new BufReader(bytes));
          expect(BigInt(v) <= U64_MAX).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('encode rejects what is not a u64', () => {
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, -1n, 2n ** 64n]) {
    it(String(bad), () => {
      expect(() => encode(bad)).toThrow(InvalidInputError);
    });
  }
});
