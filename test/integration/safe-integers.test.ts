/**
 * Offsets and epochs are JS numbers (SPEC §0.2): values above Number.MAX_SAFE_INTEGER, passed in or
 * read from disk, are rejected with typed errors and never rounded. Options are validated (§1.2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ChecksumMismatchError,
  Commitlog,
  GenericLog,
  InvalidCommitError,
  InvalidDataError,
  InvalidInputError,
  MemoryRepo,
  TraversalIoError,
  commits,
  commitsFrom,
  committedMeta,
  foldTransactionsFrom,
  rawDecoder,
  resetTo,
  transactions,
  transactionsFrom,
  type Options,
  type Repo,
} from '../../src/index.js';
import { crc32c } from '../../src/api/codec.js';
import { useTmpDirs } from '../helpers/common.js';

const HEADER = Uint8Array.from([0x28, 0x64, 0x73, 0x29, 0x5e, 0x32, 0x01, 0x00, 0x00, 0x00]); // SPEC A.1
const MAX = Number.MAX_SAFE_INTEGER;

const tmpDir = useTmpDirs('clog-');

/** A v1 commit with arbitrary u64 fields and a correct CRC (§2.3), built without the library's encoder. */
function rawCommit(minTxOffset: bigint, epoch: bigint, records: Uint8Array, n = 1): Uint8Array {
  const b = new Uint8Array(26 + records.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, minTxOffset, true);
  v.setBigUint64(8, epoch, true);
  v.setUint16(16, n, true);
  v.setUint32(18, records.length, true);
  b.set(records, 22);
  v.setUint32(22 + records.length, crc32c(b.subarray(0, 22 + records.length)), true);
  return b;
}

function segment(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat([HEADER, ...parts]));
}

function memRepoWith(bytes: Uint8Array): MemoryRepo {
  const repo = new MemoryRepo();
  const f = repo.createSegment(0);
  f.append(bytes, 0, bytes.length);
  f.close();
  return repo;
}

function expectInvalidInput(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidInputError);
  expect((err as InvalidInputError).code).toBe('INVALID_INPUT');
}

describe('offsets and epochs passed in', () => {
  const unsafe = [2 ** 53, 2 ** 60, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY];

  it('setEpoch rejects non-u64 or unsafe epochs; MAX_SAFE_INTEGER round-trips exactly', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo);
    for (const e of unsafe) expectInvalidInput(() => log.setEpoch(e));
    expect(log.epoch).toBe(0);
    log.setEpoch(MAX);
    expect(log.epoch).toBe(MAX);
    log.append(Uint8Array.of(1));
    log.commit();
    expect([...log.commits()].map((c) => c.epoch)).toEqual([MAX]);
    log.close();
    const reopened = GenericLog.open(repo);
    expect(reopened.epoch).toBe(MAX);
    reopened.close();
  });

  it('commitsFrom / transactionsFrom / foldTransactionsFrom reject bad offsets', () => {
    const log = GenericLog.open(new MemoryRepo());
    log.append(Uint8Array.of(1));
    log.commit();
    for (const o of unsafe) {
      expectInvalidInput(() => [...log.commitsFrom(o)]);
      expectInvalidInput(() => [...log.commitsFrom(o, { errors: 'yield' })]);
      expectInvalidInput(() => [...log.transactionsFrom(o, rawDecoder)]);
      expectInvalidInput(() => log.foldTransactionsFrom(o, rawDecoder));
    }
  });

  it('resetTo(2**60) and other bad offsets are InvalidInputError', () => {
    for (const o of unsafe) {
      const log = GenericLog.open(new MemoryRepo());
      log.append(Uint8Array.of(1));
      log.commit();
      expectInvalidInput(() => log.resetTo(o));
    }
  });

  it('the free functions and Commitlog reject bad offsets too', () => {
    const dir = tmpDir();
    const log = Commitlog.open(dir);
    log.appendMaybeFlush(Uint8Array.of(1));
    log.flush();
    for (const o of unsafe) {
      expectInvalidInput(() => [...log.commitsFrom(o)]);
      expectInvalidInput(() => log.setEpoch(o));
      expectInvalidInput(() => [...commitsFrom(dir, o)]);
      expectInvalidInput(() => [...transactionsFrom(dir, o, rawDecoder)]);
      expectInvalidInput(() => foldTransactionsFrom(dir, o, rawDecoder));
      expectInvalidInput(() => resetTo(dir, o));
    }
    expect(log.maxCommittedOffset()).toBe(0);
    log.close();
    expect([...commits(dir)].length).toBe(1);
  });
});

