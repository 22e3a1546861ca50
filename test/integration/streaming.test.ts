/**
 * Streaming between two logs on disk (SPEC §11, §13.9 ST1–ST4, §13.10 X3/X7/X8), ported from the
 * reference `tests/streaming`: the destination must end up byte-identical to the source, index files
 * included.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Commitlog,
  InvalidDataError,
  StreamWriter,
  commits,
  segmentFileName,
  indexFileName,
  streamCommits,
  streamCommitsReadable,
  streamCommitsSync,
  type TxRange,
} from '../../src/index.js';
import { logDirNames } from '../helpers/common.js';

/** The options O of §13.9: 282-byte commits, 29 per segment, every commit but offset 0 indexed. */
const O = {
  maxSegmentSize: 8192,
  maxRecordsInCommit: 1,
  offsetIndexIntervalBytes: 256,
  offsetIndexRequireSegmentFsync: false,
};
const COMMIT = 282;
const HDR = 10;

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  tmpDirs.push(d);
  return d;
}
afterEach(() => {
  while (tmpDirs.length > 0) fs.rmSync(tmpDirs.pop()!, { recursive: true, force: true });
});

function fillLog(dir: string, records: Uint8Array[], options: object = O): void {
  const log = Commitlog.open(dir, options);
  for (const r of records) log.appendMaybeFlush(r);
  log.flushAndSync();
  log.close();
}

/** Every regular file of `src` exists in `dst` with identical bytes. */
function expectEqualDirs(src: string, dst: string, filter: (name: string) => boolean = () => true): void {
  const names = logDirNames(src).filter((n) => fs.statSync(path.join(src, n)).isFile() && filter(n));
  expect(names.length).toBeGreaterThan(0);
  for (const n of names) {
    const a = fs.readFileSync(path.join(src, n));
    const dstPath = path.join(dst, n);
    expect(fs.existsSync(dstPath), `${n} missing in dst`).toBe(true);
    const b = fs.readFileSync(dstPath);
    expect(b.length, `${n} length`).toBe(a.length);
    expect(Buffer.compare(a, b), `${n} bytes differ`).toBe(0);
  }
}

function segPath(dir: string, o: number): string {
  return path.join(dir, segmentFileName(o));
}

function concat(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of source) out.push(c);
  return concat(out);
}

async function copyRange(writer: StreamWriter, src: string, range: TxRange): Promise<void> {
  await writer.appendAll(streamCommits(src, range));
}

