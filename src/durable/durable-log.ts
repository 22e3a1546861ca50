/**
 * `DurableLog`: group commit on top of the synchronous core (issue 7). `append` buffers a record and
 * returns its offset at once; a background cycle writes the pending commit and fdatasyncs the head in
 * the libuv thread pool (`GenericLog.syncAsync`). Records appended while a sync is in flight go into
 * the next commit(s) and share the next fsync.
 *
 * fsync off the event loop: the libuv pool (`fs.fdatasync`) against a worker thread running
 * `fdatasyncSync` on request through a SharedArrayBuffer (`Atomics.notify`, completion by
 * `Atomics.waitAsync`), same loop of one 200-byte write + fdatasync (`node dist/bench/durable.js`,
 * head-to-head rows). Measured 2026-11-24 on this 2-vCPU VM (ext4, shared disk): pool ÷ worker =
 * 1.05× and 0.95× in two full runs, 1.02× and 1.01× in two runs of 80 alternating 0.1 s rounds (pool
 * ahead in 52/80 and 45/80 rounds, ~4,200–4,500 syncs/s each). Equal within noise, the pool marginally
 * ahead, so we keep the pool: no extra thread, and `FsFile` already defers a `close` until its async
 * fsync is done, which a worker holding a raw descriptor would have to duplicate. (A worker spinning
 * instead of sleeping was slower on 2 shared cores.)
 *
 * Preallocation (`preallocateBytes`, default 1 MiB with a directory): zeros kept ahead of the head
 * segment make a durable commit's fdatasync skip the journal commit for the size change; measured
 * 1.19–1.27× the single-producer commits/s here, the speed of a raw pool loop over a preallocated file.
 *
 * Failure model: an fsync error poisons the log (it cannot be retried safely: the kernel may have
 * dropped the dirty pages); waiters get the `FsyncFailedError`. A write error is terminal too
 * (`LogWriteFailedError`, a `PoisonedError`): the core would retry the commit in a new segment after a
 * possibly torn one, not worth the risk here. Either way every waiter on an offset not yet durable is
 * rejected, and nothing is ever reported durable that a completed fsync does not cover.
 */
import { checkU64Input } from '../codec/u64.js';
import { AssertionError, ClosedError, FsyncFailedError, InvalidInputError, PoisonedError } from '../errors.js';
import { GenericLog } from '../log/generic-log.js';
import type { Options } from '../options.js';
import type { Encoder } from '../payload/decoder.js';
import { FsRepo } from '../repo/fs.js';
import type { Repo } from '../repo/repo.js';
import { LogWriteFailedError } from './errors.js';

export interface DurableLogOptions<T = Uint8Array> {
  /** Options of the underlying log (segment size, format version, offset index). */
  log?: Partial<Options>;
  encoder?: Encoder<T>;
  /**
   * Most records in one commit (1..65535). Default 65535, the format's limit: a large commit costs
   * nothing extra, its 26 bytes of framing are shared by more records.
   */
  maxCommitRecords?: number;
  /**
   * A commit is written once its records reach this many bytes, so the buffer held in memory is
   * bounded (≥ 1). Default 1 MiB: large enough that a write syscall moves a lot, small enough to
   * stay in the caches. A single larger record still makes a commit of its own.
   */
  maxCommitBytes?: number;
  /**
   * Longest an appended record waits before the sync that covers it starts (ms, ≥ 0), unless a sync
   * is still in flight then: the next one starts as soon as it completes. 0 (default): the next
   * event-loop turn. More lets more records share one fsync, at the cost of latency.
   */
  syncIntervalMs?: number;
  /**
   * With a directory (not a `Repo`): bytes kept zero-filled ahead of the head segment's end, so a
   * durable commit's fsync has no size change to journal (`FsRepoOptions.preallocateBytes`). Default
   * 1 MiB: 1.1–1.6× the durable records/s with 1–100 producers on this machine, 1.06–1.25× with 1000,
   * bulk appends untouched (nothing is zero-filled without a sync), no gain from larger sizes
   * (BENCHMARKS.md). 0 turns it off.
   */
  preallocateBytes?: number;
}

export interface DurableLogStats {
  /** Commits written by this instance. */
  commits: number;
  /** Completed fdatasyncs of segments (directory syncs not counted). */
  syncs: number;
}

const DEFAULT_MAX_COMMIT_RECORDS = 0xffff;
const DEFAULT_MAX_COMMIT_BYTES = 1024 * 1024;
const DEFAULT_PREALLOCATE_BYTES = 1024 * 1024;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const RESOLVED = Promise.resolve();

