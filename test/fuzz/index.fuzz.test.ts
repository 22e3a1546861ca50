/**
 * Fuzzing the offset index (issue 8, SPEC §3): random files into `IndexFile.open` and its lookups,
 * appends and truncations (typed errors only, floor-search answers that are real entries), and mutated
 * index files next to valid segments: reading with them (traversal from any offset, metadata, resume,
 * the stream reader, resetTo) must give exactly what reading without any index gives (SPEC §3.7, §12.5).
 * `FUZZ_RUNS` scales the number of cases.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CommitlogError,
  GenericLog,
  IndexError,
  MemoryFile,
  MemoryRepo,
  commits,
  commitsFrom,
  committedMeta,
  resetRepoTo,
  streamCommitsSync,
} from '../../src/index.js';
import { IndexFile } from '../../src/api/ops.js';
import {
  bufferOf,
  cloneMemoryRepo,
  fuzzCounter,
  fuzzRuns,
  mutate,
  mutationsArb,
  timeBound,
  typed,
  FUZZ_TIMEOUT_MS,
  type FuzzLogSpec,
  buildFuzzLog,
  fuzzLogArb,
  fuzzLogOptions,
} from '../helpers/reliability.js';

afterAll(() => console.log(`index fuzz: ${fuzzCounter.cases} cases`));

const U64 = fc.oneof(
  fc.constantFrom(0, 1, 2, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 1000 }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);

/** Index bytes built from (key, value) pairs (any values, any order), plus trailing junk. */
const indexBytesArb = fc
  .record({ entries: fc.array(fc.tuple(U64, U64), { maxLength: 24 }), tail: fc.uint8Array({ maxLength: 40 }) })
  .map(({ entries, tail }) => {
    const out = new Uint8Array(entries.length * 16 + tail.length);
    const v = new DataView(out.buffer);
    entries.forEach(([k, val], i) => {
      v.setBigUint64(i * 16, BigInt(k), true);
      v.setBigUint64(i * 16 + 8, BigInt(val), true);
    });
    out.set(tail, entries.length * 16);
    return out;
  });

describe('fuzz: IndexFile', () => {
  it(
    'random files: open, lookups, appends and truncation give typed errors or consistent answers',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(indexBytesArb, fc.uint8Array({ maxLength: 200 })),
          fc.array(fc.nat({ max: 2000 }), { maxLength: 8 }),
          (bytes, keys) => {
            fuzzCounter.cases++;
            timeBound('index', () => {
              const index = typed('open', () => IndexFile.open(new MemoryFile(bufferOf(bytes), true), true));
              if (!(index instanceof IndexFile)) {
                expect(index).toBeInstanceOf(IndexError);
                return;
              }
              const entries = [...index.entries()];
              expect(entries.length).toBe(index.numEntries);
              expect(index.numEntries).toBeLessThanOrEqual(Math.floor(bytes.length / 16));
              for (const k of [...keys, 0, Number.MAX_SAFE_INTEGER, ...entries.map(([key]) => key)]) {
                const r = typed('keyLookup', () => index.keyLookup(k));
                if (r instanceof Error) {
                  expect(r).toBeInstanceOf(IndexError);
                  continue;
                }
                // Floor search: an entry of the file, never above the key asked for.
                expect(r[0]).toBeLessThanOrEqual(k);
                expect(entries.some(([key, value]) => key === r[0] && value === r[1])).toBe(true);
              }
              for (const k of keys.slice(0, 2)) typed('append', () => index.append(k, k * 10));
              const cut = keys[0] ?? 1;
              const sorted = entries.every(([key], i) => i === 0 || entries[i - 1]![0] < key);
              const t = typed('truncate', () => index.truncate(cut));
              // SPEC §3.6's promise holds for a well-formed index (strictly increasing keys).
              if (sorted && !(t instanceof Error)) for (const [key] of index.entries()) expect(key).toBeLessThan(cut);
            });
          },
        ),
        { numRuns: fuzzRuns(1000) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

/** What reading `repo` gives, as comparable strings; index files are used wherever the reader uses them. */
function readings(repo: MemoryRepo, s: FuzzLogSpec, probes: number[]): string[] {
  const show = (r: unknown) => {
    const x = r as {
      ok: boolean;
      value?: { minTxOffset: number; n: number; checksum: number };
      error?: CommitlogError;
    };
    return x.ok ? `${x.value!.minTxOffset}/${x.value!.n}/${x.value!.checksum}` : `E:${x.error!.code}`;
  };
  const out = [JSON.stringify([...commits(repo, { errors: 'yield' })].map(show))];
  for (const o of probes) {
    out.push(JSON.stringify([...commitsFrom(repo, o, { errors: 'yield' })].map(show)));
    out.push(Buffer.concat([...streamCommitsSync(repo, { start: o })]).toString('hex'));
    const copy = cloneMemoryRepo(repo, true);
    const reset = typed('resetTo', () => resetRepoTo(copy, o));
    out.push(
      reset instanceof Error
        ? reset.code
        : [...copy.segments.values()].map((b) => Buffer.from(b.bytes()).toString('hex')).join('|'),
    );
  }
  const meta = committedMeta(repo);
  out.push(JSON.stringify(meta && { txRange: meta.txRange, size: meta.sizeInBytes, maxEpoch: meta.maxEpoch }));
  const log = GenericLog.open(cloneMemoryRepo(repo, true), fuzzLogOptions(s));
  out.push(`${log.maxCommittedOffset()} e${log.epoch} ${log.existingSegmentOffsets()}`);
  log.close();
  return out;
}

describe('fuzz: damaged index files never change what is read', () => {
  it(
    'mutated index files of a valid log',
    () => {
      fc.assert(
        fc.property(
          fuzzLogArb,
          fc.array(fc.record({ which: fc.nat(), mutations: mutationsArb }), { minLength: 1, maxLength: 3 }),
          fc.array(fc.nat({ max: 80 }), { minLength: 1, maxLength: 4 }),
          (s, damage, probes) => {
            fuzzCounter.cases++;
            const repo = buildFuzzLog(s);
            const plain = cloneMemoryRepo(repo, true, false);
            const keys = [...repo.indexes.keys()];
            for (const d of damage) {
              if (keys.length === 0) break;
              const k = keys[d.which % keys.length]!;
              repo.indexes.set(k, bufferOf(mutate(repo.indexes.get(k)!.bytes(), d.mutations)));
            }
            timeBound('readings', () => expect(readings(repo, s, probes)).toEqual(readings(plain, s, probes)));
          },
        ),
        { numRuns: fuzzRuns(150, 0.1) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'index files of random entries next to a valid log',
    () => {
      fc.assert(
        fc.property(
          fuzzLogArb,
          indexBytesArb,
          fc.nat(),
          fc.array(fc.nat({ max: 80 }), { minLength: 1, maxLength: 3 }),
          (s, bytes, which, probes) => {
            fuzzCounter.cases++;
            const repo = buildFuzzLog(s);
            const plain = cloneMemoryRepo(repo, true, false);
            const keys = [...repo.segments.keys()];
            repo.indexes.set(keys[which % keys.length]!, bufferOf(bytes));
            timeBound('readings', () => expect(readings(repo, s, probes)).toEqual(readings(plain, s, probes)));
          },
        ),
        { numRuns: fuzzRuns(150, 0.1) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