describe('streaming (filesystem, options O, 100 × 256-byte records)', () => {
  let src: string;
  let srcRecords: Uint8Array[];

  beforeAll(() => {
    src = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    srcRecords = Array.from({ length: 100 }, () => new Uint8Array(randomBytes(256)));
    fillLog(src, srcRecords);
    return () => fs.rmSync(src, { recursive: true, force: true });
  });

  it('source layout is the one §13.9 describes', () => {
    const names = logDirNames(src).sort();
    expect(names).toEqual(
      [0, 29, 58, 87].flatMap((o) => [indexFileName(o), segmentFileName(o)]).sort(),
    );
    for (const o of [0, 29, 58]) expect(fs.statSync(segPath(src, o)).size).toBe(HDR + 29 * COMMIT);
    expect(fs.statSync(segPath(src, 87)).size).toBe(HDR + 13 * COMMIT);
    for (const o of [0, 29, 58, 87]) expect(fs.statSync(path.join(src, indexFileName(o))).size).toBe(512);
  });

  it('ST1 copy_all', async () => {
    const dst = tmp();
    const writer = StreamWriter.create(dst, O, 'error');
    await writer.appendAll(streamCommits(src, {}));
    await writer.syncAll();
    expectEqualDirs(src, dst);
    await writer.close();
    expectEqualDirs(src, dst);
  });

  it('ST1 via the sync generator and the Node Readable', async () => {
    for (const source of [() => streamCommitsSync(src), () => streamCommitsReadable(src)]) {
      const dst = tmp();
      const writer = StreamWriter.create(dst, O, 'error');
      await writer.appendAll(source());
      await writer.syncAll();
      await writer.close();
      expectEqualDirs(src, dst);
    }
  });

  it('ST2 copy_ranges: 0..25, 25..50, 50..75, 75..101 through one writer', async () => {
    const dst = tmp();
    const writer = StreamWriter.create(dst, O, 'error');
    const seen: number[] = [];
    for (const [start, end] of [[0, 25], [25, 50], [50, 75], [75, 101]] as const) {
      await writer.appendAll(streamCommits(src, { start, end }), (r) => seen.push(r.start));
    }
    await writer.syncAll();
    expectEqualDirs(src, dst);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await writer.close();
  });

  it('ST3 copy_invalid_range: ..50 then 75.. is rejected (expected 50, encountered 75)', async () => {
    const dst = tmp();
    const writer = StreamWriter.create(dst, O, 'error');
    await copyRange(writer, src, { end: 50 });
    await writer.syncAll();
    const err = await copyRange(writer, src, { start: 75 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as Error).message).toMatch(/expected commit offset 50 but encountered 75/);
    await writer.close();
    // Nothing of 75.. reached the disk: the destination still holds exactly 0..49.
    expect([...commits(dst)].map((c) => c.minTxOffset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  /** Copies everything, then shortens the last dst segment (87) by 128 bytes. */
  async function copyAllThenTear(): Promise<string> {
    const dst = tmp();
    const writer = StreamWriter.create(dst, O, 'error');
    await copyRange(writer, src, {});
    // Not synced explicitly: every byte is already written, so the directories match.
    expectEqualDirs(src, dst);
    await writer.close();
    const last = segPath(dst, 87);
    fs.truncateSync(last, fs.statSync(last).size - 128);
    return dst;
  }

  it('ST4 trim_garbage', async () => {
    const dst = await copyAllThenTear();
    expect(() => StreamWriter.create(dst, O, 'error')).toThrow(InvalidDataError);
    // 'error' leaves the files alone.
    expect(fs.statSync(segPath(dst, 87)).size).toBe(HDR + 13 * COMMIT - 128);

    const { writer, metadata } = StreamWriter.createAndMetadata(dst, O, 'trim');
    expect(metadata?.txRange).toEqual({ start: 87, end: 99 });
    expect(metadata?.sizeInBytes).toBe(HDR + 12 * COMMIT);
    expect(fs.statSync(segPath(dst, 87)).size).toBe(HDR + 12 * COMMIT); // 3394
    expect(indexKeys(dst, 87)).toEqual(Array.from({ length: 12 }, (_, i) => 87 + i)); // entry 99 removed
    // lastWritten is the segment's tx range (§11.3.1 `meta.txRange`); only its end matters.
    expect(writer.lastWrittenRange?.end).toBe(99);
    await copyRange(writer, src, { start: 99 });
    await writer.syncAll();
    expectEqualDirs(src, dst);
    await writer.close();
  });

  it('X3 trim without index (ADOPT-UPSTREAM #5488, Q14)', async () => {
    const dst = await copyAllThenTear();
    for (const n of fs.readdirSync(dst)) if (n.endsWith('.stdb.ofs')) fs.rmSync(path.join(dst, n));
    expect(() => StreamWriter.create(dst, O, 'error')).toThrow(InvalidDataError);

    const writer = StreamWriter.create(dst, O, 'trim');
    expect(fs.statSync(segPath(dst, 87)).size).toBe(HDR + 12 * COMMIT);
    await copyRange(writer, src, { start: 99 });
    await writer.syncAll();
    await writer.close();
    expectEqualDirs(src, dst, (n) => n.endsWith('.stdb.log'));
  });

  it('a destination holding 0..24 (written by the log itself) is extended with 25..', async () => {
    const dst = tmp();
    fillLog(dst, srcRecords.slice(0, 25));
    const writer = StreamWriter.create(dst, O, 'error');
    expect(writer.lastWrittenRange?.end).toBe(25);
    await copyRange(writer, src, { start: 25 });
    await writer.syncAll();
    await writer.close();
    expectEqualDirs(src, dst);
  });

  it('§11.3.4 example: 25..50 = commits 25–28 headerless, then segment 29 with 29–49; a fresh writer on 0..24 extends it', async () => {
    const bytes = await collect(streamCommits(src, { start: 25, end: 50 }));
    const seg0 = fs.readFileSync(segPath(src, 0));
    const seg29 = fs.readFileSync(segPath(src, 29));
    const expected = Buffer.concat([seg0.subarray(7060, HDR + 29 * COMMIT), seg29.subarray(0, HDR + 21 * COMMIT)]);
    expect(bytes.equals(expected)).toBe(true);

    const dst = tmp();
    let writer = StreamWriter.create(dst, O, 'error');
    await copyRange(writer, src, { end: 25 });
    await writer.syncAll();
    await writer.close();
    writer = StreamWriter.create(dst, O, 'error');
    await copyRange(writer, src, { start: 25, end: 50 });
    expect(fs.readdirSync(dst).filter((n) => n.endsWith('.stdb.log')).length).toBe(2);
    await copyRange(writer, src, { start: 50 });
    await writer.syncAll();
    await writer.close();
    expectEqualDirs(src, dst);
  });

  it('X7 stream 0..0 (Q9): the first header and commit 0, 292 bytes', async () => {
    const bytes = await collect(streamCommits(src, { start: 0, end: 0 }));
    expect(bytes.length).toBe(HDR + COMMIT);
    expect(bytes.equals(fs.readFileSync(segPath(src, 0)).subarray(0, HDR + COMMIT))).toBe(true);
  });

  it('empty log and empty range stream nothing', async () => {
    expect((await collect(streamCommits(tmp(), {}))).length).toBe(0);
    expect((await collect(streamCommits(src, { start: 40, end: 40 }))).length).toBe(0);
    expect((await collect(streamCommits(src, { start: 100 }))).length).toBe(0);
  });
});

describe('X8 stream start inside a commit (Q10)', () => {
  it('4.. yields only [6,9) without header; 3.. yields commits 3 and 6', async () => {
    const dir = tmp();
    const log = Commitlog.open(dir, { maxRecordsInCommit: 3 });
    for (let i = 0; i < 9; i++) log.appendMaybeFlush(new Uint8Array(8).fill(i));
    log.flushAndSync();
    log.close();
    expect([...commits(dir)].map((c) => [c.minTxOffset, c.n])).toEqual([[0, 3], [3, 3], [6, 3]]);

    const seg = fs.readFileSync(segPath(dir, 0));
    const len = 26 + 3 * 8;
    const commitBytes = (k: number) => seg.subarray(HDR + k * len, HDR + (k + 1) * len);
    expect((await collect(streamCommits(dir, { start: 4 }))).equals(commitBytes(2))).toBe(true);
    expect(
      (await collect(streamCommits(dir, { start: 3 }))).equals(Buffer.concat([commitBytes(1), commitBytes(2)])),
    ).toBe(true);
    // A commit starting at or before `end` is sent whole even if it extends past `end`.
    expect((await collect(streamCommits(dir, { end: 4 }))).equals(seg.subarray(0, HDR + 2 * len))).toBe(true);
  });
});

/** Keys of the entries of a segment's index file (§3.2: up to the first zero key). */
function indexKeys(dir: string, o: number): number[] {
  const buf = fs.readFileSync(path.join(dir, indexFileName(o)));
  const keys: number[] = [];
  for (let p = 0; p + 16 <= buf.length; p += 16) {
    const k = Number(buf.readBigUInt64LE(p));
    if (k === 0) break;
    keys.push(k);
  }
  return keys;
}
