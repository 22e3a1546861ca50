/**
 * Issue 16 §3: StreamWriter refuses, with a typed error and before writing a byte of it, every segment
 * header that `open` would refuse and every commit that local traversal would not yield after the
 * previous one (the previous commit of the stream, or the last one on disk after a reopen). A refused
 * stream leaves the local log openable, and byte-identical when nothing of the stream was valid.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Commitlog,
  ErrorCodes,
  InvalidDataError,
  InvalidInputError,
  StreamCommitRefusedError,
  type StreamCommitDefect,
  StreamHeaderRefusedError,
  StreamWriter,
  commits,
} from '../../../src/index.js';
import { encodeCommit, encodeSegmentHeader } from '../../../src/api/codec.js';
import { logDirNames, useTmpDirs } from '../../helpers/common.js';

const O = { maxSegmentSize: 4096, offsetIndexIntervalBytes: 32, offsetIndexRequireSegmentFsync: false };
const tmpDir = useTmpDirs('clog-refuse-');

function hdr(logFormatVersion = 1, checksumAlgorithm = 0): Uint8Array {
  return encodeSegmentHeader({ logFormatVersion, checksumAlgorithm });
}

/** A commit of `n` records, 8 bytes of `fill` each (n = 0: no records). */
function cm(minTxOffset: number, n: number, fill = 0xab, epoch = 0): Uint8Array {
  return encodeCommit({ minTxOffset, epoch, n, records: new Uint8Array(8 * n).fill(fill) }).bytes;
}

/** SHA-256 of every file of the log (not the lock file, whose owner record changes with every writer). */
function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  for (const n of logDirNames(dir)) out.set(n, createHash('sha256').update(fs.readFileSync(path.join(dir, n))).digest('hex'));
  return out;
}

function segmentFiles(dir: string): Map<string, string> {
  return new Map([...hashes(dir)].filter(([n]) => n.endsWith('.stdb.log')));
}

/** create → appendAll → syncAll → close; the error (or null). */
async function append(dir: string, units: Uint8Array[]): Promise<unknown> {
  const writer = StreamWriter.create(dir, O, 'error');
  try {
    await writer.appendAll(units);
    await writer.syncAll();
    return null;
  } catch (e) {
    return e;
  } finally {
    await writer.close();
  }
}

async function localLog(units: Uint8Array[]): Promise<string> {
  const dir = tmpDir();
  if (units.length > 0) expect(await append(dir, units)).toBeNull();
  return dir;
}

/**
 * `[minTxOffset, n]` of every commit, from a full traversal that must not fail, then from `open` and
 * a full traversal of the opened log. (They differ only for a newest segment holding nothing but
 * empty commits, which `open` removes as an empty segment.)
 */
function openAndTraverse(dir: string): { free: [number, number][]; opened: [number, number][] } {
  const free = [...commits(dir)].map((c): [number, number] => [c.minTxOffset, c.n]);
  const log = Commitlog.open(dir, O);
  try {
    return { free, opened: [...log.commits()].map((c): [number, number] => [c.minTxOffset, c.n]) };
  } finally {
    log.close();
  }
}

function expectCommitRefused(err: unknown, defect: StreamCommitDefect, expected: number, actual: number): void {
  expect(err, String(err)).toBeInstanceOf(StreamCommitRefusedError);
  const e = err as StreamCommitRefusedError;
  expect(e).toBeInstanceOf(InvalidDataError);
  expect(e.code).toBe(ErrorCodes.STREAM_COMMIT_REFUSED);
  expect({ defect: e.defect, expected: e.expectedOffset, actual: e.actualOffset }).toEqual({ defect, expected, actual });
  expect(e.message).toContain(`expected commit offset ${expected} but encountered ${actual}`);
}

