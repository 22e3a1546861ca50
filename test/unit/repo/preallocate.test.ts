/**
 * Preallocated segments (issue 7): the zero-filled space ahead of the writer must be invisible. A log
 * closed cleanly is byte-identical to one written without preallocation; a log copied while open (what
 * a crash leaves) reads correctly over its zero tails, opens, and continues.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Commitlog,
  FsRepo,
  GenericLog,
  InvalidInputError,
  StreamWriter,
  UnexpectedEofError,
  commits,
  streamCommits,
  streamCommitsSync,
} from '../../../src/index.js';
import { verifyLog } from '../../../src/api/ops.js';
import { appendRandomCommits, rng, useTmpDirs } from '../../helpers/common.js';

const tmp = useTmpDirs();
const OPTS = { maxSegmentSize: 8 * 1024, offsetIndexIntervalBytes: 512 };
const PREALLOC = 16 * 1024;
const SHAPE = { maxRecords: 4, minLen: 10, maxLen: 300 };

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).filter((f) => f.includes('.stdb.')).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

/** `count` random commits, each synced (as a durable writer does: that is when the zeros are extended). */
function writeLog(dir: string, preallocateBytes: number, seed: number, count: number): GenericLog<Uint8Array> {
  const log = GenericLog.open(new FsRepo(dir, { preallocateBytes }), OPTS);
  const rand = rng(seed);
  for (let i = 0; i < count; i++) {
    appendRandomCommits(new Commitlog(log), 1, rand, SHAPE);
    log.sync();
  }
  return log;
}

