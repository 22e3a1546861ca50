/**
 * Helpers shared by the log-level scenario tests (SPEC §13 conventions, §13.7 harness):
 * `memLog`, `fillLog`, the fault-injecting `ShortMemRepo` and `fillEnospc`.
 */
import { expect } from 'vitest';
import {
  ArrayDecoder,
  type Committed,
  GenericLog,
  IoError,
  MemoryRepo,
  type Options,
  type StorageFile,
} from '../../src/index.js';
import { type StoredCommit } from '../../src/api/codec.js';

/** `GenericLog.open(new MemoryRepo(), { maxSegmentSize })`: no offset index, like the reference tests. */
export function memLog(maxSegmentSize: number, options: Partial<Options> = {}, repo = new MemoryRepo()): GenericLog {
  return GenericLog.open(repo, { ...options, maxSegmentSize });
}

/** The repo a log writes to, typed as the memory repo the helpers create. */
export function memRepoOf(log: GenericLog): MemoryRepo {
  return log.repo as MemoryRepo;
}

/** `counts` is cycled: `[1, 2, 3]` stands for the Rust `(1..=3).cycle()`. */
export function cycle(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/**
 * For `i < k`: append `counts[i % counts.length]` copies of `record` (default: 32 zero bytes), then
 * `commit()`. Returns the number of records written.
 */
export function fillLog(log: GenericLog, k: number, counts: number[], record = new Uint8Array(32)): number {
  let total = 0;
  for (let i = 0; i < k; i++) {
    const n = counts[i % counts.length]!;
    for (let j = 0; j < n; j++) {
      // a plain check: `expect` per record costs more than the append itself
      if (!log.append(record)) throw new Error(`fillLog: commit ${i} is full after ${j} records`);
    }
    log.commit();
    total += n;
  }
  return total;
}

/** Every transaction (32-byte records) of `log` from offset 0, throwing on the first error. */
export function txOffsets(log: GenericLog, from = 0, recordLen = 32): number[] {
  return [...log.transactionsFrom(from, new ArrayDecoder(recordLen))].map((t) => t.offset);
}

/** The plain commit fields (`Commit`), without the stored checksum. */
export function plain(c: StoredCommit): { minTxOffset: number; epoch: number; n: number; records: Uint8Array } {
  return { minTxOffset: c.minTxOffset, epoch: c.epoch, n: c.n, records: c.records };
}

/** Replaces the head's pending commit (the Rust tests assign `log.head.pending`). */
export function setPending(
  log: GenericLog,
  commit: { minTxOffset: number; epoch: number; n: number; records: Uint8Array },
): void {
  const p = log.headWriter.pending;
  p.clear();
  p.minTxOffset = commit.minTxOffset;
  p.epoch = commit.epoch;
  p.records.write(commit.records);
  p.n = commit.n;
}

/** A copy of the head's pending commit. */
export function pendingCopy(log: GenericLog): { minTxOffset: number; epoch: number; n: number; records: Uint8Array } {
  const p = log.headWriter.pending;
  return { minTxOffset: p.minTxOffset, epoch: p.epoch, n: p.n, records: p.records.bytes().slice(22) };
}

// -----------------------------------------------------------------------------------------------
// Fault injection

export const ENOSPC = 'ENOSPC';

/**
 * A segment writer handle that counts the bytes written through it (from 0, per handle) and, once a
 * write would take the count past `limit`, writes `min(1, limit − count)` byte(s) and throws
 * `IoError{errno: ENOSPC}`: a torn commit, as a full disk leaves it (SPEC §13.7).
 */
export class ShortFile implements StorageFile {
  written = 0;
  constructor(
    private readonly inner: StorageFile,
    private readonly limit: number,
  ) {}

  size(): number {
    return this.inner.size();
  }
  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.read(buf, offset, length, position);
  }
  append(buf: Uint8Array, offset: number, length: number): void {
    const n = this.admit(length);
    if (n < length) {
      if (n > 0) this.inner.append(buf, offset, n);
      throw new IoError('no space left on device (ShortMem)', { errno: ENOSPC });
    }
    this.inner.append(buf, offset, length);
  }
  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    const n = this.admit(length);
    if (n < length) {
      if (n > 0) this.inner.writeAt(buf, offset, n, position);
      throw new IoError('no space left on device (ShortMem)', { errno: ENOSPC });
    }
    this.inner.writeAt(buf, offset, length, position);
  }
  truncate(length: number): void {
    this.inner.truncate(length);
  }
  sync(): void {
    this.inner.sync();
  }
  close(): void {
    this.inner.close();
  }

  /** How many of `length` bytes may be written now; counts them. */
  private admit(length: number): number {
    const c = this.written;
    const n = c + length > this.limit ? Math.max(0, Math.min(1, this.limit - c)) : length;
    this.written += n;
    return n;
  }
}

