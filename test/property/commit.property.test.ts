/**
 * Property tests of the commit codec (SPEC §0.2, §2.3): round trip, truncation, single bit flips and
 * u64 values beyond Number.MAX_SAFE_INTEGER. Layout checks read the bytes with DataView, independently
 * of the codec's own helpers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChecksumMismatchError, InvalidDataError, UnexpectedEofError } from '../../src/index.js';
import { crc32c, decodeStoredCommit, encodeCommit, type Commit } from '../../src/api/codec.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const RUNS = 256;

/** Offsets and epochs: anything up to MAX_SAFE_INTEGER, with the word boundaries drawn often. */
const u64Safe = fc.oneof(
  fc.constantFrom(0, 1, 0xffff_ffff, 0x1_0000_0000, MAX_SAFE - 1, MAX_SAFE),
  fc.maxSafeNat(),
);

const commitArb = (maxRecords: number): fc.Arbitrary<Commit> =>
  fc.record({
    minTxOffset: u64Safe,
    epoch: u64Safe,
    n: fc.oneof(fc.constantFrom(0, 1, 65535), fc.integer({ min: 0, max: 65535 })),
    records: fc.uint8Array({ maxLength: maxRecords }),
  });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

/** A v1 frame with arbitrary u64 header fields and a valid CRC. */
function rawV1(min: bigint, epoch: bigint, n: number, records: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(26 + records.length);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(0, min, true);
  dv.setBigUint64(8, epoch, true);
  dv.setUint16(16, n, true);
  dv.setUint32(18, records.length, true);
  bytes.set(records, 22);
  dv.setUint32(22 + records.length, crc32c(bytes.subarray(0, 22 + records.length)), true);
  return bytes;
}

function rawV0(min: bigint, n: number, records: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(18 + records.length);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(0, min, true);
  dv.setUint16(8, n, true);
  dv.setUint32(10, records.length, true);
  bytes.set(records, 14);
  dv.setUint32(14 + records.length, crc32c(bytes.subarray(0, 14 + records.length)), true);
  return bytes;
}