function copyDir(from: string, to: string): void {
  for (const f of fs.readdirSync(from)) if (f.includes('.stdb.')) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

/** What a crash leaves of a preallocating writer: its files, copied while it is open (synced). */
function crashedLog(seed: number, count: number): string {
  const dir = tmp();
  const log = writeLog(dir, PREALLOC, seed, count);
  log.sync();
  const crashed = tmp();
  copyDir(dir, crashed);
  log.close();
  return crashed;
}

function streamed(dir: string): Buffer {
  return Buffer.concat([...streamCommitsSync(dir)]);
}

describe('FsRepo preallocateBytes', () => {
  it('keeps zeros ahead of the head while writing, and a closed log is byte-identical to an unpreallocated one', () => {
    const plain = tmp();
    const pre = tmp();
    writeLog(plain, 0, 7, 120).close();
    const log = writeLog(pre, PREALLOC, 7, 120);
    const head = path.join(pre, fs.readdirSync(pre).filter((f) => f.endsWith('.stdb.log')).sort().pop()!);
    const logical = log.headWriter.bytesWritten;
    expect(fs.statSync(head).size).toBeGreaterThanOrEqual(logical + PREALLOC / 2);
    expect(fs.readFileSync(head).subarray(logical).every((b) => b === 0)).toBe(true);
    log.close();
    expect(filesOf(pre)).toEqual(filesOf(plain));
    expect(filesOf(pre).size).toBeGreaterThan(4); // rotated: sealed segments were cut too
  });

  it('a log copied while open (a crash) reads over its zero tail, verifies clean, then opens, resumes and continues', () => {
    const plain = tmp();
    const crashed = crashedLog(11, 90);
    const reference = writeLog(plain, 0, 11, 90);
    reference.close();
    const headName = fs.readdirSync(crashed).filter((f) => f.endsWith('.stdb.log')).sort().pop()!;
    const zeroTail = fs.statSync(path.join(crashed, headName)).size - fs.statSync(path.join(plain, headName)).size;
    expect(zeroTail).toBeGreaterThanOrEqual(PREALLOC / 2);
    // Sealed segments were cut when the log left them, before anything was closed.
    const sealed = fs.readdirSync(crashed).filter((f) => f.endsWith('.stdb.log') && f !== headName);
    expect(sealed.length).toBeGreaterThan(2);
    for (const f of sealed) expect(fs.readFileSync(path.join(crashed, f)).equals(fs.readFileSync(path.join(plain, f))), f).toBe(true);

    // Every reader stops at the zeros.
    expect([...commits(crashed)]).toEqual([...commits(plain)]);
    expect(streamed(crashed).equals(streamed(plain))).toBe(true);
    const verified = verifyLog(crashed);
    expect(verified.problems).toEqual([]);

    // Opening cuts the zero tail and resumes the same segment; both logs then continue identically.
    const reopened = GenericLog.open(new FsRepo(crashed), OPTS);
    expect(fs.statSync(path.join(crashed, headName)).size).toBe(fs.statSync(path.join(plain, headName)).size);
    appendRandomCommits(new Commitlog(reopened), 30, rng(99), SHAPE);
    reopened.close();
    const continued = GenericLog.open(new FsRepo(plain), OPTS);
    appendRandomCommits(new Commitlog(continued), 30, rng(99), SHAPE);
    continued.close();
    expect(filesOf(crashed)).toEqual(filesOf(plain));
  });

  it("StreamWriter.create ('error' mode) over a crashed zero tail cuts it and continues as over the same log closed cleanly", async () => {
    const source = tmp();
    writeLog(source, 0, 21, 60).close();
    const plain = tmp();
    writeLog(plain, 0, 21, 25).close();
    const crashed = crashedLog(21, 25);
    const mirror = async (dir: string): Promise<void> => {
      const last = [...commits(dir)].pop()!;
      const writer = StreamWriter.create(dir, OPTS, 'error');
      await writer.appendAll(streamCommits(source, { start: last.minTxOffset + last.n }));
      await writer.syncAll();
      await writer.close();
    };
    await mirror(plain);
    await mirror(crashed);
    expect(filesOf(crashed)).toEqual(filesOf(plain));
    expect([...commits(crashed)]).toEqual([...commits(source)]);
  });

  it('resumes a preallocating writer over a crashed zero tail and keeps preallocating', () => {
    const crashed = crashedLog(3, 40);
    const again = writeLog(crashed, PREALLOC, 4, 40);
    const before = [...commits(crashed)];
    again.sync();
    expect([...commits(crashed)]).toEqual(before);
    again.close();
    const all = [...commits(crashed)];
    expect(all.length).toBe(80);
    for (let i = 1; i < all.length; i++) expect(all[i]!.minTxOffset).toBe(all[i - 1]!.minTxOffset + all[i - 1]!.n);
  });

  it('a commit torn inside the preallocated space is a corrupt tail: open starts a new segment, keeping the synced commits', () => {
    const dir = tmp();
    const log = writeLog(dir, PREALLOC, 5, 3);
    log.sync();
    const headName = fs.readdirSync(dir).filter((f) => f.endsWith('.stdb.log')).sort().pop()!;
    const end = log.headWriter.bytesWritten;
    const synced = [...commits(dir)];
    // Half a commit's bytes landed before the crash; the rest of the space is still zeros.
    const fd = fs.openSync(path.join(dir, headName), 'r+');
    fs.writeSync(fd, new Uint8Array(40).fill(0xab), 0, 40, end);
    fs.closeSync(fd);
    const crashed = tmp();
    copyDir(dir, crashed);
    log.close();
    const reopened = GenericLog.open(new FsRepo(crashed), OPTS);
    expect(reopened.existingSegmentOffsets().length).toBe(2);
    reopened.close();
    // Traversal reports the torn commit once and goes on; the synced commits are all there.
    const results = [...commits(crashed, { errors: 'yield' })];
    const ok = results.flatMap((r) => (r.ok ? [r.value] : []));
    expect(ok).toEqual(synced);
    expect(results.filter((r) => !r.ok).length).toBe(1);
  });

  it('zero-fills only before the sync of a small batch: unsynced and large synced batches grow the file as usual', () => {
    const dir = tmp();
    const log = GenericLog.open(new FsRepo(dir, { preallocateBytes: PREALLOC }), { maxSegmentSize: 1 << 20 });
    const seg = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.stdb.log'))!);
    const physicalMinusLogical = (): number => fs.statSync(seg).size - log.headWriter.bytesWritten;
    expect(physicalMinusLogical()).toBe(PREALLOC); // the header's sync: a small batch
    for (let i = 0; i < 40; i++) {
      log.append(new Uint8Array(1000));
      log.commit();
    }
    expect(physicalMinusLogical()).toBe(0); // 40 KB written over 16 KiB of zeros, no sync: no new zeros
    log.sync(); // a 40 KB batch is large (> PREALLOC / 8): still none
    expect(physicalMinusLogical()).toBe(0);
    log.append(new Uint8Array(100));
    log.commit();
    log.sync();
    expect(physicalMinusLogical()).toBe(PREALLOC);
    log.close();
    expect(physicalMinusLogical()).toBe(0);
  });

  it('rejects a bad preallocateBytes', () => {
    expect(() => new FsRepo(tmp(), { preallocateBytes: -1 })).toThrow(InvalidInputError);
    expect(() => new FsRepo(tmp(), { preallocateBytes: 1.5 })).toThrow(InvalidInputError);
    expect(() => new FsRepo(tmp(), { preallocateBytes: 2 ** 40 })).toThrow(InvalidInputError);
  });
});

describe('streaming a preallocated head', () => {
  /** A log of `count` synced commits with records of `len` bytes; returns it open, and the head's path. */
  function openLog(dir: string, len: number, count: number): { log: GenericLog<Uint8Array>; head: string } {
    const log = GenericLog.open(new FsRepo(dir, { preallocateBytes: 2 << 20 }), { maxSegmentSize: 64 << 20 });
    for (let i = 0; i < count; i++) {
      log.append(new Uint8Array(len).fill(i + 1));
      log.commit();
      log.sync();
    }
    return { log, head: path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.stdb.log'))!) };
  }

  it.each([
    ['small commits', 100],
    ['commits larger than a stream chunk', 300 * 1024],
  ])('a commit half-written into the zeros (%s) is held back as cut short, and streamed once complete', (_name, len) => {
    const dir = tmp();
    const { log, head } = openLog(dir, len, 3);
    const complete = streamed(dir);
    // Another process is writing commit 3: its first half has landed.
    log.append(new Uint8Array(len).fill(0xee));
    log.commit();
    const end = log.headWriter.bytesWritten;
    const bytes = fs.readFileSync(head);
    const frameLen = end - complete.length;
    const half = Math.floor(frameLen / 2);
    const partial = tmp();
    fs.writeFileSync(path.join(partial, path.basename(head)), Buffer.concat([bytes.subarray(0, complete.length + half), Buffer.alloc(1 << 20)]));

    const got: Buffer[] = [];
    const position = { nextOffset: null as number | null };
    let error: unknown = null;
    try {
      for (const chunk of streamCommitsSync(partial, {}, position)) got.push(Buffer.from(chunk));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnexpectedEofError);
    expect(Buffer.concat(got).equals(complete)).toBe(true);
    expect(position.nextOffset).toBe(3);

    // The rest lands: the whole commit is streamed.
    fs.writeFileSync(path.join(partial, path.basename(head)), Buffer.concat([bytes.subarray(0, end), Buffer.alloc(1 << 20)]));
    expect(streamed(partial).equals(bytes.subarray(0, end))).toBe(true);
    log.close();
  });
});
