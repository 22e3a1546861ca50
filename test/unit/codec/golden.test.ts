/**
 * Golden bytes (SPEC §13.10 X6, Appendix A.1–A.4 and A.6) and the CRC32C definition of §0.2.
 * Every expected byte below is copied from the spec, not from this implementation's output.
 */
import * as fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChecksumMismatchError, GenericLog, MemoryRepo, resolveOptions } from '../../../src/index.js';
import { IndexFile } from '../../../src/api/ops.js';
import {
  crc32c,
  decodeSegmentHeader,
  decodeStoredCommit,
  encodeCommit,
  encodeSegmentHeader,
} from '../../../src/api/codec.js';
import { createSegmentWriter } from '../../../src/segment/resume.js';

function hex(s: string): Uint8Array {
  const parts = s.trim().split(/\s+/);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ascii = (s: string) => new TextEncoder().encode(s);

const HEADER_V1 = hex('28 64 73 29 5e 32 01 00 00 00');
const HEADER_V0 = hex('28 64 73 29 5e 32 00 00 00 00');

// A.2: minTxOffset 5, epoch 0, n 2, records 01 02 03.
const A2_V1 = hex(`
  05 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00
  02 00
  03 00 00 00
  01 02 03
  34 a4 96 4f`);
const A2_V0 = hex('05 00 00 00 00 00 00 00 02 00 03 00 00 00 01 02 03 66 86 b6 3b');

// A.4: minTxOffset 42, epoch 7, n 1, records aa.
const A4 = hex('2a 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 01 00 01 00 00 00 aa e4 9e 84 2f');

// A.5 / A.6: the Txdata example and the commit wrapping it.
const A5_TXDATA = hex(
  'a0 08 00 00 00 03 61 64 64 07 00 00 00 01 00 10 00 00 01 07 00 00 00 02 00 00 00 68 69 00 01 01 10 00 00',
);
const A6 = hex(`
  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  01 00  23 00 00 00
  a0 08 00 00 00 03 61 64 64 07 00 00 00 01 00 10 00 00 01 07 00 00 00 02 00 00 00 68 69 00 01 01 10 00 00
  b2 18 6a c3`);

/** Bitwise CRC-32C straight from the §0.2 definition, as an independent reference. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Table entry T[i] of the table-driven algorithm (no init, no final XOR). */
function tableEntry(i: number): number {
  let crc = i;
  for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  return crc >>> 0;
}

describe('CRC32C (§0.2)', () => {
  it('check value crc32c("123456789") = 0xE3069283', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32cReference(ascii('123456789'))).toBe(0xe3069283);
  });

  it('reference table spot values T[1], T[128], T[255]', () => {
    expect(tableEntry(1)).toBe(0xf26b8303);
    expect(tableEntry(128)).toBe(0x82f63b78);
    expect(tableEntry(255)).toBe(0xad7d5351);
  });

  it('crc32c of zeros: 22 bytes = 0x32707625, 14 bytes = 0x766B37F1 (A.4)', () => {
    expect(crc32c(new Uint8Array(22))).toBe(0x32707625);
    expect(crc32c(new Uint8Array(14))).toBe(0x766b37f1);
  });

  it('is an unsigned 32-bit value equal to the bitwise reference for any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const v = crc32c(bytes);
        expect(v).toBe(crc32cReference(bytes));
        expect(v >= 0 && v <= 0xffffffff).toBe(true);
      }),
      { numRuns: 256 },
    );
  });
});

describe('A.1 segment header', () => {
  it('v1 and v0 bytes', () => {
    expect(encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 })).toEqual(HEADER_V1);
    expect(encodeSegmentHeader({ logFormatVersion: 0, checksumAlgorithm: 0 })).toEqual(HEADER_V0);
    expect(decodeSegmentHeader(HEADER_V0)).toEqual({ logFormatVersion: 0, checksumAlgorithm: 0 });
  });

  it('a new segment starts with the v1 header', () => {
    const repo = new MemoryRepo();
    createSegmentWriter(repo, resolveOptions(), 0, 0);
    expect(repo.segments.get(0)!.bytes()).toEqual(HEADER_V1);
  });

  it('the fixture logs start with the v1 header', () => {
    for (const dir of ['spacetimedb-v1.2', 'spacetimedb-v2.6']) {
      const file = new URL(`../../fixtures/${dir}/clog/00000000000000000000.stdb.log`, import.meta.url);
      const fd = fs.openSync(file, 'r');
      const first = new Uint8Array(10);
      fs.readSync(fd, first, 0, 10, 0);
      fs.closeSync(fd);
      expect(first).toEqual(HEADER_V1);
    }
  });
});