describe('offsets and epochs read from disk', () => {
  const good = rawCommit(0n, 0n, Uint8Array.of(7));
  const cases: [string, Uint8Array][] = [
    ['minTxOffset 2^53', rawCommit(2n ** 53n, 0n, Uint8Array.of(8))],
    ['minTxOffset 2^64-1', rawCommit(2n ** 64n - 1n, 0n, Uint8Array.of(8))],
    ['epoch 2^53', rawCommit(1n, 2n ** 53n, Uint8Array.of(8))],
    ['epoch 2^63', rawCommit(1n, 2n ** 63n, Uint8Array.of(8))],
  ];

  /** The error must be TraversalIoError(InvalidDataError), not a checksum error: the CRC is valid. */
  function expectUnsafeTraversalError(err: unknown): void {
    expect(err).toBeInstanceOf(TraversalIoError);
    const cause = (err as Error).cause;
    expect(cause).toBeInstanceOf(InvalidDataError);
    expect(cause).not.toBeInstanceOf(ChecksumMismatchError);
  }

  for (const [name, bad] of cases) {
    it(`${name} after a valid commit: traversal yields a typed error, never a rounded number`, () => {
      const repo = memRepoWith(segment(good, bad));
      const results = [...commits(repo, { errors: 'yield' })];
      expect(results.length).toBe(2);
      expect(results[0]!.ok && results[0]!.value.minTxOffset).toBe(0);
      expect(results[1]!.ok).toBe(false);
      if (!results[1]!.ok) expectUnsafeTraversalError(results[1]!.error);

      // Throwing mode: the valid commit, then the error.
      const seen: number[] = [];
      let err: unknown;
      try {
        for (const c of commits(repo)) seen.push(c.minTxOffset, c.epoch);
      } catch (e) {
        err = e;
      }
      expect(seen).toEqual([0, 0]);
      expectUnsafeTraversalError(err);

      const txs = [...transactions(repo, rawDecoder, { errors: 'yield' })];
      expect(txs.length).toBe(2);
      expect(txs[0]!.ok && txs[0]!.value.offset).toBe(0);
      expect(txs[1]!.ok).toBe(false);
    });

    it(`${name} as the only commit: the error is the only item`, () => {
      const repo = memRepoWith(segment(bad));
      const results = [...commits(repo, { errors: 'yield' })];
      expect(results.length).toBe(1);
      expect(results[0]!.ok).toBe(false);
      if (!results[0]!.ok) expectUnsafeTraversalError(results[0]!.error);
    });

    it(`${name}: committedMeta throws a typed error instead of reporting the value`, () => {
      const repo = memRepoWith(segment(good, bad));
      let err: unknown;
      try {
        committedMeta(repo);
      } catch (e) {
        err = e;
      }
      // §6.4: an InvalidData decode error is an invalid commit after the valid prefix [0, 1).
      if (err instanceof InvalidCommitError) {
        expect(err.sofar.txRange).toEqual({ start: 0, end: 1 });
        expect(err.cause).toBeInstanceOf(InvalidDataError);
      } else {
        expect(err).toBeInstanceOf(InvalidDataError);
      }
    });
  }

  it('on a real directory as well', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, '00000000000000000000.stdb.log'), segment(good, cases[0]![1]));
    const results = [...commits(dir, { errors: 'yield' })];
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    if (!results[1]!.ok) expectUnsafeTraversalError(results[1]!.error);
  });

  it('an index entry with an unsafe key only disables seeking (§12.5)', () => {
    const repo = new MemoryRepo({ offsetIndex: true });
    const bytes = segment(good, rawCommit(1n, 0n, Uint8Array.of(9)));
    const f = repo.createSegment(0);
    f.append(bytes, 0, bytes.length);
    f.close();
    const idx = repo.createOffsetIndex(0, 2);
    const entry = new Uint8Array(16);
    new DataView(entry.buffer).setBigUint64(0, 2n ** 53n, true);
    new DataView(entry.buffer).setBigUint64(8, 10n, true);
    idx.writeAt(entry, 0, 16, 0);
    idx.close();
    expect([...commitsFrom(repo as Repo, 1)].map((c) => c.minTxOffset)).toEqual([1]);
    expect([...commits(repo)].map((c) => c.minTxOffset)).toEqual([0, 1]);
  });
});

describe('options validation (§1.2)', () => {
  const bad: Partial<Record<keyof Options, unknown>>[] = [
    { maxRecordsInCommit: 0 },
    { maxRecordsInCommit: 65536 },
    { maxRecordsInCommit: 1.5 },
    { maxRecordsInCommit: -1 },
    { offsetIndexIntervalBytes: 0 },
    { offsetIndexIntervalBytes: -4096 },
    { offsetIndexIntervalBytes: 0.5 },
    { maxSegmentSize: -1 },
    { maxSegmentSize: 1.5 },
    { maxSegmentSize: Number.NaN },
    { logFormatVersion: 256 },
    { logFormatVersion: -1 },
    { logFormatVersion: 0.5 },
    { maxRecordsInCommit: '10' },
    { offsetIndexRequireSegmentFsync: 'yes' },
  ];

  for (const opts of bad) {
    it(`rejects ${JSON.stringify(opts, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}`, () => {
      expectInvalidInput(() => GenericLog.open(new MemoryRepo(), opts as Partial<Options>));
      const dir = tmpDir();
      expectInvalidInput(() => Commitlog.open(dir, opts as Partial<Options>));
    });
  }

  it('accepts the boundary values', () => {
    const ok: Partial<Options>[] = [
      { maxRecordsInCommit: 1 },
      { maxRecordsInCommit: 65535 },
      { offsetIndexIntervalBytes: 1 },
      { maxSegmentSize: 0 },
      { maxSegmentSize: MAX },
      { logFormatVersion: 0 },
      { logFormatVersion: 1 },
      { offsetIndexRequireSegmentFsync: true },
    ];
    for (const o of ok) {
      const log = GenericLog.open(new MemoryRepo(), o);
      expect(log.options).toMatchObject(o);
      log.close();
    }
  });
});
