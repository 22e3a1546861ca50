/**
 * Streaming round trips on random logs (SPEC §11.2, §11.3, QUIRK Q20 not reproduced): whatever the
 * commit sizes, records per commit, epochs, segment sizes and index intervals, and however the byte
 * stream is cut into chunks, StreamWriter rebuilds byte-identical segment and index files.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GenericLog,
  MemoryRepo,
  StreamWriter,
  commits,
  streamCommits,
  streamCommitsSync,
  type Options,
  type TxRange,
} from '../../src/index.js';

const RUNS = { numRuns: 200 };

interface LogSpec {
  options: Options;
  /** Each group becomes (at least) one commit; the epoch is raised before it when given. */
  groups: { epochBump: number; records: Uint8Array[] }[];
}

const logSpec: fc.Arbitrary<LogSpec> = fc.record({
  options: fc.record({
    logFormatVersion: fc.constant(1),
    maxSegmentSize: fc.integer({ min: 32, max: 1200 }),
    maxRecordsInCommit: fc.integer({ min: 1, max: 4 }),
    offsetIndexIntervalBytes: fc.integer({ min: 1, max: 400 }),
    offsetIndexRequireSegmentFsync: fc.boolean(),
  }),
  groups: fc.array(
    fc.record({
      epochBump: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
      records: fc.array(fc.uint8Array({ maxLength: 150 }), { minLength: 1, maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 30 },
  ),
});

/** Writes the log; no sync in between so the source's index sees only rotation syncs and a final one. */
function buildSource(spec: LogSpec): MemoryRepo {
  const repo = new MemoryRepo({ offsetIndex: true });
  const log = GenericLog.open(repo, spec.options);
  for (const g of spec.groups) {
    // Raising the epoch commits nothing here (the previous group was committed), and may rotate only
    // when the next commit would rotate anyway (Q5), so it never leaves an empty segment behind.
    if (g.epochBump > 0) log.setEpoch(log.epoch + g.epochBump);
    for (const r of g.records) {
      if (!log.append(r)) {
        log.commit();
        log.append(r);
      }
    }
    log.commit();
  }
  log.sync();
  log.close();
  return repo;
}

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of list) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** The same bytes cut at the given sizes (cycled); a size 0 yields an empty chunk. */
function rechunk(bytes: Uint8Array, given: readonly number[]): Uint8Array[] {
  // Sizes that are all 0 would never get through the bytes: add a 1 so every cycle moves on.
  const sizes = given.length > 0 && given.every((n) => n === 0) ? [...given, 1] : given;
  const out: Uint8Array[] = [];
  let p = 0;
  for (let i = 0; p < bytes.length; i++) {
    const n = sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!;
    out.push(bytes.slice(p, p + n));
    p += n;
  }
  return out;
}

async function* asAsync(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

const chunking = fc.oneof(
  fc.constant([1]), // byte by byte: every header split
  fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 12 }),
  fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 }),
  fc.constant([] as number[]), // one chunk
);

function expectSameFiles(src: MemoryRepo, dst: MemoryRepo, withIndexes = true): void {
  const kinds: [string, Map<number, { bytes(): Uint8Array }>, Map<number, { bytes(): Uint8Array }>][] = [
    ['segment', src.segments, dst.segments],
  ];
  if (withIndexes) kinds.push(['index', src.indexes, dst.indexes]);
  for (const [what, a, b] of kinds) {
    expect([...b.keys()].sort((x, y) => x - y), `${what} offsets`).toEqual([...a.keys()].sort((x, y) => x - y));
    for (const [o, buf] of a) {
      expect(Buffer.from(b.get(o)!.bytes()).equals(Buffer.from(buf.bytes())), `${what} ${o}`).toBe(true);
    }
  }
}

describe('stream round trip (property)', () => {
  it('the full stream is the concatenation of the segments, verbatim', () => {
    fc.assert(
      fc.property(logSpec, (spec) => {
        const src = buildSource(spec);
        const segs = src.existingOffsets().map((o) => src.segments.get(o)!.bytes());
        expect(Buffer.from(concat(streamCommitsSync(src))).equals(Buffer.from(concat(segs)))).toBe(true);
      }),
      RUNS,
    );
  });

  it('re-chunked at random boundaries, StreamWriter rebuilds identical segment and index files', async () => {
    await fc.assert(
      fc.asyncProperty(logSpec, chunking, fc.boolean(), async (spec, sizes, async) => {
        const src = buildSource(spec);
        const chunks = rechunk(concat(streamCommitsSync(src)), sizes);
        const dst = new MemoryRepo({ offsetIndex: true });
        const writer = StreamWriter.create(dst, spec.options, 'error');
        let next = 0; // progress reports every commit, in order
        await writer.appendAll(async ? asAsync(chunks) : chunks, (r) => {
          expect(r.start).toBe(next);
          next = r.end;
        });
        expect(next).toBe(lastEnd(src));
        await writer.syncAll();
        await writer.close();
        expectSameFiles(src, dst);
      }),
      RUNS,
    );
  });

  it('streaming [0, a), [a, b), [b, ..) at commit boundaries through one writer gives identical files', async () => {
    await fc.assert(
      fc.asyncProperty(logSpec, fc.nat(), fc.nat(), chunking, async (spec, i, j, sizes) => {
        const src = buildSource(spec);
        const starts = [...commits(src)].map((c) => c.minTxOffset);
        const bounds = [...starts, src.existingOffsets().length === 0 ? 0 : lastEnd(src)];
        const [a, b] = [bounds[i % bounds.length]!, bounds[j % bounds.length]!].sort((x, y) => x - y);
        const dst = new MemoryRepo({ offsetIndex: true });
        const writer = StreamWriter.create(dst, spec.options, 'error');
        for (const range of pieces(a!, b!)) {
          const chunks = rechunk(concat(streamCommitsSync(src, range)), sizes);
          await writer.appendAll(asAsync(chunks));
        }
        await writer.syncAll();
        await writer.close();
        expectSameFiles(src, dst);
      }),
      RUNS,
    );
  });

  it('the same with a fresh StreamWriter (create on the partial log) for every piece: identical segments', async () => {
    await fc.assert(
      fc.asyncProperty(logSpec, fc.nat(), fc.nat(), async (spec, i, j) => {
        const src = buildSource(spec);
        const bounds = [...[...commits(src)].map((c) => c.minTxOffset), lastEnd(src)];
        const [a, b] = [bounds[i % bounds.length]!, bounds[j % bounds.length]!].sort((x, y) => x - y);
        const dst = new MemoryRepo({ offsetIndex: true });
        for (const range of pieces(a!, b!)) {
          const writer = StreamWriter.create(dst, spec.options, 'error');
          await writer.appendAll(streamCommits(src, range));
          await writer.close();
        }
        // A re-created index writer starts counting afresh (§3.3), so only the segments must match.
        expectSameFiles(src, dst, false);
      }),
      { numRuns: 100 },
    );
  });
});

function lastEnd(src: MemoryRepo): number {
  let end = 0;
  for (const c of commits(src)) end = c.minTxOffset + c.n;
  return end;
}

/** `0..a`, `a..b`, `b..`, leaving out empty pieces (`0..0` is not empty, Q9, so it is left out too). */
function pieces(a: number, b: number): TxRange[] {
  const out: TxRange[] = [];
  if (a > 0) out.push({ end: a });
  if (b > a) out.push({ start: a, end: b });
  out.push({ start: b });
  return out;
}