describe('A.2 v1 commit (min 5, epoch 0, n 2, records 01 02 03)', () => {
  it('encodeCommit produces the 29 bytes and CRC 0x4F96A434', () => {
    const { bytes, checksum } = encodeCommit({ minTxOffset: 5, epoch: 0, n: 2, records: hex('01 02 03') });
    expect(bytes).toEqual(A2_V1);
    expect(bytes.length).toBe(29);
    expect(checksum).toBe(0x4f96a434);
    expect(crc32c(A2_V1.subarray(0, 25))).toBe(0x4f96a434);
  });

  it('decodes with v1 framing', () => {
    expect(decodeStoredCommit(A2_V1, 1)).toEqual({
      minTxOffset: 5,
      epoch: 0,
      n: 2,
      records: hex('01 02 03'),
      checksum: 0x4f96a434,
    });
  });

  it('the segment writer produces header + the same bytes', () => {
    const repo = new MemoryRepo();
    const w = createSegmentWriter(repo, resolveOptions(), 0, 5);
    expect(w.append(hex('01'), undefined)).toBe(true);
    expect(w.append(hex('02 03'), undefined)).toBe(true);
    const committed = w.commitPending();
    expect(committed).toEqual({ txRange: { start: 5, end: 7 }, checksum: 0x4f96a434 });
    expect(repo.segments.get(5)!.bytes()).toEqual(concat(HEADER_V1, A2_V1));
  });

  it('the same fields in v0 framing decode with decodeStoredCommit(bytes, 0)', () => {
    expect(crc32c(A2_V0.subarray(0, 17))).toBe(0x3bb68666);
    expect(decodeStoredCommit(A2_V0, 0)).toEqual({
      minTxOffset: 5,
      epoch: 0,
      n: 2,
      records: hex('01 02 03'),
      checksum: 0x3bb68666,
    });
  });
});

describe('A.3 offset index entries', () => {
  it('entries (1, 292) and (42, 0x1234) as stored bytes', () => {
    const repo = new MemoryRepo({ offsetIndex: true });
    const index = IndexFile.open(repo.createOffsetIndex(0, 3), true);
    index.append(1, 292);
    index.append(42, 0x1234);
    expect(repo.indexes.get(0)!.bytes()).toEqual(
      concat(
        hex('01 00 00 00 00 00 00 00 24 01 00 00 00 00 00 00'),
        hex('2a 00 00 00 00 00 00 00 34 12 00 00 00 00 00 00'),
        new Uint8Array(16),
      ),
    );
    const reread = IndexFile.open(repo.getOffsetIndex(0), false);
    expect([...reread.entries()]).toEqual([
      [1, 292],
      [42, 0x1234],
    ]);
  });
});

describe('A.4 epoch and empty commits', () => {
  it('min 42, epoch 7, n 1, records aa', () => {
    const { bytes, checksum } = encodeCommit({ minTxOffset: 42, epoch: 7, n: 1, records: hex('aa') });
    expect(bytes).toEqual(A4);
    expect(checksum).toBe(0x2f849ee4);
    expect(decodeStoredCommit(A4, 1)).toEqual({ minTxOffset: 42, epoch: 7, n: 1, records: hex('aa'), checksum: 0x2f849ee4 });
  });

  it('the segment writer stamps the epoch', () => {
    const repo = new MemoryRepo();
    const w = createSegmentWriter(repo, resolveOptions(), 7, 42);
    w.append(hex('aa'), undefined);
    w.commitPending();
    expect(repo.segments.get(42)!.bytes()).toEqual(concat(HEADER_V1, A4));
  });

  it('all-zero v1 header: zero CRC mismatches, CRC 25 76 70 32 decodes as an empty commit', () => {
    expect(() => decodeStoredCommit(new Uint8Array(26), 1)).toThrow(ChecksumMismatchError);
    const withCrc = concat(new Uint8Array(22), hex('25 76 70 32'));
    expect(decodeStoredCommit(withCrc, 1)).toEqual({
      minTxOffset: 0,
      epoch: 0,
      n: 0,
      records: new Uint8Array(0),
      checksum: 0x32707625,
    });
  });
});

describe('A.6 commit wrapping the Txdata of A.5', () => {
  it('encodeCommit gives the 61 bytes, CRC 0xC36A18B2', () => {
    expect(A5_TXDATA.length).toBe(35);
    const { bytes, checksum } = encodeCommit({ minTxOffset: 0, epoch: 0, n: 1, records: A5_TXDATA });
    expect(bytes).toEqual(A6);
    expect(bytes.length).toBe(61);
    expect(checksum).toBe(0xc36a18b2);
  });

  it('a log holding only this commit is the header followed by it (71 bytes)', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo);
    expect(log.append(A5_TXDATA)).toBe(true);
    expect(log.commit()).toEqual({ txRange: { start: 0, end: 1 }, checksum: 0xc36a18b2 });
    const seg = repo.segments.get(0)!.bytes();
    expect(seg.length).toBe(71);
    expect(seg).toEqual(concat(HEADER_V1, A6));
    log.close();
  });
});
