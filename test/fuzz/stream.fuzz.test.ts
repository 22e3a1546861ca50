/**
 * Fuzzing StreamWriter (issue 8, SPEC §11.3): the byte stream of a valid log (from the stream reader),
 * mutated and split into random chunks, or plain random bytes, is appended to an empty destination or
 * to one holding the source's prefix. Only typed errors may escape, every case ends within a time
 * bound, and a hostile stream never damages the destination: whenever every segment header it wrote
 * is a plain v1 header (the version byte is copied unchecked, §11.3.2), the destination opens, traverses
 * cleanly, holds a prefix of the source's commits, and takes appends. `FUZZ_RUNS` scales the cases.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GenericLog,
  MemoryRepo,
  type Options,
  StreamWriter,
  commits,
  resetRepoTo,
  streamCommitsSync,
} from '../../src/index.js';
import {
  CASE_TIME_LIMIT_MS,
  cleanCommits,
  cloneMemoryRepo,
  fuzzCounter,
  fuzzRuns,
  mutate,
  mutationsArb,
  typedAsync,
  FUZZ_TIMEOUT_MS,
} from '../helpers/reliability.js';

afterAll(() => console.log(`stream fuzz: ${fuzzCounter.cases} cases`));

const OPTIONS: Partial<Options> = { maxSegmentSize: 300, offsetIndexIntervalBytes: 32, maxRecordsInCommit: 3 };

/** One source log for the whole file: 60 commits over several segments, with index files. */
const source = (() => {
  const mem = new MemoryRepo({ offsetIndex: true });
  const log = GenericLog.open(mem, OPTIONS);
  for (let i = 0; i < 60; i++) {
    if (i % 7 === 0) log.setEpoch(log.epoch + 1);
    for (let r = 0; r <= i % 3; r++) log.append(new Uint8Array(5 + ((i * 7) % 23)).fill(i));
    log.commit();
  }
  log.close();
  return mem;
})();
const sourceCommits = [...commits(source)];
const key = (c: { minTxOffset: number; n: number; checksum: number }) => `${c.minTxOffset}/${c.n}/${c.checksum}`;

/** A destination holding the source's commits below `start` (a commit boundary), or nothing. */
function destination(start: number): MemoryRepo {
  const dst = cloneMemoryRepo(source, true);
  if (start === 0) {
    dst.segments.clear();
    dst.indexes.clear();
  } else {
    resetRepoTo(dst, start - 1);
  }
  return dst;
}

function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length]! : bytes.length);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function appendAndCheck(dst: MemoryRepo, stream: Uint8Array, sizes: number[], trim: boolean): Promise<void> {
  fuzzCounter.cases++;
  const t0 = performance.now();
  const writer = await typedAsync('create', async () => StreamWriter.create(dst, OPTIONS, trim ? 'trim' : 'error'));
  if (writer instanceof StreamWriter) {
    await typedAsync('appendAll', () => writer.appendAll(chunked(stream, sizes)));
    await typedAsync('syncAll', () => writer.syncAll());
    await writer.close();
  }
  expect(performance.now() - t0).toBeLessThan(CASE_TIME_LIMIT_MS);
  // Every segment header in the destination a plain v1 one: nothing may be damaged.
  const plainHeaders = [...dst.segments.values()].every((b) => b.length < 10 || (b.data[6] === 1 && b.data[7] === 0));
  if (!plainHeaders) return;
  const log = GenericLog.open(cloneMemoryRepo(dst, true), OPTIONS);
  const got = cleanCommits(log, 'destination after the stream').map(key);
  expect(got).toEqual(sourceCommits.slice(0, got.length).map(key));
  const c = (log.append(new Uint8Array(3)), log.commit());
  expect(c?.txRange.start).toBe(
    got.length === 0 ? 0 : sourceCommits[got.length - 1]!.minTxOffset + sourceCommits[got.length - 1]!.n,
  );
  log.close();
}

const startArb = fc.nat({ max: sourceCommits.length - 1 }).map((i) => (i === 0 ? 0 : sourceCommits[i]!.minTxOffset));
const sizesArb = fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 6 });

describe('fuzz: StreamWriter', () => {
  it(
    'mutated streams of a valid log, any chunking, into an empty or a prefix destination',
    async () => {
      await fc.assert(
        fc.asyncProperty(startArb, mutationsArb, sizesArb, fc.boolean(), async (start, mutations, sizes, trim) => {
          const stream = Buffer.concat([...streamCommitsSync(source, { start })]);
          await appendAndCheck(destination(start), mutate(stream, mutations), sizes, trim);
        }),
        { numRuns: fuzzRuns(300, 0.25) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'random bytes, with or without a segment header in front',
    async () => {
      const header = Buffer.concat([...streamCommitsSync(source, { start: 0 })]).subarray(0, 10);
      await fc.assert(
        fc.asyncProperty(
          startArb,
          fc.uint8Array({ maxLength: 400 }),
          fc.boolean(),
          sizesArb,
          async (start, junk, withHeader, sizes) => {
            const stream = withHeader ? Buffer.concat([header, junk]) : junk;
            await appendAndCheck(destination(start), stream, sizes, false);
          },
        ),
        { numRuns: fuzzRuns(300, 0.25) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