describe('segment headers open would refuse', () => {
  const bad = [
    { name: 'version 0', version: 0, algo: 0, reason: /log format version mismatch: current=1 segment=0/ },
    { name: 'version 2', version: 2, algo: 0, reason: /unsupported log format version: 2/ },
    { name: 'version 255', version: 255, algo: 0, reason: /unsupported log format version: 255/ },
    { name: 'checksum algorithm 1', version: 1, algo: 1, reason: /unsupported checksum algorithm: 1/ },
    { name: 'checksum algorithm 255', version: 1, algo: 255, reason: /unsupported checksum algorithm: 255/ },
  ];

  function expectHeaderRefused(err: unknown, segment: number, b: (typeof bad)[number]): void {
    expect(err, String(err)).toBeInstanceOf(StreamHeaderRefusedError);
    const e = err as StreamHeaderRefusedError;
    expect(e.code).toBe(ErrorCodes.STREAM_HEADER_REFUSED);
    expect([e.segment, e.logFormatVersion, e.checksumAlgorithm]).toEqual([segment, b.version, b.algo]);
    expect(e.message).toMatch(b.reason);
  }

  it.each(bad)('$name: the stream of a fresh replica is refused, no file is created', async (b) => {
    const dir = tmpDir();
    expectHeaderRefused(await append(dir, [hdr(b.version, b.algo), cm(0, 1)]), 0, b);
    expect(hashes(dir)).toEqual(new Map());
    expect(openAndTraverse(dir)).toEqual({ free: [], opened: [] });
  });

  it.each(bad)('$name: after local data (reopened), the local files stay byte-identical', async (b) => {
    const dir = await localLog([hdr(), cm(0, 1), cm(1, 2)]);
    const before = hashes(dir);
    expectHeaderRefused(await append(dir, [hdr(b.version, b.algo), cm(3, 1)]), 3, b);
    expect(hashes(dir)).toEqual(before);
    expect(openAndTraverse(dir)).toEqual({ free: [[0, 1], [1, 2]], opened: [[0, 1], [1, 2]] });
  });

  it.each(bad)('$name: mid-stream, the commits before it are kept and nothing after', async (b) => {
    const dir = await localLog([hdr(), cm(0, 1)]);
    const want = await localLog([hdr(), cm(0, 1), cm(1, 2)]);
    expectHeaderRefused(await append(dir, [cm(1, 2), hdr(b.version, b.algo), cm(3, 1)]), 3, b);
    expect(segmentFiles(dir)).toEqual(segmentFiles(want));
    expect(openAndTraverse(dir)).toEqual({ free: [[0, 1], [1, 2]], opened: [[0, 1], [1, 2]] });
  });

  it.each(bad)('$name: right after a valid header, neither segment file is created', async (b) => {
    const dir = await localLog([hdr(), cm(0, 1)]);
    const before = hashes(dir);
    expectHeaderRefused(await append(dir, [hdr(), hdr(b.version, b.algo), cm(1, 1)]), 1, b);
    expect(hashes(dir)).toEqual(before);
    expect(openAndTraverse(dir)).toEqual({ free: [[0, 1]], opened: [[0, 1]] });
  });

  it('reserved bytes are not checked by open (§2.2), so a header with them set is accepted and opens', async () => {
    const h = hdr();
    h[8] = 0xff;
    h[9] = 0x01;
    const dir = tmpDir();
    expect(await append(dir, [h, cm(0, 1)])).toBeNull();
    expect(openAndTraverse(dir)).toEqual({ free: [[0, 1]], opened: [[0, 1]] });
  });

  it('the newest local segment is checked like open checks it: a version-2 segment on disk refuses create', async () => {
    const dir = await localLog([hdr(), cm(0, 1)]);
    const file = path.join(dir, logDirNames(dir).find((n) => n.endsWith('.stdb.log'))!);
    const bytes = fs.readFileSync(file);
    bytes[6] = 2;
    fs.writeFileSync(file, bytes);
    const before = hashes(dir);
    expect(() => StreamWriter.create(dir, O)).toThrow(/unsupported log format version: 2/);
    expect(hashes(dir)).toEqual(before);
  });

  it('a writer for another log format version is refused up front (it decodes v1 framing only)', () => {
    expect(() => StreamWriter.create(tmpDir(), { ...O, logFormatVersion: 0 })).toThrow(InvalidInputError);
  });
});

/**
 * Where the previous commit comes from: the stream itself (fresh replica, or after local data), or
 * the disk after a reopen (the newest segment, or the segment before a header-only newest segment).
 */
interface Setup {
  name: string;
  local: Uint8Array[];
  prefix: Uint8Array[];
}