export class DurableLog<T = Uint8Array> {
  /** Next offset `append` hands out. */
  private next: number;
  /** Highest offset a completed fsync covers; -1 for none. */
  private durable: number;
  /**
   * Waiters are grouped by the sync that will cover them, so a thousand producers share two promises:
   * `inflight` for offsets ≤ its `covered`, `waiting` for every offset after it.
   */
  private inflight: { covered: number; waiters: Deferred | null } | null = null;
  private waiting: Deferred | null = null;
  /** A cycle is between its commit and the end of its sync; `cycle` is its promise (for `close`). */
  private cycleRunning = false;
  private cycle: Promise<void> = RESOLVED;
  private scheduled: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | null = null;
  /** When the oldest record not yet in a started sync was appended (for `syncIntervalMs`). */
  private batchStartedAt = 0;
  private failure: unknown = null;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | null = null;
  private readonly counts: DurableLogStats = { commits: 0, syncs: 0 };
  private readonly maxCommitBytes: number;
  private readonly syncIntervalMs: number;
  private readonly raw: boolean;

  private constructor(
    /** The underlying log: read it freely (`commits`, `transactions`), but write only through this class. */
    readonly log: GenericLog<T>,
    options: DurableLogOptions<T>,
  ) {
    this.maxCommitBytes = options.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES;
    this.syncIntervalMs = options.syncIntervalMs ?? 0;
    this.raw = options.encoder === undefined;
    const max = log.maxCommittedOffset();
    this.next = max === null ? 0 : max + 1;
    this.durable = this.next - 1;
  }

  /**
   * Opens the log in `dir` (an `FsRepo`) or `repo`, then fdatasyncs it and its directory once
   * (synchronously: whatever an earlier process wrote but never synced, a segment it created included,
   * is made durable before it is reported so). New segments are made durable in the directory by the
   * log itself when it creates them.
   */
  static open<T = Uint8Array>(dirOrRepo: string | Repo, options: DurableLogOptions<T> = {}): DurableLog<T> {
    const maxRecords = options.maxCommitRecords ?? DEFAULT_MAX_COMMIT_RECORDS;
    integerIn('maxCommitRecords', maxRecords, 1, DEFAULT_MAX_COMMIT_RECORDS);
    integerIn('maxCommitBytes', options.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES, 1, Number.MAX_SAFE_INTEGER);
    integerIn('syncIntervalMs', options.syncIntervalMs ?? 0, 0, 2 ** 31 - 1);
    const repo =
      typeof dirOrRepo === 'string' ? new FsRepo(dirOrRepo, { preallocateBytes: options.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES }) : dirOrRepo;
    const logOptions = { ...options.log };
    logOptions.maxRecordsInCommit = Math.min(logOptions.maxRecordsInCommit ?? maxRecords, maxRecords);
    const log = GenericLog.open(repo, logOptions, options.encoder);
    try {
      log.sync();
      repo.syncDirectory?.();
    } catch (e) {
      log.close();
      throw e;
    }
    return new DurableLog(log, options);
  }

  /**
   * Buffers `record` and returns its offset. Throws `PoisonedError` after a failure, `ClosedError` once
   * `close` was called; a record the log refuses (too large, encoder error) throws and takes no offset.
   */
  append(record: T): number {
    this.ensureWritable();
    const pending = this.log.headWriter.pending;
    if (this.raw && pending.n > 0 && pending.recordsLen + (record as Uint8Array).length > this.maxCommitBytes) {
      this.writePending();
    }
    if (!this.log.append(record)) {
      this.writePending();
      if (!this.log.append(record)) throw new AssertionError('append refused right after a commit');
    }
    const offset = this.next++;
    // With an encoder the size is known only now: the commit may pass the bound by this one record.
    if (this.log.headWriter.pending.recordsLen >= this.maxCommitBytes) this.writePending();
    this.schedule();
    return offset;
  }

  /** Highest offset known to be on disk, or null if none is. */
  get durableOffset(): number | null {
    return this.durable < 0 ? null : this.durable;
  }

  /** The offset the next `append` returns. */
  get nextOffset(): number {
    return this.next;
  }

  get stats(): Readonly<DurableLogStats> {
    return this.counts;
  }

  /** The error that poisoned the log, or null. */
  get poisonedBy(): unknown {
    return this.failure;
  }

  /**
   * Resolves once `offset` is durable. Rejects with the failure (`FsyncFailedError` for a failed sync)
   * if the log fails before that, with `PoisonedError` when called after a failure for an offset that
   * is not durable (offsets made durable before the failure still resolve: they are on disk), and with
   * `InvalidInputError` for an offset not appended yet.
   */
  waitDurable(offset: number): Promise<void> {
    try {
      checkU64Input(offset, 'offset');
    } catch (e) {
      return Promise.reject(e);
    }
    if (offset <= this.durable) return RESOLVED;
    if (offset >= this.next) return Promise.reject(new InvalidInputError(`offset ${offset} has not been appended (next is ${this.next})`));
    const inflight = this.inflight;
    if (inflight !== null && offset <= inflight.covered) return (inflight.waiters ??= deferred()).promise;
    if (this.failure !== null) return Promise.reject(new PoisonedError(this.failure));
    return (this.waiting ??= deferred()).promise;
  }