/** `ShortMem(limit)`: a `MemoryRepo` whose segment writer handles are `ShortFile`s. */
export class ShortMemRepo extends MemoryRepo {
  constructor(readonly limit = 800) {
    super();
  }
  override createSegment(offset: number): StorageFile {
    return new ShortFile(super.createSegment(offset), this.limit);
  }
  override openSegmentWriter(offset: number): StorageFile {
    return new ShortFile(super.openSegmentWriter(offset), this.limit);
  }
}

export function isEnospc(e: unknown): boolean {
  return e instanceof IoError && e.errno === ENOSPC;
}

/**
 * Like `fillLog`, but a `commit()` failing with ENOSPC is retried once (the retry goes to the new
 * segment and must succeed); asserts ENOSPC happened at least once. Returns the records written.
 */
export function fillEnospc(log: GenericLog, k: number, counts: number[], record = new Uint8Array(32)): number {
  let total = 0;
  let enospc = 0;
  for (let i = 0; i < k; i++) {
    const n = counts[i % counts.length]!;
    for (let j = 0; j < n; j++) {
      if (!log.append(record)) throw new Error(`fillEnospc: commit ${i} is full after ${j} records`);
    }
    let committed: Committed | null;
    try {
      committed = log.commit();
    } catch (e) {
      if (!isEnospc(e)) throw e;
      enospc++;
      committed = log.commit();
    }
    expect(committed).not.toBeNull();
    expect(committed!.txRange.end - committed!.txRange.start).toBe(n);
    total += n;
  }
  expect(enospc).toBeGreaterThan(0);
  return total;
}

/**
 * A memory repo whose segment handles' `sync` throws once `failSync` is set (fdatasync failure, the
 * case 1.3.0 turns into a panic that poisons the log, SPEC §5.7/§12.7).
 */
export class SyncFailRepo extends MemoryRepo {
  failSync = false;
  private wrap(file: StorageFile): StorageFile {
    const repo = this;
    return {
      size: () => file.size(),
      read: (b, o, l, p) => file.read(b, o, l, p),
      append: (b, o, l) => file.append(b, o, l),
      writeAt: (b, o, l, p) => file.writeAt(b, o, l, p),
      truncate: (l) => file.truncate(l),
      sync: () => {
        if (repo.failSync) throw new IoError('fdatasync failed (injected)', { errno: 'EIO' });
        file.sync();
      },
      close: () => file.close(),
    };
  }
  override createSegment(offset: number): StorageFile {
    return this.wrap(super.createSegment(offset));
  }
  override openSegmentWriter(offset: number): StorageFile {
    return this.wrap(super.openSegmentWriter(offset));
  }
}

/** Byte snapshot of every segment of a memory repo (to check that an operation changed nothing). */
export function snapshot(repo: MemoryRepo): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const [o, buf] of repo.segments) out.set(o, buf.bytes().slice());
  return out;
}

/**
 * L6's setup: commits a record of `byte`s at the head's next offset, then writes that same commit a
 * second time (an exact duplicate on disk). Returns the commit.
 */
export function commitTwice(
  log: GenericLog,
  record: Uint8Array,
): { minTxOffset: number; epoch: number; n: number; records: Uint8Array } {
  log.append(record);
  const commit = pendingCopy(log);
  log.commit();
  setPending(log, commit);
  log.commit();
  return commit;
}
