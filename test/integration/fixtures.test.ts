/**
 * X5: logs written by real SpacetimeDB servers (SPEC §13.10 X5, Appendix A.7) are read exactly as an
 * independent decoder saw them, and can be resumed and appended to without touching their bytes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Commitlog,
  commitIterator,
  commits,
  committedMeta,
  existingSegmentOffsets,
  rawDecoder,
  transactions,
} from '../../src/index.js';
import { crc32c } from '../../src/api/codec.js';

interface ExpectedCommit {
  segment: number;
  byteOffset: number;
  minTxOffset: number;
  epoch: number;
  n: number;
  len: number;
  checksum: number;
}
interface Expected {
  ok: boolean;
  commits: ExpectedCommit[];
  problems: unknown[];
  transactions: number;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const SEGMENT_0 = '00000000000000000000.stdb.log';
const V1_HEADER = Uint8Array.from([0x28, 0x64, 0x73, 0x29, 0x5e, 0x32, 0x01, 0x00, 0x00, 0x00]); // SPEC A.1

// Sizes and counts from SPEC §13.10 X5 / A.7 and testdata/README.md.
const CASES = [
  { name: 'spacetimedb-v1.2', size: 166405, commits: 9, txs: 9 },
  { name: 'spacetimedb-v2.6', size: 237938, commits: 1, txs: 1 },
];

const tmpDirs: string[] = [];
afterEach(() => {
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function copyFixture(clog: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  tmpDirs.push(dir);
  fs.copyFileSync(path.join(clog, SEGMENT_0), path.join(dir, SEGMENT_0));
  return dir;
}

for (const fx of CASES) {
  describe(`X5 fixture ${fx.name}`, () => {
    const clog = path.join(FIXTURES, fx.name, 'clog');
    const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, fx.name, 'expected-commits.json'), 'utf8')) as Expected;
    const original = fs.readFileSync(path.join(clog, SEGMENT_0));

    it('is the file the spec describes', () => {
      expect(expected.ok).toBe(true);
      expect(expected.problems).toEqual([]);
      expect(expected.commits.length).toBe(fx.commits);
      expect(expected.transactions).toBe(fx.txs);
      expect(original.length).toBe(fx.size);
      expect(new Uint8Array(original.subarray(0, 10))).toEqual(V1_HEADER);
    });

    it('commitIterator yields exactly the expected commits, with their segment and byte offset', () => {
      const it = commitIterator(clog);
      const seen: ExpectedCommit[] = [];
      for (const c of it) {
        seen.push({
          segment: it.segment,
          byteOffset: it.byteOffset,
          minTxOffset: c.minTxOffset,
          epoch: c.epoch,
          n: c.n,
          len: c.records.length,
          checksum: c.checksum,
        });
      }
      expect(seen).toEqual(expected.commits);
    });

    it('the stored bytes at each byteOffset frame the commit (CRC over header and records)', () => {
      const last = expected.commits[expected.commits.length - 1]!;
      // The files end exactly after the last CRC (A.7).
      expect(last.byteOffset + 26 + last.len).toBe(fx.size);
      for (const c of expected.commits) {
        const at = c.byteOffset;
        const dv = new DataView(original.buffer, original.byteOffset + at, 22);
        expect(Number(dv.getBigUint64(0, true))).toBe(c.minTxOffset);
        expect(Number(dv.getBigUint64(8, true))).toBe(c.epoch);
        expect(dv.getUint16(16, true)).toBe(c.n);
        expect(dv.getUint32(18, true)).toBe(c.len);
        expect(original.readUInt32LE(at + 22 + c.len)).toBe(c.checksum);
        expect(crc32c(original.subarray(at, at + 22 + c.len))).toBe(c.checksum);
      }
    });

    it('commits(dir) reports no error and matches the expected fields', () => {
      const results = [...commits(clog, { errors: 'yield' })];
      expect(results.every((r) => r.ok)).toBe(true);
      const got = results.map((r) => (r.ok ? r.value : null)!);
      expect(got.map((c) => [c.minTxOffset, c.epoch, c.n, c.records.length, c.checksum])).toEqual(
        expected.commits.map((c) => [c.minTxOffset, c.epoch, c.n, c.len, c.checksum]),
      );
    });

    it('transactions count, offsets, and every record is a Txdata with the mutations flag 0x20', () => {
      const txs = [...transactions(clog, rawDecoder)];
      expect(txs.length).toBe(fx.txs);
      expect(txs.map((t) => t.offset)).toEqual([...Array(fx.txs).keys()]);
      for (const t of txs) {
        expect(t.txdata.length).toBeGreaterThan(0);
        expect(t.txdata[0]! & 0x20).toBe(0x20);
      }
      // One tx per commit: the record is the commit's whole payload (A.7: records start 20 06 01 / 20 0b 01).
      expect(txs.map((t) => t.txdata.length)).toEqual(expected.commits.map((c) => c.len));
    });

    it('committedMeta reports the whole file', () => {
      const meta = committedMeta(clog);
      expect(meta).not.toBeNull();
      expect(meta!.txRange).toEqual({ start: 0, end: fx.txs });
      expect(meta!.sizeInBytes).toBe(fx.size);
      expect(meta!.maxEpoch).toBe(0);
      expect(meta!.maxCommitOffset).toBe(fx.commits - 1);
      expect(meta!.header).toEqual({ logFormatVersion: 1, checksumAlgorithm: 0 });
    });

    it('reading changes nothing in the fixture directory', () => {
      [...commits(clog)];
      committedMeta(clog);
      expect(existingSegmentOffsets(clog)).toEqual([0]);
      expect(fs.readdirSync(clog)).toEqual([SEGMENT_0]);
      expect(fs.readFileSync(path.join(clog, SEGMENT_0)).equals(original)).toBe(true);
    });

    it('a copy opens for writing at the next offset; appends keep the original bytes as a prefix', () => {
      const dir = copyFixture(clog);
      const log = Commitlog.open(dir);
      expect(log.maxCommittedOffset()).toBe(fx.txs - 1);
      expect(log.minCommittedOffset()).toBe(0);
      expect(log.epoch).toBe(0);
      expect(log.existingSegmentOffsets()).toEqual([0]);
      const record = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
      log.appendMaybeFlush(record);
      expect(log.flushAndSync()).toBe(fx.txs);
      log.close();

      const reopened = Commitlog.open(dir);
      expect(reopened.maxCommittedOffset()).toBe(fx.txs);
      const all = [...reopened.transactions(rawDecoder)];
      expect(all.length).toBe(fx.txs + 1);
      expect(all[fx.txs]).toEqual({ offset: fx.txs, txdata: record });
      reopened.close();

      const now = fs.readFileSync(path.join(dir, SEGMENT_0));
      expect(now.length).toBe(fx.size + 26 + record.length);
      expect(now.subarray(0, fx.size).equals(original)).toBe(true);
      // The new commit: minTxOffset = next offset, epoch 0, n 1, len 4, records, CRC.
      const dv = new DataView(now.buffer, now.byteOffset + fx.size, 22);
      expect(Number(dv.getBigUint64(0, true))).toBe(fx.txs);
      expect(Number(dv.getBigUint64(8, true))).toBe(0);
      expect(dv.getUint16(16, true)).toBe(1);
      expect(dv.getUint32(18, true)).toBe(4);
      expect(new Uint8Array(now.subarray(fx.size + 22, fx.size + 26))).toEqual(record);
    });
  });
}
