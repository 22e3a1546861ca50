/**
 * Hostile input to StreamWriter (SPEC §11.3, QUIRK Q11 FIX, Q20, Q31): a stream is untrusted. Every
 * damaged byte must be rejected before it reaches the disk, what was valid before stays valid, and the
 * destination can always be repaired with `create(dst, O, 'trim')` and the rest of the source.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChecksumMismatchError,
  Commitlog,
  InvalidDataError,
  MemoryBuffer,
  MemoryRepo,
  StreamHeaderRefusedError,
  StreamWriter,
  UnexpectedEofError,
  commits,
  indexFileName,
  segmentFileName,
  streamCommitsSync,
  type LogSource,
  type StreamWriterOptions,
} from '../../src/index.js';
import { encodeSegmentHeader } from '../../src/api/codec.js';
import { logDirNames } from '../helpers/common.js';

/** 34-byte commits (8-byte records), 4 per segment: segments 0 (0..3) and 4 (4..6); every commit but 0 indexed. */
const O = { maxSegmentSize: 150, maxRecordsInCommit: 1, offsetIndexIntervalBytes: 32, offsetIndexRequireSegmentFsync: false };
const NUM_RECORDS = 7;
/** The destination prefix of the "files already on disk" variant: commits 0..1, mid-segment 0. */
const PREFIX = 2;

interface Item {
  kind: 'header' | 'commit';
  /** Byte range in the stream. */
  start: number;
  end: number;
  /** For commits: [minTxOffset, minTxOffset + n). */
  tx?: [number, number];
}

let root: string;
let src: string;
let fullStream: Uint8Array;
let srcCommits: { minTxOffset: number; n: number; checksum: number }[];
let seq = 0;

function newDir(): string {
  return path.join(root, `d${seq++}`);
}

/** A destination: a directory on disk, or a MemoryRepo (same file names and bytes, no fsync cost). */
interface Store {
  source: LogSource;
  files(): Map<string, Buffer>;
}

function dirFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!fs.existsSync(dir)) return out;
  for (const n of logDirNames(dir)) {
    const p = path.join(dir, n);
    if (fs.statSync(p).isFile()) out.set(n, fs.readFileSync(p));
  }
  return out;
}

function fsStore(dir: string): Store {
  return { source: dir, files: () => dirFiles(dir) };
}

function memStore(repo: MemoryRepo): Store {
  return {
    source: repo,
    files: () => {
      const out = new Map<string, Buffer>();
      for (const [o, b] of repo.segments) out.set(segmentFileName(o), Buffer.from(b.bytes()));
      for (const [o, b] of repo.indexes) out.set(indexFileName(o), Buffer.from(b.bytes()));
      return out;
    },
  };
}

function cloneRepo(repo: MemoryRepo): MemoryRepo {
  const out = new MemoryRepo({ offsetIndex: true });
  for (const [from, to] of [[repo.segments, out.segments], [repo.indexes, out.indexes]] as const) {
    for (const [o, b] of from) {
      const c = new MemoryBuffer();
      c.write(b.bytes(), 0);
      to.set(o, c);
    }
  }
  return out;
}

/** Every file of the source exists in `dst` with identical bytes (equalDirs). */
function expectEqualToSource(dst: Store): void {
  const fb = dst.files();
  for (const [n, bytes] of dirFiles(src)) {
    expect(fb.get(n)?.equals(bytes), `${n} differs`).toBe(true);
  }
}

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  return new Uint8Array(Buffer.concat([...chunks]));
}

/** Splits a stream produced from `src` into headers and commits (§11.2: it is the on-disk format). */
function items(stream: Uint8Array): Item[] {
  const out: Item[] = [];
  const buf = Buffer.from(stream);
  for (let p = 0; p < buf.length; ) {
    if (buf.subarray(p, p + 6).equals(Buffer.from('(ds)^2'))) {
      out.push({ kind: 'header', start: p, end: p + 10 });
      p += 10;
    } else {
      const min = Number(buf.readBigUInt64LE(p));
      const n = buf.readUInt16LE(p + 16);
      const len = buf.readUInt32LE(p + 18);
      out.push({ kind: 'commit', start: p, end: p + 26 + len, tx: [min, min + n] });
      p += 26 + len;
    }
  }
  return out;
}

/** Runs one writer over `stream`; returns the error it rejected with, or null (then synced). */
async function appendTo(dst: LogSource, stream: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, opts: StreamWriterOptions = O) {
  const writer = StreamWriter.create(dst, opts, 'error');
  try {
    await writer.appendAll(stream);
    await writer.syncAll();
    return null;
  } catch (e) {
    return e;
  } finally {
    await writer.close();
  }
}