/** Setups whose previous commit is `prev` (a commit at 1, right after commit 0). */
function setups(prev: Uint8Array, prevEnd: number): Setup[] {
  return [
    { name: 'fresh replica, previous commit in the stream', local: [], prefix: [hdr(), cm(0, 1), prev] },
    { name: 'after local data, previous commit in the stream', local: [hdr(), cm(0, 1)], prefix: [prev] },
    { name: 'after a reopen, previous commit on disk', local: [hdr(), cm(0, 1), prev], prefix: [] },
    {
      name: 'after a reopen, previous commit before a header-only newest segment',
      local: [hdr(), cm(0, 1), prev, hdr()],
      prefix: [],
    },
  ].map((s) => ({ ...s, prevEnd }));
}

const PREV = cm(1, 2, 0x11); // offsets 1..2, end 3
const PREV_EMPTY = cm(1, 0, 0x11); // n = 0 at offset 1, end 1
const defects: { defect: StreamCommitDefect; prev: Uint8Array; prevEnd: number; commit: Uint8Array }[] = [
  { defect: 'duplicate', prev: PREV, prevEnd: 3, commit: PREV },
  { defect: 'fork', prev: PREV, prevEnd: 3, commit: cm(1, 2, 0x22) },
  { defect: 'fork', prev: PREV, prevEnd: 3, commit: cm(1, 1, 0x11) },
  { defect: 'gap', prev: PREV, prevEnd: 3, commit: cm(4, 1) },
  { defect: 'out-of-order', prev: PREV, prevEnd: 3, commit: cm(2, 1) },
  { defect: 'out-of-order', prev: PREV, prevEnd: 3, commit: cm(0, 1) },
  { defect: 'empty-repeat', prev: PREV_EMPTY, prevEnd: 1, commit: cm(1, 1) },
  { defect: 'empty-repeat', prev: PREV_EMPTY, prevEnd: 1, commit: cm(1, 0, 0x11, 1) },
  { defect: 'empty-repeat', prev: PREV_EMPTY, prevEnd: 1, commit: PREV_EMPTY },
];
const cases = defects.flatMap((d) =>
  setups(d.prev, d.prevEnd).flatMap((s) =>
    (['mid-segment', 'in a new segment'] as const).map((where) => ({ ...d, ...s, where, label: `${d.defect}, ${s.name}, ${where}` })),
  ),
);

describe('commits local traversal would not yield', () => {
  it.each(cases)('$label', async (c) => {
    const dir = await localLog(c.local);
    const before = hashes(dir);
    // What the directory must hold afterwards: the local log plus the valid part of the stream.
    const want = await localLog([...c.local, ...c.prefix]);
    const stream = [...c.prefix, ...(c.where === 'in a new segment' ? [hdr()] : []), c.commit, cm(c.prevEnd, 1, 0x33)];
    const actual = encodeOffset(c.commit);
    expectCommitRefused(await append(dir, stream), c.defect, c.prevEnd, actual);
    if (c.prefix.length === 0) expect(hashes(dir)).toEqual(before);
    expect(segmentFiles(dir)).toEqual(segmentFiles(want));
    expect(openAndTraverse(dir)).toEqual(openAndTraverse(want));
  });

  it('without the fix this log reads back as forked: an empty commit then its offset again', async () => {
    // The refused stream, written by hand, is what the writer used to produce (issue 16 §3).
    const dir = await localLog([hdr(), cm(0, 1), PREV_EMPTY]);
    const seg = path.join(dir, logDirNames(dir).find((n) => n.endsWith('.stdb.log'))!);
    fs.appendFileSync(seg, cm(1, 1));
    expect(() => [...commits(dir)]).toThrow(expect.objectContaining({ code: ErrorCodes.TRAVERSAL_FORKED }));
  });

  it('a stream ending with an empty commit is accepted and traverses', async () => {
    const dir = tmpDir();
    expect(await append(dir, [hdr(), cm(0, 1), cm(1, 0)])).toBeNull();
    expect(openAndTraverse(dir)).toEqual({ free: [[0, 1], [1, 0]], opened: [[0, 1], [1, 0]] });
  });
});

function encodeOffset(commit: Uint8Array): number {
  return Number(new DataView(commit.buffer, commit.byteOffset).getBigUint64(0, true));
}

