/**
 * Commit framing unit scenarios (SPEC §2.3, §13.1 C1–C3), ported from `src/commit.rs` of the
 * reference crate, plus the decoding rules of §2.3 steps 1–6.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  ChecksumMismatchError,
  InvalidDataError,
  InvalidInputError,
  MemoryRepo,
  UnexpectedEofError,
  transactionsFrom,
} from '../../../src/index.js';
import {
  decodeCommit,
  decodeStoredCommit,
  encodeCommit,
  encodeSegmentHeader,
  type Commit,
} from '../../../src/api/codec.js';
import { BufReader } from '../../../src/payload/buf-reader.js';
import { thrown } from '../../helpers/common.js';

function filled(len: number, byte: number): Uint8Array {
  return new Uint8Array(len).fill(byte);
}


describe('C1 commit_roundtrip', () => {
  it('encode then decode gives the input back (n is not checked against the records)', () => {
    const commit: Commit = { minTxOffset: 0, epoch: 0, n: 3, records: filled(128, 0) };
    const { bytes, checksum } = encodeCommit(commit);
    expect(bytes.length).toBe(26 + 128);
    expect(decodeCommit(bytes)).toEqual(commit);
    const stored = decodeStoredCommit(bytes, 1);
    expect(stored).toEqual({ ...commit, checksum });
  });
});

describe('C2 into_transactions_can_skip_txs', () => {
  // No exported `intoTransactions` exists: the commit is placed alone in a MemoryRepo segment and read
  // back with the free `transactionsFrom(repo, 2, ArrayDecoder(32))`, which runs the same per-commit
  // record loop (skipRecord below the start offset, decodeRecord from it on).
  it('via a MemoryRepo segment holding exactly this commit', () => {
    const commit: Commit = { minTxOffset: 0, epoch: 0, n: 4, records: filled(128, 0) };
    const repo = new MemoryRepo();
    const seg = repo.createSegment(0);
    const header = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
    seg.append(header, 0, header.length);
    const { bytes } = encodeCommit(commit);
    seg.append(bytes, 0, bytes.length);

    const txs = [...transactionsFrom(repo, 2, new ArrayDecoder(32))];
    expect(txs).toEqual([
      { offset: 2, txdata: filled(32, 0) },
      { offset: 3, txdata: filled(32, 0) },
    ]);
  });

  it('via BufReader + ArrayDecoder directly over the records', () => {
    const decoded = decodeCommit(encodeCommit({ minTxOffset: 0, epoch: 0, n: 4, records: filled(128, 0) }).bytes)!;
    const dec = new ArrayDecoder(32);
    const reader = new BufReader(decoded.records);
    const out: { offset: number; txdata: Uint8Array }[] = [];
    for (let k = 0; k < decoded.n; k++) {
      const offset = decoded.minTxOffset + k;
      if (offset < 2) dec.skipRecord(1, offset, reader);
      else out.push({ offset, txdata: dec.decodeRecord(1, offset, reader) });
    }
    expect(out).toEqual([
      { offset: 2, txdata: filled(32, 0) },
      { offset: 3, txdata: filled(32, 0) },
    ]);
    expect(reader.remaining).toBe(0);
  });
});

describe('C3 bitflip', () => {
  const encoded = encodeCommit({ minTxOffset: 42, epoch: 0, n: 10, records: filled(512, 1) }).bytes;

  function flipAndDecode(pos: number, mask: number): unknown {
    const bytes = encoded.slice();
    bytes[pos]! ^= mask;
    return thrown(() => decodeStoredCommit(bytes, 1));
  }

  it('encodes to 538 bytes', () => {
    expect(encoded.length).toBe(538);
  });

  const masks = [147, 234, 54, 183, 10, 166, 1, 255];
  for (const pos of [22, 511]) {
    for (const mask of masks) {
      it(`fixed case pos ${pos} mask ${mask} → ChecksumMismatchError (kind InvalidData)`, () => {
        const e = flipAndDecode(pos, mask);
        expect(e).toBeInstanceOf(ChecksumMismatchError);
        expect((e as InvalidDataError).kind).toBe('InvalidData');
      });
    }
  }

  it('property: any pos in [22, 512), mask in [1, 255] → ChecksumMismatchError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 22, max: 511 }), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        expect(flipAndDecode(pos, mask)).toBeInstanceOf(ChecksumMismatchError);
      }),
      { numRuns: 512 },
    );
  });
});

describe('decodeStoredCommit rules (§2.3)', () => {
  const sample = encodeCommit({ minTxOffset: 7, epoch: 3, n: 2, records: Uint8Array.of(9, 8, 7, 6) }).bytes;

  it('fewer than 22 bytes (v1) is EOF: null', () => {
    for (let len = 0; len < 22; len++) expect(decodeStoredCommit(sample.subarray(0, len), 1)).toBeNull();
  });

  it('fewer than 14 bytes (v0) is EOF: null', () => {
    for (let len = 0; len < 14; len++) expect(decodeStoredCommit(new Uint8Array(len).fill(5), 0)).toBeNull();
  });

  it('records cut short → UnexpectedEofError', () => {
    expect(thrown(() => decodeStoredCommit(sample.subarray(0, 23), 1))).toBeInstanceOf(UnexpectedEofError);
  });

  it('checksum cut short → UnexpectedEofError', () => {
    expect(thrown(() => decodeStoredCommit(sample.subarray(0, sample.length - 1), 1))).toBeInstanceOf(
      UnexpectedEofError,
    );
  });

  it('bad checksum → ChecksumMismatchError, an InvalidDataError', () => {
    const bad = sample.slice();
    bad[bad.length - 1]! ^= 0x80;
    const e = thrown(() => decodeStoredCommit(bad, 1));
    expect(e).toBeInstanceOf(ChecksumMismatchError);
    expect(e).toBeInstanceOf(InvalidDataError);
  });

  it('an all-zero v1 header is not EOF (QUIRK Q1): 26 zero bytes are a checksum mismatch', () => {
    expect(thrown(() => decodeStoredCommit(new Uint8Array(26), 1))).toBeInstanceOf(ChecksumMismatchError);
  });

  it('an all-zero v1 header with only the 22 header bytes wants its checksum: UnexpectedEofError', () => {
    expect(thrown(() => decodeStoredCommit(new Uint8Array(22), 1))).toBeInstanceOf(UnexpectedEofError);
  });

  it('an all-zero v0 header is EOF: null', () => {
    expect(decodeStoredCommit(new Uint8Array(14), 0)).toBeNull();
    expect(decodeStoredCommit(new Uint8Array(40), 0)).toBeNull();
  });

  it('n = 0 commits are legal on disk', () => {
    const { bytes, checksum } = encodeCommit({ minTxOffset: 11, epoch: 0, n: 0, records: new Uint8Array(0) });
    expect(decodeStoredCommit(bytes, 1)).toEqual({
      minTxOffset: 11,
      epoch: 0,
      n: 0,
      records: new Uint8Array(0),
      checksum,
    });
  });

  it('bytes after the commit are ignored', () => {
    const more = new Uint8Array(sample.length + 5);
    more.set(sample);
    expect(decodeCommit(more, 1)).toEqual(decodeCommit(sample, 1));
  });

  it('decodeCommit leaves out the checksum', () => {
    expect(decodeCommit(sample, 1)).toEqual({ minTxOffset: 7, epoch: 3, n: 2, records: Uint8Array.of(9, 8, 7, 6) });
  });
});

describe('encodeCommit input checks (§0.2, §2.6)', () => {
  const base: Commit = { minTxOffset: 0, epoch: 0, n: 1, records: Uint8Array.of(1) };

  it('rejects offsets and epochs that are not safe non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, 2 ** 64, Number.NaN]) {
      expect(thrown(() => encodeCommit({ ...base, minTxOffset: bad }))).toBeInstanceOf(InvalidInputError);
      expect(thrown(() => encodeCommit({ ...base, epoch: bad }))).toBeInstanceOf(InvalidInputError);
    }
  });

  it('accepts Number.MAX_SAFE_INTEGER', () => {
    const c = { ...base, minTxOffset: Number.MAX_SAFE_INTEGER, epoch: Number.MAX_SAFE_INTEGER };
    expect(decodeCommit(encodeCommit(c).bytes)).toEqual(c);
  });

  it('rejects n outside the u16 range', () => {
    expect(thrown(() => encodeCommit({ ...base, n: 65536 }))).toBeInstanceOf(InvalidInputError);
    expect(thrown(() => encodeCommit({ ...base, n: -1 }))).toBeInstanceOf(InvalidInputError);
    expect(decodeCommit(encodeCommit({ ...base, n: 65535 }).bytes)!.n).toBe(65535);
  });
});
