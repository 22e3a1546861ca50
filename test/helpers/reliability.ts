/**
 * Helpers of the reliability suites (issue 8: test/fault/faulty-repo, test/fault/crash-loop, test/fuzz):
 * what "traverses cleanly" means, copying memory repos, checking that only typed errors escape, and
 * the byte mutations the fuzzers apply.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  CommitlogError,
  GenericLog,
  MemoryBuffer,
  MemoryRepo,
  type Options,
  TraversalChecksumError,
  TraversalIoError,
} from '../../src/index.js';
import { type StoredCommit } from '../../src/api/codec.js';

/**
 * Traverses `log` and checks it is clean: contiguous from offset 0, and no error except a deferred
 * read error as the very last item while the head segment holds no commit yet (SPEC §7.2/§7.3: such
 * an error is forgotten as soon as the head's first commit follows). Returns the commits.
 */
export function cleanCommits(log: GenericLog, where: string): StoredCommit[] {
  const out: StoredCommit[] = [];
  const items = [...log.commits({ errors: 'yield' })];
  items.forEach((r, i) => {
    if (r.ok) {
      const last = out[out.length - 1];
      const expected = last ? last.minTxOffset + last.n : 0;
      if (r.value.minTxOffset !== expected)
        throw new Error(`${where}: commit at ${r.value.minTxOffset}, expected ${expected}`);
      out.push(r.value);
      return;
    }
    const trailing = i === items.length - 1 && log.headWriter.isEmpty();
    const deferred = r.error instanceof TraversalChecksumError || r.error instanceof TraversalIoError;
    if (!trailing || !deferred)
      throw new Error(`${where}: traversal error ${r.error.message} (item ${i} of ${items.length})`);
  });
  return out;
}

/** Appends one commit to a reopened log and traverses again: it must follow contiguously, cleanly. */
export function checkAppendContinues(log: GenericLog, got: StoredCommit[], where: string): void {
  const last = got[got.length - 1];
  const end = last ? last.minTxOffset + last.n : 0;
  expect(log.append(Uint8Array.of(0xaa, 0xbb))).toBe(true);
  const c = log.flushAndSync();
  expect(c?.txRange, `${where}: append after reopen`).toEqual({ start: end, end: end + 1 });
  expect(cleanCommits(log, `${where} (after append)`).length, where).toBe(got.length + 1);
  const items = [...log.commits({ errors: 'yield' })];
  expect(
    items.every((r) => r.ok),
    `${where}: traversal after append is clean`,
  ).toBe(true);
}

/** A traversal item as a comparable string: `offset/n/checksum`, or `E:<code>`. */
export function summarise(r: unknown): string {
  const x = r as { ok: boolean; value?: StoredCommit; error?: CommitlogError };
  return x.ok ? `${x.value!.minTxOffset}/${x.value!.n}/${x.value!.checksum}` : `E:${x.error!.code}`;
}

/** A copy of a memory repo's segments (and, with `indexes`, its index files). */
export function cloneMemoryRepo(src: MemoryRepo, withIndex: boolean, indexes = true): MemoryRepo {
  const copy = new MemoryRepo({ offsetIndex: withIndex });
  const dup = (b: MemoryBuffer) => {
    const c = new MemoryBuffer();
    c.write(b.bytes().slice(), 0);
    return c;
  };
  for (const [o, b] of src.segments) copy.segments.set(o, dup(b));
  if (indexes) for (const [o, b] of src.indexes) copy.indexes.set(o, dup(b));
  return copy;
}

/** A memory buffer holding `bytes`. */
export function bufferOf(bytes: Uint8Array): MemoryBuffer {
  const b = new MemoryBuffer();
  b.write(bytes, 0);
  return b;
}

/** Throws unless `e` is one of the library's typed errors (an `AssertionError` is a bug, not a reply). */
export function expectTyped(e: unknown, where: string): asserts e is CommitlogError {
  if (!(e instanceof CommitlogError) || e.code === 'ASSERTION') {
    throw new Error(`${where}: not a typed error: ${(e as Error)?.stack ?? String(e)}`);
  }
}

/** Runs `f`; a typed error is an acceptable answer (returned), anything else fails the test. */
export function typed<R>(where: string, f: () => R): R | CommitlogError {
  try {
    return f();
  } catch (e) {
    expectTyped(e, where);
    return e;
  }
}

export async function typedAsync<R>(where: string, f: () => Promise<R>): Promise<R | CommitlogError> {
  try {
    return await f();
  } catch (e) {
    expectTyped(e, where);
    return e;
  }
}

/** Generous: a case of these fuzzers takes milliseconds; only a hang or a huge allocation takes this long. */
export const CASE_TIME_LIMIT_MS = 2_000;