  /**
   * Writes and syncs everything appended, then releases the log (files and lock). Resolves when every
   * appended record is durable; rejects with the failure otherwise (the files are released either way).
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  // -------------------------------------------------------------------------------------------

  private async closeNow(): Promise<void> {
    if (this.state === 'open') this.state = 'closing';
    this.unschedule();
    for (;;) {
      if (this.cycleRunning) await this.cycle;
      else if (this.failure === null && this.next - 1 > this.durable) await this.startCycle();
      else break;
    }
    // A failed log writes nothing more: drop what `GenericLog.close` would still commit.
    if (this.failure !== null) this.log.headWriter.pending.clear();
    this.log.close();
    this.state = 'closed';
    if (this.failure !== null) throw this.failure;
  }

  private ensureWritable(): void {
    if (this.failure !== null) throw new PoisonedError(this.failure);
    if (this.state !== 'open') throw new ClosedError('durable log');
  }

  /** Writes the pending commit (no sync); a failure is terminal and thrown to the appender. */
  private writePending(): void {
    try {
      if (this.log.commit() !== null) this.counts.commits++;
    } catch (e) {
      throw this.fail(writeFailure(e));
    }
  }

  private schedule(): void {
    // A running cycle looks for work when it ends.
    if (this.scheduled !== null || this.cycleRunning) return;
    if (this.syncIntervalMs === 0) {
      // setImmediate, not a microtask: every producer resumed in this turn appends before the commit.
      this.scheduled = { immediate: setImmediate(this.onScheduled) };
    } else {
      this.batchStartedAt = performance.now();
      this.scheduled = { timeout: setTimeout(this.onScheduled, this.syncIntervalMs) };
    }
  }

  /** After a sync: the next one for the records appended meanwhile, within `syncIntervalMs` of the first. */
  private scheduleAfterSync(): void {
    if (this.syncIntervalMs === 0) {
      this.scheduled = { immediate: setImmediate(this.onScheduled) };
    } else {
      const wait = this.batchStartedAt + this.syncIntervalMs - performance.now();
      this.scheduled = { timeout: setTimeout(this.onScheduled, Math.max(0, wait)) };
    }
  }

  private unschedule(): void {
    const s = this.scheduled;
    if (s === null) return;
    if ('immediate' in s) clearImmediate(s.immediate);
    else clearTimeout(s.timeout);
    this.scheduled = null;
  }

  private readonly onScheduled = (): void => {
    this.scheduled = null;
    if (!this.cycleRunning && this.failure === null && this.state !== 'closed') void this.startCycle();
  };

  private startCycle(): Promise<void> {
    this.cycleRunning = true;
    this.cycle = this.runCycle();
    return this.cycle;
  }

  /** One group commit: write what is pending, fdatasync, then resolve every waiter it covers. Never rejects. */
  private async runCycle(): Promise<void> {
    const waiters = this.waiting;
    this.waiting = null;
    try {
      if (this.log.commit() !== null) this.counts.commits++;
    } catch (e) {
      this.cycleRunning = false;
      this.fail(writeFailure(e), waiters);
      return;
    }
    const covered = this.next - 1;
    const inflight: { covered: number; waiters: Deferred | null } = { covered, waiters };
    this.inflight = inflight;
    // Records appended from now on wait for the next cycle: their interval starts with the first one.
    this.batchStartedAt = performance.now();
    try {
      const synced = await this.log.syncAsync();
      if ((synced ?? -1) !== covered) throw new AssertionError(`sync covered ${synced}, expected ${covered}`);
      this.counts.syncs++;
    } catch (e) {
      this.inflight = null;
      this.cycleRunning = false;
      this.fail(e instanceof FsyncFailedError || e instanceof AssertionError ? e : new FsyncFailedError(e, 'head segment'), inflight.waiters);
      return;
    }
    this.inflight = null;
    this.cycleRunning = false;
    this.durable = covered;
    // Producers resumed by this resolve append in microtasks, after this check: they schedule the next
    // cycle themselves (no cycle is running any more).
    if (this.failure === null && this.state === 'open' && this.next - 1 > this.durable) this.scheduleAfterSync();
    inflight.waiters?.resolve();
  }

  /** Terminal: rejects the waiters of the failed cycle (if any) and of everything after it. */
  private fail(error: FsyncFailedError | PoisonedError | AssertionError, cycleWaiters: Deferred | null = null): unknown {
    if (this.failure === null) this.failure = error;
    this.unschedule();
    cycleWaiters?.reject(error);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
    return error;
  }
}

/** A failed commit write, typed; a rotation's fsync failing inside `commit` stays an `FsyncFailedError`. */
function writeFailure(e: unknown): FsyncFailedError | PoisonedError {
  return e instanceof FsyncFailedError || e instanceof PoisonedError ? e : new LogWriteFailedError(e);
}

function integerIn(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`option ${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}