describe('property: one defect injected into a random valid stream', () => {
  type Unit = { kind: 'header' } | { kind: 'commit'; n: number; fill: number };
  const unit: fc.Arbitrary<Unit> = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'header' as const }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), n: fc.integer({ min: 1, max: 3 }), fill: fc.integer({ min: 0, max: 255 }) }) },
  );
  const defectKind = fc.constantFrom(
    'duplicate',
    'fork',
    'gap',
    'out-of-order',
    'empty-repeat',
    'bad-header',
  ) as fc.Arbitrary<StreamCommitDefect | 'bad-header'>;

  it('typed refusal; the local files unchanged after a reopen; the log opens and traverses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(unit, { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        defectKind,
        fc.constantFrom(0, 2, 255),
        fc.boolean(),
        async (units, splitSeed, cutSeed, kind, badVersion, newSegment) => {
          // Encode the valid history: a header first, offsets contiguous.
          const bytes: Uint8Array[] = [hdr()];
          let end = 0;
          let prev: { start: number; n: number; fill: number; bytes: Uint8Array } | null = null;
          for (const u of units) {
            if (u.kind === 'header') {
              bytes.push(hdr());
              continue;
            }
            const b = cm(end, u.n, u.fill);
            bytes.push(b);
            prev = { start: end, n: u.n, fill: u.fill, bytes: b };
            end += u.n;
          }
          const cut = 1 + (cutSeed % bytes.length); // the valid part of the history
          const split = 1 + (splitSeed % cut); // what is already local
          const valid = bytes.slice(0, cut);
          // The previous commit at the cut.
          prev = null;
          end = 0;
          for (const b of valid) {
            if (b.length === 10) continue;
            const n = new DataView(b.buffer, b.byteOffset).getUint16(16, true);
            prev = { start: end, n, fill: b[22] ?? 0, bytes: b };
            end += n;
          }
          let injected: Uint8Array[];
          let expectDefect = kind;
          if (kind === 'bad-header') injected = [hdr(badVersion), cm(end, 1)];
          else if (kind === 'gap') injected = [cm(end + 1 + (cutSeed % 5), 1)];
          else if (kind === 'empty-repeat') injected = [cm(end, 0), cm(end, 1 + (splitSeed % 2))];
          else if (prev === null) {
            // Nothing before: a fresh log expects offset 0, anything else is a gap.
            injected = [cm(1 + (cutSeed % 3), 1)];
            expectDefect = 'gap';
          } else if (kind === 'duplicate') injected = [prev.bytes];
          else if (kind === 'fork') injected = [cm(prev.start, prev.n, prev.fill ^ 0xff)];
          else if (prev.n >= 2) injected = [cm(prev.start + 1, 1)];
          else if (prev.start > 0) injected = [cm(prev.start - 1, 1)];
          else {
            // Commit 0 of one record: no offset is behind it but its own, which is a fork.
            injected = [cm(0, 1, prev.fill ^ 0xff)];
            expectDefect = 'fork';
          }
          if (newSegment && kind !== 'bad-header') injected = [hdr(), ...injected];
          // The empty commit of 'empty-repeat' is valid and written; the reference holds it too. A header
          // of the stream with no accepted commit after it leaves no file (it is created lazily).
          const streamAccepted = [...valid.slice(split), ...(kind === 'empty-repeat' ? injected.slice(0, -1) : [])];
          while (streamAccepted.length > 0 && streamAccepted[streamAccepted.length - 1]!.length === 10) streamAccepted.pop();
          const accepted = [...valid.slice(0, split), ...streamAccepted];

          const dir = await localLog(valid.slice(0, split));
          const want = await localLog(accepted);
          const err = await append(dir, [...valid.slice(split), ...injected, cm(end, 1)]);
          if (expectDefect === 'bad-header') expect(err, String(err)).toBeInstanceOf(StreamHeaderRefusedError);
          else {
            expect(err, String(err)).toBeInstanceOf(StreamCommitRefusedError);
            expect((err as StreamCommitRefusedError).defect).toBe(expectDefect);
          }
          expect(segmentFiles(dir)).toEqual(segmentFiles(want));

          // Reopened, the same defect is refused again and nothing at all changes.
          const before = hashes(dir);
          const again = await append(dir, kind === 'empty-repeat' ? injected.slice(-1) : injected);
          expect(again?.constructor).toBe((err as Error).constructor);
          expect(hashes(dir)).toEqual(before);
          expect(openAndTraverse(dir)).toEqual(openAndTraverse(want));
        },
      ),
      { numRuns: 100 },
    );
  });
});
