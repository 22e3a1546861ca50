/**
 * verifyLog (clog verify): each kind of damage is reported with its kind, segment and byte offset, the
 * positions computed from the spec's layout (SPEC §2.3, §5.3), not read back from our output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsRepo, resetTo } from '../../../src/index.js';
import { verifyLog } from '../../../src/api/ops.js';
import {
  type CommitPlace,
  appendBytes,
  flipBit,
  frame,
  idxPath,
  indexEntries,
  record,
  segPath,
  segmentsOf,
  tempDirs,
  tmpDir,
  truncateFile,
  writeIndexEntry,
  writeLog,
} from './log-fixtures.js';

const fresh = tempDirs();
function freshLog(commits = 40, options: { epochs?: Array<[number, number]> } = {}): { dir: string; places: CommitPlace[] } {
  const dir = fresh();
  return { dir, places: writeLog(dir, { commits, ...options }) };
}

const FRAME = 26 + 50;

describe('verifyLog on a clean log', () => {
  it('generated layout matches the spec (13 commits of 76 bytes per 1024-byte segment)', () => {
    const { dir, places } = freshLog();
    expect(segmentsOf(places)).toEqual([0, 13, 26, 39]);
    for (const s of [0, 13, 26]) expect(fs.statSync(segPath(dir, s)).size).toBe(10 + 13 * FRAME);
    expect(fs.statSync(segPath(dir, 39)).size).toBe(10 + FRAME);
    expect(fs.existsSync(idxPath(dir, 0))).toBe(true);
  });

  it('reports ok with every commit counted', () => {
    const { dir } = freshLog(40, { epochs: [[20, 3]] });
    expect(verifyLog(dir)).toEqual({ ok: true, commits: 40, segments: 4, problems: [] });
    expect(verifyLog(dir, { continue: true })).toEqual({ ok: true, commits: 40, segments: 4, problems: [] });
  });

  it('an empty directory is an intact, empty log; a missing one is an error, not created', () => {
    const dir = fresh();
    // ok (nothing is wrong), but `segments: 0` tells it apart from a verified log (clog verify fails on it).
    expect(verifyLog(dir)).toEqual({ ok: true, commits: 0, segments: 0, problems: [] });
    const missing = path.join(dir, 'nope');
    expect(() => verifyLog(missing)).toThrow(/no such log directory/);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe('verifyLog: damaged commits', () => {
  it('a bit flip in the records: checksum at the commit, the rest still verified with --continue', () => {
    const { dir, places } = freshLog();
    const c = places[5]!;
    flipBit(segPath(dir, 0), c.byteOffset + 22 + 10);
    const stop = verifyLog(dir);
    expect(stop.ok).toBe(false);
    expect(stop.commits).toBe(5);
    expect(stop.problems).toHaveLength(1);
    expect(stop.problems[0]).toMatchObject({ kind: 'checksum', segment: 0, byteOffset: c.byteOffset, offset: 5 });
    const all = verifyLog(dir, { continue: true });
    expect(all.problems).toHaveLength(1);
    expect(all.problems[0]).toMatchObject({ kind: 'checksum', segment: 0, byteOffset: c.byteOffset });
    expect(all.commits).toBe(39);
  });

  it('a bit flip in the length field: a damaged header, not a torn write, and the commits after it are found', () => {
    const { dir, places } = freshLog();
    const c = places[3]!;
    flipBit(segPath(dir, 0), c.byteOffset + 18 + 3, 6); // len += 2^30: runs past the end of the file
    for (const options of [{}, { continue: true }]) {
      const r = verifyLog(dir, options);
      expect(r.problems[0]).toMatchObject({ kind: 'checksum', segment: 0, byteOffset: c.byteOffset });
    }
    const all = verifyLog(dir, { continue: true });
    expect(all.problems).toHaveLength(1);
    expect(all.commits).toBe(39);
  });

  it('a commit cut short at the end of the log: truncated', () => {
    const { dir, places } = freshLog();
    const last = places[39]!;
    truncateFile(segPath(dir, 39), last.byteOffset + 40);
    const r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'truncated', segment: 39, byteOffset: last.byteOffset, offset: 39 })]);
    expect(r.commits).toBe(39);
  });

  it('1–21 trailing bytes (ignored by readers) are reported as truncated', () => {
    const { dir } = freshLog();
    const end = 10 + FRAME;
    appendBytes(segPath(dir, 39), new Uint8Array([1, 2, 3, 4, 5]));
    const r = verifyLog(dir);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'truncated', segment: 39, byteOffset: end })]);
    expect(r.commits).toBe(40);
  });

  it('two damaged commits: the first stops verification, --continue finds both', () => {
    const { dir, places } = freshLog();
    flipBit(segPath(dir, 0), places[2]!.byteOffset + 30);
    flipBit(segPath(dir, 26), places[30]!.byteOffset + 30);
    expect(verifyLog(dir).problems).toHaveLength(1);
    const all = verifyLog(dir, { continue: true });
    expect(all.problems.map((p) => [p.kind, p.segment, p.byteOffset])).toEqual([
      ['checksum', 0, places[2]!.byteOffset],
      ['checksum', 26, places[30]!.byteOffset],
    ]);
    expect(all.commits).toBe(38);
  });
});

describe('verifyLog: sequence (SPEC §7.2)', () => {
  it('a missing segment is a gap: out-of-order at the first commit after it', () => {
    const { dir } = freshLog();
    new FsRepo(dir).removeSegment(13);
    const r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'out-of-order', segment: 26, byteOffset: 10, offset: 26 })]);
    expect(r.problems[0]!.message).toMatch(/expected offset 13, found 26/);
    expect(r.commits).toBe(27);
  });

  it('a different commit for the last offset is a fork', () => {
    const { dir } = freshLog();
    const end = 10 + FRAME;
    appendBytes(segPath(dir, 39), frame(39, record(1000, 50)));
    const r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'fork', segment: 39, byteOffset: end, offset: 39 })]);
    expect(r.commits).toBe(40);
  });

  it('an exact duplicate (skipped by readers, refused by open) is reported as out-of-order', () => {
    const { dir } = freshLog();
    appendBytes(segPath(dir, 39), frame(39, record(39, 50)));
    const r = verifyLog(dir);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'out-of-order', segment: 39, byteOffset: 10 + FRAME })]);
    expect(r.problems[0]!.message).toMatch(/duplicate/);
  });

  it('a commit that skips offsets inside a segment is out-of-order, reported once', () => {
    const { dir } = freshLog();
    appendBytes(segPath(dir, 39), frame(45, record(45, 50)));
    appendBytes(segPath(dir, 39), frame(46, record(46, 50)));
    const r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'out-of-order', segment: 39, byteOffset: 10 + FRAME, offset: 45 })]);
    expect(r.commits).toBe(42);
  });
});

describe('verifyLog: segment files', () => {
  it('bad magic: segment-header at byte 0; --continue goes on with the next segment', () => {
    const { dir } = freshLog();
    flipBit(segPath(dir, 13), 2);
    expect(verifyLog(dir).problems).toEqual([expect.objectContaining({ kind: 'segment-header', segment: 13, byteOffset: 0 })]);
    const all = verifyLog(dir, { continue: true });
    expect(all.problems).toHaveLength(1);
    expect(all.commits).toBe(27);
  });

  it('a format version above 1: unsupported-version at byte 6; a checksum algorithm other than 0: segment-header at byte 7', () => {
    const { dir } = freshLog();
    const f = segPath(dir, 26);
    const b = fs.readFileSync(f);
    b[6] = 2;
    fs.writeFileSync(f, b);
    expect(verifyLog(dir).problems).toEqual([expect.objectContaining({ kind: 'unsupported-version', segment: 26, byteOffset: 6 })]);
    b[6] = 1;
    b[7] = 1;
    fs.writeFileSync(f, b);
    expect(verifyLog(dir).problems).toEqual([expect.objectContaining({ kind: 'segment-header', segment: 26, byteOffset: 7 })]);
  });

  it('a segment shorter than its header: segment-header', () => {
    const { dir } = freshLog();
    truncateFile(segPath(dir, 39), 6);
    expect(verifyLog(dir).problems).toEqual([expect.objectContaining({ kind: 'segment-header', segment: 39, byteOffset: 0 })]);
  });

  it('names: a non-canonical duplicate, a misnamed segment and a stray *.stdb.log are segment-name problems', () => {
    const { dir } = freshLog();
    fs.copyFileSync(segPath(dir, 39), path.join(dir, '39.stdb.log'));
    let r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'segment-name', segment: 39, byteOffset: null })]);
    fs.rmSync(path.join(dir, '39.stdb.log'));

    fs.renameSync(segPath(dir, 13), segPath(dir, 14));
    fs.renameSync(idxPath(dir, 13), idxPath(dir, 14));
    fs.writeFileSync(path.join(dir, 'notes.stdb.log'), 'x');
    r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([
      expect.objectContaining({ kind: 'segment-name', segment: null, byteOffset: null }),
      expect.objectContaining({ kind: 'segment-name', segment: 14, byteOffset: 10, offset: 13 }),
    ]);
    expect(r.commits).toBe(40);
  });
});

describe('verifyLog: offset index files', () => {
  it('the writer-made indexes verify; an entry pointing at the wrong byte is an index problem at its entry', () => {
    const { dir, places } = freshLog();
    const entries = indexEntries(idxPath(dir, 0));
    expect(entries.length).toBeGreaterThan(1);
    const [key, value] = entries[1]!;
    expect(places[key]!.byteOffset).toBe(value); // the writer's entries point at their commits
    writeIndexEntry(idxPath(dir, 0), 1, key, value + 1);
    const r = verifyLog(dir, { continue: true });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'index', segment: 0, byteOffset: 16 })]);
    expect(r.commits).toBe(40);
  });

  it('stale entries past the last commit (as resetTo can leave them, QUIRK Q15) are reported', () => {
    const { dir } = freshLog();
    const entries = indexEntries(idxPath(dir, 0));
    expect(entries[0]![0]).toBeGreaterThan(0);
    resetTo(dir, 0); // below the first key of segment 0's index: the index is not truncated
    expect(indexEntries(idxPath(dir, 0))).toEqual(entries);
    const r = verifyLog(dir, { continue: true });
    expect(r.commits).toBe(1);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ kind: 'index', segment: 0, byteOffset: 0 });
    expect(r.problems[0]!.message).toMatch(/past the last commit/);
  });

  it('garbage in an index file, a partial entry, data after the terminator, decreasing keys and an orphan index', () => {
    const { dir, places } = freshLog();
    // A key beyond 2^53: unreadable.
    fs.writeFileSync(idxPath(dir, 13), Buffer.alloc(64, 0xff));
    // A smaller key after the last entry of segment 0's index (pointing at its commit).
    const e0 = indexEntries(idxPath(dir, 0));
    expect(e0.some(([k]) => k === 2)).toBe(false);
    expect(e0[e0.length - 1]![0]).toBeGreaterThan(2);
    expect(fs.statSync(idxPath(dir, 0)).size).toBeGreaterThan(e0.length * 16);
    writeIndexEntry(idxPath(dir, 0), e0.length, 2, places[2]!.byteOffset);
    // Segment 26's index: a non-zero entry after the zero key that ends it, then a 3-byte partial entry.
    const len26 = fs.statSync(idxPath(dir, 26)).size;
    expect(len26 % 16).toBe(0);
    const tail = Buffer.alloc(19);
    tail[0] = 5;
    tail.set([1, 2, 3], 16);
    appendBytes(idxPath(dir, 26), tail);
    fs.writeFileSync(idxPath(dir, 1000), Buffer.alloc(32));
    const r = verifyLog(dir, { continue: true });
    expect(r.problems.every((p) => p.kind === 'index')).toBe(true);
    expect(r.problems.map((p) => [p.segment, p.byteOffset])).toEqual([
      [0, e0.length * 16],
      [13, null],
      [26, len26 + 16],
      [26, len26],
      [1000, null],
    ]);
    expect(r.commits).toBe(40);
  });
});

describe('verifyLog on the SpacetimeDB fixtures', () => {
  it('both verify intact, with every commit counted', () => {
    const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');
    for (const name of ['spacetimedb-v1.2', 'spacetimedb-v2.6']) {
      const expected = JSON.parse(fs.readFileSync(path.join(fixtures, name, 'expected-commits.json'), 'utf8'));
      expect(verifyLog(path.join(fixtures, name, 'clog'), { continue: true })).toEqual({
        ok: true,
        commits: expected.commits.length,
        segments: 1,
        problems: [],
      });
    }
  });
});

describe('verifyLog properties', () => {
  // 50 commits: segments 0, 13, 26 (13 commits each) and 39 (11 commits).
  let dir: string;
  let places: CommitPlace[];
  beforeAll(() => {
    dir = tmpDir();
    places = writeLog(dir, { commits: 50 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Start of the commit of `segment` that holds byte `b`. */
  const commitStart = (segment: number, b: number): number => {
    const inSeg = places.filter((p) => p.segment === segment && p.byteOffset <= b);
    return inSeg[inSeg.length - 1]!.byteOffset;
  };

  it('a version byte flipped to 0 is a problem, not a silently empty segment (v0 stops at an all-zero header)', () => {
    const file = segPath(dir, 0);
    flipBit(file, 6, 0); // 01 -> 00: commit 0's first 14 bytes are zero, a v0 reader's end marker
    try {
      const r = verifyLog(dir, { continue: true });
      expect(r.ok).toBe(false);
      expect(r.problems).toContainEqual(expect.objectContaining({ kind: 'checksum', segment: 0, byteOffset: 10 }));
    } finally {
      flipBit(file, 6, 0);
    }
  });

  it('every single bit flip in a segment (bar the reserved header bytes) is found, at the commit holding it', () => {
    const segments = [0, 13, 26, 39];
    const sizeOf = (s: number): number => 10 + places.filter((p) => p.segment === s).length * FRAME;
    fc.assert(
      fc.property(fc.constantFrom(...segments), fc.nat(), fc.integer({ min: 0, max: 7 }), (segment, at, bit) => {
        const size = sizeOf(segment);
        let b = at % size;
        if (b === 8 || b === 9) b = 10; // reserved: written as zero, never read (SPEC §2.2)
        const file = segPath(dir, segment);
        flipBit(file, b, bit);
        try {
          const r = verifyLog(dir, { continue: true });
          expect(r.ok).toBe(false);
          const first = r.problems[0]!;
          expect(first.segment).toBe(segment);
          if (b >= 10) {
            expect(['checksum', 'truncated']).toContain(first.kind);
            expect(first.byteOffset).toBe(commitStart(segment, b));
          } else {
            expect(['segment-header', 'unsupported-version', 'checksum']).toContain(first.kind);
          }
        } finally {
          flipBit(file, b, bit);
        }
      }),
      { numRuns: 256 },
    );
    expect(verifyLog(dir).ok).toBe(true);
  });

  it('truncating the newest segment anywhere: whole commits verify (bar stale index entries), a cut commit is truncated', () => {
    const file = segPath(dir, 39);
    const original = fs.readFileSync(file);
    const boundaries = new Set(places.filter((p) => p.segment === 39).map((p) => p.byteOffset).concat(original.length));
    fc.assert(
      fc.property(fc.integer({ min: 10, max: original.length - 1 }), (length) => {
        fs.writeFileSync(file, original.subarray(0, length));
        try {
          const r = verifyLog(dir);
          if (boundaries.has(length)) {
            // Complete commits only; the index entries of cut commits are now stale.
            const stale = indexEntries(idxPath(dir, 39)).some(([, pos]) => pos >= length);
            expect(r.ok).toBe(!stale);
            expect(r.problems.map((p) => p.kind)).toEqual(stale ? ['index'] : []);
          } else {
            const start = commitStart(39, length);
            // 1..21 bytes of a commit header are trailing bytes: "truncated" at the last boundary too.
            expect(r.problems).toEqual([expect.objectContaining({ kind: 'truncated', segment: 39, byteOffset: start })]);
          }
        } finally {
          fs.writeFileSync(file, original);
        }
      }),
      { numRuns: 256 },
    );
  });
});