/** Offsets of the commits on `dst`, after checking they traverse cleanly and match the source's. */
function expectCleanPrefix(dst: Store): number[] {
  const got = [...commits(dst.source)].map((c) => ({ minTxOffset: c.minTxOffset, n: c.n, checksum: c.checksum }));
  expect(got).toEqual(srcCommits.slice(0, got.length));
  return got.map((c) => c.minTxOffset);
}

/** `create('trim')` and the rest of the source make `dst` equal to the source. */
async function expectRepairable(dst: Store): Promise<void> {
  const have = [...commits(dst.source)];
  const next = have.length === 0 ? 0 : have[have.length - 1]!.minTxOffset + have[have.length - 1]!.n;
  const writer = StreamWriter.create(dst.source, O, 'trim');
  await writer.appendAll(streamCommitsSync(src, { start: next }));
  await writer.syncAll();
  await writer.close();
  expectEqualToSource(dst);
}

/** The bytes of `before` (segments: whole files; indexes: their entries) are still in `dst`. */
function expectOldBytesKept(before: Map<string, Buffer>, dst: Store): void {
  const after = dst.files();
  for (const [n, old] of before) {
    const now = after.get(n)!;
    let keep = old.length;
    if (n.endsWith('.stdb.ofs')) {
      keep = 0;
      while (keep + 16 <= old.length && old.readBigUInt64LE(keep) !== 0n) keep += 16;
    }
    expect(now.subarray(0, keep).equals(old.subarray(0, keep)), `${n} changed`).toBe(true);
  }
}

/** Destinations: empty, or holding 0..PREFIX−1; on disk (a copied template dir) or in memory (a cloned repo). */
const templates: { fsDir: string; mem: MemoryRepo }[] = [];
type Medium = 'fs' | 'mem';

function freshDst(which: 0 | 1, medium: Medium): Store {
  const t = templates[which]!;
  if (medium === 'mem') return memStore(cloneRepo(t.mem));
  const dir = newDir();
  fs.cpSync(t.fsDir, dir, { recursive: true });
  return fsStore(dir);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
  src = path.join(root, 'src');
  const log = Commitlog.open(src, O);
  for (let i = 0; i < NUM_RECORDS; i++) log.appendMaybeFlush(new Uint8Array(randomBytes(8)));
  log.flushAndSync();
  expect(log.existingSegmentOffsets()).toEqual([0, 4]);
  log.close();
  fullStream = concat(streamCommitsSync(src));
  srcCommits = [...commits(src)].map((c) => ({ minTxOffset: c.minTxOffset, n: c.n, checksum: c.checksum }));

  for (const end of [0, PREFIX]) {
    const fsDir = path.join(root, `template-${end}`);
    fs.mkdirSync(fsDir);
    const mem = new MemoryRepo({ offsetIndex: true });
    if (end > 0) {
      for (const dst of [fsDir, mem]) expect(await appendTo(dst, streamCommitsSync(src, { end }))).toBeNull();
    }
    templates.push({ fsDir, mem });
  }
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const variants = [
  { name: 'empty destination', which: 0 as const, start: 0 },
  { name: `destination holding 0..${PREFIX - 1}`, which: 1 as const, start: PREFIX },
];

describe.each(variants)('bit flips, $name', ({ which, start }) => {
  async function flipAndCheck(medium: Medium, pos: number, bit: number): Promise<void> {
    const stream = concat(streamCommitsSync(src, { start }));
    const its = items(stream);
    const hit = its.find((it) => it.start <= pos && pos < it.end)!;
    stream[pos]! ^= 1 << bit;
    const dst = freshDst(which, medium);
    const before = dst.files();
    // Byte by byte, so no chunk boundary helps or hurts detection (Q20).
    const err = await appendTo(dst.source, Array.from(stream, (b) => Uint8Array.of(b)));
    expectOldBytesKept(before, dst);
    const rel = pos - hit.start;

    if (hit.kind === 'header' && (rel === 8 || rel === 9)) {
      // Reserved bytes are never checked on read (§2.2): the header is copied verbatim (§11.3.2 notes),
      // everything else is the source's.
      expect(err).toBeNull();
      const firstTx = its.find((i) => i.kind === 'commit' && i.start > pos)!.tx![0];
      const want = dirFiles(src);
      want.get(segmentFileName(firstTx))![rel] ^= 1 << bit;
      const got = dst.files();
      for (const [n, bytes] of want) expect(got.get(n)?.equals(bytes), n).toBe(true);
      return;
    }
    if (hit.kind === 'commit' && (rel < 18 || rel >= 22)) {
      expect(err, `flip at ${pos}`).toBeInstanceOf(ChecksumMismatchError); // framing intact, CRC fails
    } else if (hit.kind === 'header' && hit.start === 0 && rel < 6) {
      expect((err as Error).message).toMatch('no current segment'); // the stream opens without a header
    } else if (hit.kind === 'header' && (rel === 6 || rel === 7)) {
      // Any other version or checksum algorithm would make the log unopenable (issue 16 §3).
      expect(err, `flip at ${pos}`).toBeInstanceOf(StreamHeaderRefusedError);
    } else {
      // A damaged magic or length: checksum, "no current segment", maxCommitBytes, or a stream too short.
      expect(err instanceof InvalidDataError || err instanceof UnexpectedEofError, `flip at ${pos}: ${String(err)}`).toBe(
        true,
      );
    }
    // Exactly the commits before the damaged item were written.
    const expected = its.filter((i) => i.kind === 'commit' && i.end <= hit.start).map((i) => i.tx![0]);
    expect(expectCleanPrefix(dst)).toEqual([...Array(start).keys(), ...expected]);
    await expectRepairable(dst);
  }

  const streamLen = () => fullStream.length - (start === 0 ? 0 : 10 + start * 34);

  it('every byte (one bit each, memory repo): rejected before the damaged commit is written, or copied if unchecked', async () => {
    for (let pos = 0; pos < streamLen(); pos++) await flipAndCheck('mem', pos, pos % 8);
  });

  it('random (byte, bit) pairs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: streamLen() - 1 }), fc.integer({ min: 0, max: 7 }), (pos, bit) =>
        flipAndCheck('mem', pos, bit),
      ),
      { numRuns: 100 },
    );
  });

  it('random (byte, bit) pairs on disk', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: streamLen() - 1 }), fc.integer({ min: 0, max: 7 }), (pos, bit) =>
        flipAndCheck('fs', pos, bit),
      ),
      { numRuns: 20 },
    );
  });
});

