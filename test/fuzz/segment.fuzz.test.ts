/**
 * Fuzzing every reader of segment files (issue 8): random and mutated segments (bit flips, bytes,
 * huge length fields, u64 offsets past 2^53, truncation, insertions, deletions, duplicated ranges,
 * zeroed ranges) are fed to traversal (commits, transactions, fold, both error modes), open/resume on
 * a copy (then appending), committedMeta, extractMetadata, the stream reader and resetTo. Only typed
 * errors may escape (SPEC §12), every case ends within a time bound, and no length read from a file
 * is allocated before it is checked (a 4 GiB `len` in a tiny file fails fast, SPEC §2.3 step 3).
 * `FUZZ_RUNS` scales the number of cases.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArrayDecoder,
  CommitlogError,
  GenericLog,
  MemoryFile,
  MemoryRepo,
  TraversalError,
  commits,
  commitsFrom,
  committedMeta,
  foldTransactions,
  resetRepoTo,
  streamCommitsSync,
  transactions,
} from '../../src/index.js';
import { IndexFile, extractMetadata } from '../../src/api/ops.js';
import { encodeCommit, encodeSegmentHeader } from '../../src/api/codec.js';
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

afterAll(() => console.log(`segment fuzz: ${fuzzCounter.cases} cases`));

/** Everything that reads segments, on `repo` (never modified: writers get copies). */
function exercise(repo: MemoryRepo, spec: FuzzLogSpec, probe: number): void {
  fuzzCounter.cases++;
  const options = fuzzLogOptions(spec);
  const decoder = new ArrayDecoder(spec.recordLen);
  timeBound('case', () => {
    typed('commits (yield)', () => {
      for (const r of commits(repo, { errors: 'yield' })) if (!r.ok) expect(r.error).toBeInstanceOf(TraversalError);
    });
    typed('commits (throw)', () => [...commits(repo)]);
    typed('commitsFrom', () => [...commitsFrom(repo, probe, { errors: 'yield' })]);
    typed('transactions', () => {
      for (const r of transactions(repo, decoder, { errors: 'yield' }))
        if (!r.ok) expect(r.error).toBeInstanceOf(CommitlogError);
    });
    typed('fold', () => foldTransactions(repo, decoder));
    typed('committedMeta', () => committedMeta(repo));
    for (const offset of repo.existingOffsets()) {
      for (const withIndex of [false, true]) {
        typed('extractMetadata', () => {
          const file = repo.openSegmentReader(offset);
          const index = withIndex ? typed('index', () => IndexFile.open(repo.getOffsetIndex(offset), false)) : null;
          try {
            return extractMetadata(offset, file, index instanceof IndexFile ? index : null);
          } finally {
            if (index instanceof IndexFile) index.close();
          }
        });
      }
    }
    typed('streamCommitsSync', () => [...streamCommitsSync(repo, { start: probe })]);
    typed('resetTo', () => resetRepoTo(cloneMemoryRepo(repo, true), probe));
    const copy = cloneMemoryRepo(repo, true);
    const log = typed('open', () => GenericLog.open(copy, options));
    if (log instanceof GenericLog) {
      // Whatever was repaired, the opened log takes appends and reads back what it can.
      typed('traversal after open', () => [...log.commits({ errors: 'yield' })]);
      const end = log.maxCommittedOffset();
      expect(log.append(new Uint8Array(spec.recordLen))).toBe(true);
      const c = log.commit();
      expect(c?.txRange.start).toBe(end === null ? 0 : end + 1);
      log.close();
    }
  });
}

const targetsArb = fc.array(fc.record({ index: fc.boolean(), which: fc.nat(), mutations: mutationsArb }), {
  minLength: 1,
  maxLength: 3,
});

describe('fuzz: segments', () => {
  it(
    'mutated logs written by the library: typed errors only, bounded time',
    () => {
      fc.assert(
        fc.property(fuzzLogArb, targetsArb, fc.nat({ max: 120 }), (spec, targets, probe) => {
          const repo = buildFuzzLog(spec);
          for (const t of targets) {
            const files = t.index ? repo.indexes : repo.segments;
            const keys = [...files.keys()];
            if (keys.length === 0) continue;
            const key = keys[t.which % keys.length]!;
            files.set(key, bufferOf(mutate(files.get(key)!.bytes(), t.mutations)));
          }
          exercise(repo, spec, probe);
        }),
        { numRuns: fuzzRuns(400) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'random bytes after a valid header (v0 and v1), and random files',
    () => {
      const fileArb = fc.record({
        header: fc.constantFrom<'v1' | 'v0' | 'none'>('v1', 'v1', 'v0', 'none'),
        body: fc.uint8Array({ maxLength: 300 }),
      });
      fc.assert(
        fc.property(
          fc.array(fileArb, { minLength: 1, maxLength: 3 }),
          fc.array(fc.nat({ max: 40 }), { minLength: 3, maxLength: 3 }),
          fc.nat({ max: 60 }),
          (files, starts, probe) => {
            const repo = new MemoryRepo({ offsetIndex: true });
            let offset = 0;
            files.forEach((f, i) => {
              const header =
                f.header === 'none'
                  ? new Uint8Array(0)
                  : encodeSegmentHeader({ logFormatVersion: f.header === 'v0' ? 0 : 1, checksumAlgorithm: 0 });
              const bytes = new Uint8Array(header.length + f.body.length);
              bytes.set(header);
              bytes.set(f.body, header.length);
              repo.segments.set(offset, bufferOf(bytes));
              offset += starts[i]!;
            });
            exercise(repo, { recordLen: 4, commits: [], maxSegmentSize: 300, interval: 16 }, probe);
          },
        ),
        { numRuns: fuzzRuns(300) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a commit claiming a huge length, or an offset beyond 2^53, in a tiny file fails fast and typed',
    () => {
      const header = encodeSegmentHeader({ logFormatVersion: 1, checksumAlgorithm: 0 });
      const commit = encodeCommit({ minTxOffset: 0, epoch: 0, n: 1, records: new Uint8Array(8) }).bytes;
      const v = new DataView(commit.buffer);
      for (const [at, set] of [
        [18, () => v.setUint32(18, 0xffff_ffff, true)],
        [18, () => v.setUint32(18, 0x7fff_ffff, true)],
        [0, () => v.setBigUint64(0, (1n << 64n) - 1n, true)],
        [8, () => v.setBigUint64(8, 1n << 60n, true)],
      ] as const) {
        const saved = commit.slice();
        set();
        const repo = new MemoryRepo();
        const bytes = new Uint8Array(header.length + commit.length);
        bytes.set(header);
        bytes.set(commit, header.length);
        repo.segments.set(0, bufferOf(bytes));
        const before = process.memoryUsage().arrayBuffers;
        exercise(repo, { recordLen: 8, commits: [], maxSegmentSize: 300, interval: 16 }, 0);
        // Nothing near the claimed size was allocated (a generous 64 MiB of slack for the runtime).
        expect(process.memoryUsage().arrayBuffers - before, `field at ${at}`).toBeLessThan(64 * 1024 * 1024);
        const file = new MemoryFile(repo.segments.get(0)!, false);
        expect(() => extractMetadata(0, file, null)).toThrow(CommitlogError);
        commit.set(saved);
      }
    },
    FUZZ_TIMEOUT_MS,
  );
});
