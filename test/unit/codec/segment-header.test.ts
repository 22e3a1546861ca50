/** The 10-byte segment header (SPEC §2.2; §13.3 S1; Appendix A.1). */
import { describe, expect, it } from 'vitest';
import { InvalidDataError, MemoryRepo, UnexpectedEofError } from '../../../src/index.js';
import {
  MAGIC,
  SEGMENT_HEADER_LEN,
  decodeSegmentHeader,
  encodeSegmentHeader,
  ensureCompatible,
} from '../../../src/api/codec.js';
import { readSegmentHeader } from '../../../src/segment/metadata.js';
import { thrown } from '../../helpers/common.js';


describe('S1 header_roundtrip', () => {
  it('version 42, algorithm 7 encodes to the spec bytes and decodes back', () => {
    const header = { logFormatVersion: 42, checksumAlgorithm: 7 };
    const bytes = encodeSegmentHeader(header);
    expect(Array.from(bytes)).toEqual([0x28, 0x64, 0x73, 0x29, 0x5e, 0x32, 0x2a, 0x07, 0x00, 0x00]);
    expect(decodeSegmentHeader(bytes)).toEqual(header);
  });
});

describe('segment header layout (§2.2)', () => {
  it('magic is ASCII "(ds)^2" and the header is 10 bytes', () => {
    expect(new TextDecoder().decode(MAGIC)).toBe('(ds)^2');
    expect(SEGMENT_HEADER_LEN).toBe(10);
  });

  it('version byte is raw, not ASCII', () => {
    expect(encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 })[6]).toBe(0x01);
    expect(encodeSegmentHeader({ logFormatVersion: 0, checksumAlgorithm: 0 })[6]).toBe(0x00);
  });

  it('fewer than 10 bytes → UnexpectedEofError', () => {
    const full = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
    for (let len = 0; len < 10; len++) {
      expect(thrown(() => decodeSegmentHeader(full.subarray(0, len)))).toBeInstanceOf(UnexpectedEofError);
    }
  });

  it('wrong magic → InvalidDataError "segment header does not start with magic"', () => {
    for (let i = 0; i < 6; i++) {
      const bytes = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
      bytes[i]! ^= 0x01;
      const e = thrown(() => decodeSegmentHeader(bytes));
      expect(e).toBeInstanceOf(InvalidDataError);
      expect((e as Error).message).toContain('segment header does not start with magic');
    }
  });

  it('reserved bytes 8–9 are never checked on read', () => {
    const bytes = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
    bytes[8] = 0xff;
    bytes[9] = 0x7e;
    expect(decodeSegmentHeader(bytes)).toEqual({ logFormatVersion: 1, checksumAlgorithm: 0 });
  });

  it('version and algorithm are returned as-is by decode (checked only by ensureCompatible)', () => {
    const bytes = Uint8Array.of(0x28, 0x64, 0x73, 0x29, 0x5e, 0x32, 0xff, 0x03, 0, 0);
    expect(decodeSegmentHeader(bytes)).toEqual({ logFormatVersion: 255, checksumAlgorithm: 3 });
  });
});

describe('ensureCompatible (§2.2)', () => {
  it('accepts versions up to the maximum with algorithm 0', () => {
    expect(() => ensureCompatible({ logFormatVersion: 0, checksumAlgorithm: 0 }, 1)).not.toThrow();
    expect(() => ensureCompatible({ logFormatVersion: 1, checksumAlgorithm: 0 }, 1)).not.toThrow();
  });

  it('version > max → InvalidData "unsupported log format version: V"', () => {
    const e = thrown(() => ensureCompatible({ logFormatVersion: 2, checksumAlgorithm: 0 }, 1));
    expect(e).toBeInstanceOf(InvalidDataError);
    expect((e as Error).message).toContain('unsupported log format version: 2');
  });

  it('algorithm ≠ 0 → InvalidData "unsupported checksum algorithm: A"', () => {
    const e = thrown(() => ensureCompatible({ logFormatVersion: 1, checksumAlgorithm: 7 }, 1));
    expect(e).toBeInstanceOf(InvalidDataError);
    expect((e as Error).message).toContain('unsupported checksum algorithm: 7');
  });
});

describe('readSegmentHeader over a file', () => {
  it('reads the header of a segment and rejects a short one', () => {
    const repo = new MemoryRepo();
    const file = repo.createSegment(0);
    const header = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
    file.append(header, 0, 9);
    expect(thrown(() => readSegmentHeader(repo.openSegmentReader(0)))).toBeInstanceOf(UnexpectedEofError);
    file.append(header, 9, 1);
    expect(readSegmentHeader(repo.openSegmentReader(0)).header).toEqual({ logFormatVersion: 1, checksumAlgorithm: 0 });
  });
});