describe.each(variants)('truncation, $name', ({ which, start }) => {
  async function cutAndCheck(medium: Medium, cut: number): Promise<void> {
    const stream = concat(streamCommitsSync(src, { start }));
    const its = items(stream);
    const dst = freshDst(which, medium);
    const before = dst.files();
    const err = await appendTo(dst.source, [stream.subarray(0, cut)]);
    expectOldBytesKept(before, dst);
    const torn = its.find((i) => i.start < cut && cut < i.end);
    const kept = cut - (torn?.start ?? cut);
    const hasSegment = start > 0 || its.some((i) => i.kind === 'header' && i.end <= cut);
    if (torn === undefined) {
      expect(err, `cut ${cut}`).toBeNull();
    } else if (torn.kind === 'commit' || kept < 6) {
      // Fewer than 22 bytes look like a partial commit header: dropped when there is a segment to
      // append to (Q31), else "no current segment" (the magic needs 6 bytes to be recognised).
      if (kept < 22 && hasSegment) expect(err, `cut ${cut}`).toBeNull();
      else if (kept < 22) expect(err, `cut ${cut}`).toBeInstanceOf(InvalidDataError);
      else expect(err, `cut ${cut}`).toBeInstanceOf(UnexpectedEofError);
    } else {
      expect(err, `cut ${cut}`).toBeInstanceOf(UnexpectedEofError); // 6–9 bytes of a segment header
    }
    const expected = its.filter((i) => i.kind === 'commit' && i.end <= cut).map((i) => i.tx![0]);
    expect(expectCleanPrefix(dst)).toEqual([...Array(start).keys(), ...expected]);
    await expectRepairable(dst);
  }

  const streamLen = () => fullStream.length - (start === 0 ? 0 : 10 + start * 34);

  it('at every byte (memory repo): success at a boundary or in a partial commit header, else the spec error', async () => {
    for (let cut = 0; cut <= streamLen(); cut++) await cutAndCheck('mem', cut);
  });

  it('at random bytes on disk', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: streamLen() }), (cut) => cutAndCheck('fs', cut)),
      { numRuns: 12 },
    );
  });
});