describe('round trip', () => {
  it('decodeStoredCommit(encodeCommit(c)) == c with its checksum; layout per §2.3', () => {
    fc.assert(
      fc.property(commitArb(1024), (c) => {
        const { bytes, checksum } = encodeCommit(c);
        const len = c.records.length;
        expect(bytes.length).toBe(26 + len);
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        expect(dv.getBigUint64(0, true)).toBe(BigInt(c.minTxOffset));
        expect(dv.getBigUint64(8, true)).toBe(BigInt(c.epoch));
        expect(dv.getUint16(16, true)).toBe(c.n);
        expect(dv.getUint32(18, true)).toBe(len);
        expect(bytes.subarray(22, 22 + len)).toEqual(c.records);
        expect(checksum).toBe(crc32c(bytes.subarray(0, 22 + len)));
        expect(dv.getUint32(22 + len, true)).toBe(checksum);
        expect(decodeStoredCommit(bytes, 1)).toEqual({ ...c, checksum });
      }),
      { numRuns: RUNS },
    );
  });

  it('v0 frames decode with epoch 0 (all-zero header → null)', () => {
    fc.assert(
      fc.property(u64Safe, fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 64 }), (min, n, records) => {
        const bytes = rawV0(BigInt(min), n, records);
        const got = decodeStoredCommit(bytes, 0);
        if (min === 0 && n === 0 && records.length === 0) {
          expect(got).toBeNull();
        } else {
          const dv = new DataView(bytes.buffer);
          expect(got).toEqual({ minTxOffset: min, epoch: 0, n, records, checksum: dv.getUint32(14 + records.length, true) });
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('truncation', () => {
  it('every proper prefix gives null (< 22 bytes) or UnexpectedEofError, nothing else', () => {
    fc.assert(
      fc.property(commitArb(64), (c) => {
        const { bytes } = encodeCommit(c);
        for (let len = 0; len < bytes.length; len++) {
          const prefix = bytes.slice(0, len);
          if (len < 22) {
            expect(decodeStoredCommit(prefix, 1)).toBeNull();
          } else {
            const e = thrown(() => decodeStoredCommit(prefix, 1));
            expect(e).toBeInstanceOf(UnexpectedEofError);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('single bit flips', () => {
  /** Flip `bit` of `bytes[pos]`; the decode must fail, and only in the allowed ways. */
  function checkFlip(bytes: Uint8Array, pos: number, bit: number): void {
    const flipped = bytes.slice();
    flipped[pos]! ^= 1 << bit;
    let result: unknown;
    const e = thrown(() => {
      result = decodeStoredCommit(flipped, 1);
    });
    if (e === null) throw new Error(`flip at byte ${pos} bit ${bit} decoded silently: ${JSON.stringify(result)}`);
    const inLen = pos >= 18 && pos < 22;
    if (inLen && e instanceof UnexpectedEofError) return; // a longer len runs past the end
    expect(e).toBeInstanceOf(ChecksumMismatchError);
  }

  it('any bit anywhere in a random commit is detected', () => {
    fc.assert(
      fc.property(
        commitArb(256).chain((c) => {
          const len = 26 + c.records.length;
          return fc.tuple(fc.constant(c), fc.integer({ min: 0, max: len - 1 }), fc.integer({ min: 0, max: 7 }));
        }),
        ([c, pos, bit]) => checkFlip(encodeCommit(c).bytes, pos, bit),
      ),
      { numRuns: 1024 },
    );
  });

  it('exhaustive: every bit of a fixed commit', () => {
    const { bytes } = encodeCommit({
      minTxOffset: MAX_SAFE,
      epoch: 3,
      n: 5,
      records: Uint8Array.from({ length: 40 }, (_, i) => i * 7),
    });
    for (let pos = 0; pos < bytes.length; pos++) for (let bit = 0; bit < 8; bit++) checkFlip(bytes, pos, bit);
  });
});

describe('u64 beyond Number.MAX_SAFE_INTEGER on disk', () => {
  const unsafe = fc.bigInt({ min: BigInt(MAX_SAFE) + 1n, max: (1n << 64n) - 1n });
  const safe = fc.bigInt({ min: 0n, max: BigInt(MAX_SAFE) });

  function expectRejected(bytes: Uint8Array, version: number): void {
    const e = thrown(() => decodeStoredCommit(bytes, version));
    expect(e).toBeInstanceOf(InvalidDataError);
    // The CRC is valid: this must be the range check, not a checksum mismatch.
    expect(e).not.toBeInstanceOf(ChecksumMismatchError);
  }

  it('fixed values 2^53, 2^53 + 1, 2^63, 2^64 − 1 are rejected, MAX_SAFE_INTEGER is kept exactly', () => {
    for (const v of [1n << 53n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n]) {
      expectRejected(rawV1(v, 0n, 1, Uint8Array.of(1)), 1);
      expectRejected(rawV1(0n, v, 1, Uint8Array.of(1)), 1);
      expectRejected(rawV0(v, 1, Uint8Array.of(1)), 0);
    }
    const ok = decodeStoredCommit(rawV1(BigInt(MAX_SAFE), BigInt(MAX_SAFE), 1, Uint8Array.of(1)), 1)!;
    expect(ok.minTxOffset).toBe(MAX_SAFE);
    expect(ok.epoch).toBe(MAX_SAFE);
  });

  it('property: an unsafe minTxOffset or epoch with a valid CRC → InvalidDataError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(unsafe, safe), fc.tuple(safe, unsafe), fc.tuple(unsafe, unsafe)),
        fc.integer({ min: 0, max: 65535 }),
        fc.uint8Array({ maxLength: 32 }),
        ([min, epoch], n, records) => {
          expectRejected(rawV1(min, epoch, n, records), 1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('property: an unsafe v0 minTxOffset with a valid CRC → InvalidDataError', () => {
    fc.assert(
      fc.property(unsafe, fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 32 }), (min, n, records) => {
        expectRejected(rawV0(min, n, records), 0);
      }),
      { numRuns: RUNS },
    );
  });
});