/** Fails if one fuzz case took longer than `CASE_TIME_LIMIT_MS`. */
export function timeBound<R>(where: string, f: () => R): R {
  const t0 = performance.now();
  const r = f();
  const ms = performance.now() - t0;
  if (ms > CASE_TIME_LIMIT_MS) throw new Error(`${where}: took ${ms.toFixed(0)} ms (limit ${CASE_TIME_LIMIT_MS} ms)`);
  return r;
}

/** Number of runs: `FUZZ_RUNS` (the long campaign of `npm run fuzz`) times `weight`, else `quick`. */
export function fuzzRuns(quick: number, weight = 1): number {
  const env = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(env) && env > 0 ? Math.max(1, Math.round(env * weight)) : quick;
}

/** Test timeout: the default one for the quick runs, none to speak of for a `FUZZ_RUNS` campaign. */
export const FUZZ_TIMEOUT_MS = process.env.FUZZ_RUNS ? 24 * 3600_000 : 60_000;

/** Cases run by the fuzz properties of this process (for RELIABILITY.md). */
export const fuzzCounter = { cases: 0 };

// -----------------------------------------------------------------------------------------------
// Mutations

/** Length fields worth trying: empty, tiny, the 22/26-byte framing edges, and the largest values. */
const INTERESTING_U32 = [0, 1, 4, 21, 22, 25, 26, 0x7fff_ffff, 0xffff_fffe, 0xffff_ffff];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64max'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number; to: number }
  | { kind: 'zero'; at: number; len: number };

const pos = fc.nat();
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: pos, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('u32' as const),
    at: pos,
    value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.integer({ min: 0, max: 0xffff_ffff })),
  }),
  fc.record({ kind: fc.constant('u64max' as const), at: pos }),
  fc.record({ kind: fc.constant('truncate' as const), at: pos }),
  fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: pos, len: fc.integer({ min: 1, max: 80 }), to: pos }),
  fc.record({ kind: fc.constant('zero' as const), at: pos, len: fc.integer({ min: 1, max: 64 }) }),
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 5 });

/** Applies `mutations` in order to a copy of `bytes` (positions taken modulo the current length). */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = bytes.slice();
  for (const m of mutations) {
    const n = b.length;
    const at = n === 0 ? 0 : m.at % n;
    switch (m.kind) {
      case 'flip':
        if (n > 0) b[at]! ^= 1 << m.bit;
        break;
      case 'set':
        if (n > 0) b[at] = m.value;
        break;
      case 'u32':
        if (n >= 4) new DataView(b.buffer, b.byteOffset).setUint32(Math.min(at, n - 4), m.value >>> 0, true);
        break;
      case 'u64max':
        if (n >= 8) new DataView(b.buffer, b.byteOffset).setBigUint64(Math.min(at, n - 8), (1n << 64n) - 1n, true);
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert': {
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at));
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(n, at + m.len))]);
        break;
      case 'duplicate': {
        const piece = b.slice(at, Math.min(n, at + m.len));
        const to = n === 0 ? 0 : m.to % (n + 1);
        const out = new Uint8Array(n + piece.length);
        out.set(b.subarray(0, to));
        out.set(piece, to);
        out.set(b.subarray(to), to + piece.length);
        b = out;
        break;
      }
      case 'zero':
        b.fill(0, at, Math.min(n, at + m.len));
        break;
    }
  }
  return b;
}

// -----------------------------------------------------------------------------------------------
// Valid logs to damage

export interface FuzzLogSpec {
  recordLen: number;
  commits: { n: number; epochBump: boolean }[];
  maxSegmentSize: number;
  interval: number;
}

/** Small logs: many segments, frequent index entries, small epochs next to small offsets. */
export const fuzzLogArb: fc.Arbitrary<FuzzLogSpec> = fc.record({
  recordLen: fc.integer({ min: 1, max: 24 }),
  commits: fc.array(fc.record({ n: fc.integer({ min: 1, max: 3 }), epochBump: fc.boolean() }), { maxLength: 30 }),
  maxSegmentSize: fc.integer({ min: 40, max: 700 }),
  interval: fc.integer({ min: 1, max: 120 }),
});

export const fuzzLogOptions = (s: FuzzLogSpec): Partial<Options> => ({
  maxSegmentSize: s.maxSegmentSize,
  offsetIndexIntervalBytes: s.interval,
  maxRecordsInCommit: 3,
});

/** A valid log written by the library, with offset index files; record bytes differ per record. */
export function buildFuzzLog(s: FuzzLogSpec): MemoryRepo {
  const mem = new MemoryRepo({ offsetIndex: true });
  const log = GenericLog.open(mem, fuzzLogOptions(s));
  let k = 0;
  for (const c of s.commits) {
    if (c.epochBump) log.setEpoch(log.epoch + 1);
    for (let i = 0; i < c.n; i++) log.append(new Uint8Array(s.recordLen).fill(k++ & 0xff));
    log.commit();
  }
  log.close();
  return mem;
}
