/**
 * Compressed (seekable zstd) segments, SPEC §9: RP3, the layout of §9.4, reads through the seek table,
 * atomic rewrites, resetTo into a compressed segment (Q18 FIX), a compressed last segment (Q34), and
 * damaged compressed files giving typed errors.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import {
  ArrayDecoder,
  AssertionError,
  Commitlog,
  FsRepo,
  TraversalError,
  commitIterator,
  commits,
  commitsFrom,
  committedMeta,
  resetTo,
  segmentFileName,
  streamCommitsSync,
  transactions,
  transactionsFrom,
} from '../../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-z-'));
  dirs.push(d);
  return d;
}

const OPTS = { maxSegmentSize: 8192, maxRecordsInCommit: 1 };

/** 1024 records cycling over 4 random 256-byte payloads (RP3); segments of 29 commits. */
function writeLog(dir: string, count = 1024): Uint8Array[] {
  const payloads = [0, 1, 2, 3].map(() => randomBytes(256));
  const log = Commitlog.open(dir, OPTS);
  for (let i = 0; i < count; i++) log.appendMaybeFlush(payloads[i % 4]!);
  log.flushAndSync();
  log.close();
  return payloads;
}

function snapshot(dir: string) {
  const it = commitIterator(dir);
  const out: { segment: number; byteOffset: number; minTxOffset: number; checksum: number; records: string }[] = [];
  for (const c of it) {
    out.push({
      segment: it.segment,
      byteOffset: it.byteOffset,
      minTxOffset: c.minTxOffset,
      checksum: c.checksum,
      records: Buffer.from(c.records).toString('hex'),
    });
  }
  return out;
}

function sealed(dir: string): number[] {
  const offsets = new FsRepo(dir).existingOffsets();
  return offsets.slice(0, -1);
}

describe('RP3 compression', () => {
  it('shrinks the log and reads back all 1024 transactions', () => {
    const dir = tmpDir();
    const payloads = writeLog(dir);
    const log = Commitlog.open(dir, OPTS);
    const before = log.sizeOnDisk();
    log.compressSegments(log.existingSegmentOffsets().filter((o) => o < 20));
    expect(log.sizeOnDisk()).toBeLessThan(before);
    const txs = [...log.transactions(new ArrayDecoder(256))];
    expect(txs.map((t) => t.offset)).toEqual([...Array(1024).keys()]);
    txs.forEach((t, i) => expect(Buffer.from(t.txdata).equals(payloads[i % 4]!)).toBe(true));
    log.close();
  });

  it('refuses to compress the segment being written', () => {
    const dir = tmpDir();
    writeLog(dir, 100);
    const log = Commitlog.open(dir, OPTS);
    const head = log.existingSegmentOffsets().at(-1)!;
    expect(() => log.compressSegments([0, head])).toThrow(AssertionError);
    expect(new FsRepo(dir).isCompressed(0)).toBe(false); // nothing was done
    log.close();
  });
});

