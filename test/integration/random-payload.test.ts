/**
 * SPEC §13.8 RP1/RP2 (`tests/random_payload`): a log of random 256-byte records on disk, with the exact
 * segment and offset index files 1.3.0 would leave behind, and repeated `resetTo` down to offset 0.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Commitlog, rawDecoder } from '../../src/index.js';
import { logDirNames, useTmpDirs } from '../helpers/common.js';

const COMMIT_LEN = 26 + 256; // 282 bytes: one 256-byte record per commit
const HEADER_LEN = 10;

const tmpDir = useTmpDirs('clog-');

const stem = (o: number): string => String(o).padStart(20, '0');

/** Decodes an `.stdb.ofs` file independently: entries up to the first zero key (SPEC §3.2). */
function readIndex(file: string): { entries: [number, number][]; bytes: Buffer } {
  const bytes = fs.readFileSync(file);
  const entries: [number, number][] = [];
  for (let p = 0; p + 16 <= bytes.length; p += 16) {
    const key = bytes.readBigUInt64LE(p);
    if (key === 0n) break;
    entries.push([Number(key), Number(bytes.readBigUInt64LE(p + 8))]);
  }
  return { entries, bytes };
}

describe('RP1 smoke: 500 commits of one 256-byte record, maxSegmentSize 8192', () => {
  it('writes 18 segments with the 1.3.0 index entries', () => {
    const dir = tmpDir();
    const payload = randomBytes(256);
    const log = Commitlog.open(dir, { maxSegmentSize: 8192, maxRecordsInCommit: 1 });
    for (let i = 0; i < 500; i++) log.appendMaybeFlush(payload);
    expect(log.flushAndSync()).toBe(499);

    const txs = [...log.transactions(rawDecoder)];
    expect(txs.length).toBe(500);
    expect(txs.map((t) => t.offset)).toEqual([...Array(500).keys()]);
    expect(txs.every((t) => Buffer.from(t.txdata).equals(payload))).toBe(true);
    expect([...log.commits()].length).toBe(500);
    log.close();

    // 29 commits of 282 bytes fit 8192 (10 + 29 × 282 = 8188); the last segment holds 500 − 17 × 29 = 7.
    const segments = Array.from({ length: 18 }, (_, i) => i * 29);
    expect(segments[17]).toBe(493);
    const expectedFiles = segments.flatMap((s) => [`${stem(s)}.stdb.log`, `${stem(s)}.stdb.ofs`]).sort();
    expect(logDirNames(dir).sort()).toEqual(expectedFiles);

    for (const s of segments) {
      const commitsIn = s === 493 ? 7 : 29;
      expect(fs.statSync(path.join(dir, `${stem(s)}.stdb.log`)).size).toBe(HEADER_LEN + commitsIn * COMMIT_LEN);

      // Capacity floor(8192 / 4096) = 2 entries = 32 bytes, whatever the number of entries.
      const { entries, bytes } = readIndex(path.join(dir, `${stem(s)}.stdb.ofs`));
      expect(bytes.length).toBe(32);
      if (s === 0) {
        // Offset 0 is never indexed (Q12): commit 1 at byte 10 + 282 = 292 is.
        expect(entries).toEqual([[1, 292]]);
      } else if (s === 493) {
        // 7 × 282 = 1974 bytes < 4096: no entry.
        expect(entries).toEqual([]);
      } else {
        expect(entries).toEqual([[s, 10]]);
      }
      // Everything after the populated entries is zero.
      expect(bytes.subarray(entries.length * 16).every((b) => b === 0)).toBe(true);
    }
  });
});

describe('RP2 resets: one commit per segment, resetTo from 49 down to 0', () => {
  it('keeps exactly offsets 0..o after each resetTo(o)', () => {
    const dir = tmpDir();
    let log = Commitlog.open(dir, { maxSegmentSize: 512, maxRecordsInCommit: 1 });
    const payloads: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const p = randomBytes(256);
      payloads.push(p);
      log.appendMaybeFlush(p);
    }
    expect(log.flushAndSync()).toBe(49);
    // 292 + 282 > 512: every commit gets its own segment; index capacity floor(512 / 4096) = 0.
    expect(log.existingSegmentOffsets()).toEqual([...Array(50).keys()]);
    for (let s = 0; s < 50; s++) {
      expect(fs.statSync(path.join(dir, `${stem(s)}.stdb.log`)).size).toBe(HEADER_LEN + COMMIT_LEN);
      expect(fs.statSync(path.join(dir, `${stem(s)}.stdb.ofs`)).size).toBe(0);
    }

    for (let o = 49; o >= 0; o--) {
      log = log.resetTo(o);
      expect(log.maxCommittedOffset()).toBe(o);
      const txs = [...log.transactions(rawDecoder)];
      expect(txs.length).toBe(o + 1);
      expect(txs.map((t) => t.offset)).toEqual([...Array(o + 1).keys()]);
      expect(Buffer.from(txs[o]!.txdata).equals(payloads[o]!)).toBe(true);
      expect(log.existingSegmentOffsets()).toEqual([...Array(o + 1).keys()]);
    }
    log.close();
    expect(logDirNames(dir).sort()).toEqual([`${stem(0)}.stdb.log`, `${stem(0)}.stdb.ofs`]);
  });
});