describe('streams that are not a continuation', () => {
  it('a stream from another log (offsets not contiguous) → InvalidDataError "expected commit offset"', async () => {
    const dst = freshDst(1, 'fs');
    const err = await appendTo(dst.source, streamCommitsSync(src, { start: PREFIX + 1 }));
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as Error).message).toMatch(`expected commit offset ${PREFIX} but encountered ${PREFIX + 1}`);
    expect(expectCleanPrefix(dst)).toEqual([...Array(PREFIX).keys()]);
  });

  it('a duplicate commit → InvalidDataError, commits before it kept', async () => {
    const dst = freshDst(0, 'fs');
    const c2 = items(fullStream).find((i) => i.tx?.[0] === 2)!;
    const dup = Buffer.concat([fullStream.subarray(0, c2.end), fullStream.subarray(c2.start)]);
    const err = await appendTo(dst.source, [dup]);
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as Error).message).toMatch('expected commit offset 3 but encountered 2');
    expect(expectCleanPrefix(dst)).toEqual([0, 1, 2]);
    await expectRepairable(dst);
  });

  it('garbage without a segment header into an empty destination → "no current segment"', async () => {
    const dst = freshDst(0, 'fs');
    const err = await appendTo(dst.source, [new Uint8Array(randomBytes(100))]);
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as Error).message).toMatch('no current segment');
    expect([...dst.files().keys()]).toEqual([]);
  });
});

describe('a length near 2^32 is rejected by maxCommitBytes without buffering', () => {
  /** A header and a commit header claiming `len`, then endless zeros: a writer waiting for the body never ends. */
  function* hostile(len: number, pulls: { n: number }): Generator<Uint8Array> {
    const head = new Uint8Array(32);
    head.set(encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 }));
    new DataView(head.buffer).setUint32(10 + 18, len, true);
    yield head;
    for (;;) {
      if (++pulls.n > 1000) throw new Error('the writer kept reading the body of an oversized commit');
      yield new Uint8Array(4096);
    }
  }

  it.each([
    ['maxCommitBytes 1024, len 2^32 − 16', { ...O, maxCommitBytes: 1024 }, 0xffff_fff0],
    ['maxCommitBytes 1024, commit of 1025 bytes', { ...O, maxCommitBytes: 1024 }, 1024 - 26 + 1],
    ['default limit, len 2^32 − 16', O, 0xffff_fff0],
  ])('%s', async (_name, opts, len) => {
    const dst = freshDst(0, 'mem');
    const pulls = { n: 0 };
    const err = await appendTo(dst.source, hostile(len, pulls), opts);
    expect(err).toBeInstanceOf(InvalidDataError);
    expect(err).not.toBeInstanceOf(ChecksumMismatchError);
    expect(pulls.n).toBeLessThanOrEqual(1);
    expect(expectCleanPrefix(dst)).toEqual([]);
  });

  it('a commit within the limit but longer than the stream → UnexpectedEofError', async () => {
    const dst = freshDst(0, 'mem');
    const bytes = new Uint8Array(40);
    bytes.set(encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 }));
    new DataView(bytes.buffer).setUint32(10 + 18, 500, true);
    const err = await appendTo(dst.source, [bytes], { ...O, maxCommitBytes: 1024 });
    expect(err).toBeInstanceOf(UnexpectedEofError);
  });
});

describe('Q11 FIX: 1–21 stray bytes after the last commit of the destination', () => {
  const cases = [
    ...Array.from({ length: 21 }, (_, i) => ['mem', i + 1] as const),
    ...[1, 11, 21].map((n) => ['fs', n] as const),
  ];
  it.each(cases)('%s, %i bytes: create("error") throws, create("trim") cuts them', async (medium, n) => {
    const dst = freshDst(1, medium);
    const name = segmentFileName(0);
    const clean = dst.files().get(name)!;
    if (typeof dst.source === 'string') fs.appendFileSync(path.join(dst.source, name), Buffer.alloc(n, 0x43));
    else (dst.source as MemoryRepo).segments.get(0)!.write(Buffer.alloc(n, 0x43), clean.length);

    expect(() => StreamWriter.create(dst.source, O, 'error')).toThrow(InvalidDataError);
    expect(dst.files().get(name)!.length).toBe(clean.length + n); // 'error' changes nothing

    const writer = StreamWriter.create(dst.source, O, 'trim');
    expect(dst.files().get(name)!.equals(clean)).toBe(true);
    await writer.appendAll(streamCommitsSync(src, { start: PREFIX }));
    await writer.syncAll();
    await writer.close();
    expectEqualToSource(dst);
  });
});