describe('a compressed log reads exactly like the plain one', () => {
  it('commits, positions, transactions from any offset, stream bytes and metadata', () => {
    const dir = tmpDir();
    writeLog(dir, 300);
    const plainCommits = snapshot(dir);
    const plainStream = Buffer.concat([...streamCommitsSync(dir)]);
    const plainFrom = [0, 1, 28, 29, 30, 150, 299].map((o) => [...transactionsFrom(dir, o, new ArrayDecoder(256))].length);
    const repo = new FsRepo(dir);
    for (const o of sealed(dir)) repo.compressSegment(o);
    for (const o of sealed(dir)) expect(repo.isCompressed(o)).toBe(true);

    expect(snapshot(dir)).toEqual(plainCommits);
    expect(Buffer.concat([...streamCommitsSync(dir)]).equals(plainStream)).toBe(true);
    expect([0, 1, 28, 29, 30, 150, 299].map((o) => [...transactionsFrom(dir, o, new ArrayDecoder(256))].length)).toEqual(plainFrom);
    for (const o of [5, 31, 100, 250]) {
      expect([...commitsFrom(dir, o)][0]!.minTxOffset).toBe(o);
    }
    expect(committedMeta(dir)!.txRange).toEqual({ start: 290, end: 300 });
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('writes the seekable layout: 4096-byte frames and a seek table any zstd decoder skips', () => {
    const dir = tmpDir();
    writeLog(dir, 100);
    const file = path.join(dir, segmentFileName(0));
    const plain = fs.readFileSync(file);
    new FsRepo(dir).compressSegment(0);
    const z = fs.readFileSync(file);
    expect(z.readUInt32LE(0)).toBe(0xfd2fb528);
    // footer: u32 frames, u8 descriptor 0, u32 seekable magic
    expect(z.readUInt32LE(z.length - 4)).toBe(0x8f92eab1);
    expect(z[z.length - 5]).toBe(0);
    const frames = z.readUInt32LE(z.length - 9);
    expect(frames).toBe(Math.ceil(plain.length / 4096));
    const tableStart = z.length - (8 + 8 * frames + 9);
    expect(z.readUInt32LE(tableStart)).toBe(0x184d2a5e);
    expect(z.readUInt32LE(tableStart + 4)).toBe(8 * frames + 9);
    let compressed = 0;
    for (let i = 0; i < frames; i++) {
      compressed += z.readUInt32LE(tableStart + 8 + 8 * i);
      expect(z.readUInt32LE(tableStart + 12 + 8 * i)).toBe(i < frames - 1 ? 4096 : plain.length - 4096 * (frames - 1));
    }
    expect(compressed).toBe(tableStart);
    expect(Buffer.from(decompress(z)).equals(plain)).toBe(true);
  });

  it('compressing twice changes nothing', () => {
    const dir = tmpDir();
    writeLog(dir, 60);
    const repo = new FsRepo(dir);
    repo.compressSegment(0);
    const once = fs.readFileSync(path.join(dir, segmentFileName(0)));
    repo.compressSegment(0);
    expect(fs.readFileSync(path.join(dir, segmentFileName(0))).equals(once)).toBe(true);
  });
});

describe('resetTo into a compressed segment (Q18 FIX)', () => {
  it('rewrites the segment uncompressed, then cuts it at the commit boundary', () => {
    const dir = tmpDir();
    writeLog(dir, 100);
    const plain = fs.readFileSync(path.join(dir, segmentFileName(29)));
    const repo = new FsRepo(dir);
    repo.compressSegment(29);
    resetTo(dir, 40);
    expect(repo.isCompressed(29)).toBe(false);
    expect(repo.existingOffsets()).toEqual([0, 29]);
    const cut = fs.readFileSync(path.join(dir, segmentFileName(29)));
    expect(cut.length).toBe(10 + 12 * 282);
    expect(cut.equals(plain.subarray(0, cut.length))).toBe(true);
    expect([...transactions(dir, new ArrayDecoder(256))].map((t) => t.offset)).toEqual([...Array(41).keys()]);
    const log = Commitlog.open(dir, OPTS);
    expect(log.maxCommittedOffset()).toBe(40);
    log.close();
  });
});

describe('compressed segments that cannot be used', () => {
  it('a compressed last segment is sealed: open starts a new segment after it (upstream #4650, not Q34)', () => {
    const dir = tmpDir();
    writeLog(dir, 40); // segments 0 and 29 (29..39)
    const repo = new FsRepo(dir);
    repo.compressSegment(29);
    const log = Commitlog.open(dir, OPTS);
    expect(log.maxCommittedOffset()).toBe(39);
    expect(repo.existingOffsets()).toEqual([0, 29, 40]);
    log.append(new Uint8Array(256).fill(7));
    log.flush();
    log.close();
    expect(repo.isCompressed(29)).toBe(true);
    expect([...commits(dir)].map((c) => c.minTxOffset)).toEqual([...Array(41).keys()]);
  });

  /** Segments 0, 29, 58 (head); 0 and 29 compressed, then 29 damaged (a segment after accepted commits). */
  function damaged(mutate: (z: Buffer) => Buffer): { dir: string; plain: Map<number, string> } {
    const dir = tmpDir();
    writeLog(dir, 60);
    const plain = new Map([...commits(dir)].map((c) => [c.minTxOffset, Buffer.from(c.records).toString('hex')]));
    const repo = new FsRepo(dir);
    repo.compressSegment(0);
    repo.compressSegment(29);
    const file = path.join(dir, segmentFileName(29));
    fs.writeFileSync(file, mutate(fs.readFileSync(file)));
    return { dir, plain };
  }

  it.each([
    ['a flipped byte inside a frame', (z: Buffer) => ((z[200] = z[200]! ^ 0x5a), z)],
    ['a cut-off seek table', (z: Buffer) => z.subarray(0, z.length - 3)],
    ['a seek table whose sizes do not add up', (z: Buffer) => (z.writeUInt32LE(z.readUInt32LE(z.length - 9) + 1, z.length - 9), z)],
    ['frames missing before the seek table', (z: Buffer) => Buffer.concat([z.subarray(0, 100), z.subarray(z.length - 300)])],
    ['reserved descriptor bits set', (z: Buffer) => ((z[z.length - 5] = 0x7c), z)],
    ['garbage after the zstd magic', (z: Buffer) => Buffer.concat([z.subarray(0, 4), randomBytes(5000)])],
  ])('%s: a typed error, or exactly the plain data, never a crash or wrong data', (_name, mutate) => {
    const { dir, plain } = damaged(mutate as (z: Buffer) => Buffer);
    const seen: number[] = [];
    let error: unknown = null;
    for (const r of commits(dir, { errors: 'yield' })) {
      if (!r.ok) {
        error ??= r.error;
        continue;
      }
      expect(Buffer.from(r.value.records).toString('hex')).toBe(plain.get(r.value.minTxOffset));
      seen.push(r.value.minTxOffset);
    }
    if (error === null) expect(seen).toEqual([...Array(60).keys()]);
    else expect(error).toBeInstanceOf(TraversalError);
    // the throwing iterator ends with a typed error too (or reads everything)
    try {
      expect([...commits(dir)].length).toBe(60);
    } catch (e) {
      expect(e).toBeInstanceOf(TraversalError);
    }
  });
});
