/**
 * The log over any `Repo` (Rust `commitlog::Generic`): open/resume, append, commit, rotation, epochs,
 * sync, traversal, reset. Synchronous throughout.
 */
import type { StoredCommit } from '../codec/commit.js';
import { MAX_RECORDS_IN_COMMIT } from '../codec/commit.js';
import { checkU64Input } from '../codec/u64.js';
import {
  AppendError,
  AssertionError,
  ClosedError,
  FsyncFailedError,
  InvalidInputError,
  PoisonedError,
  type TraversalError,
  messageOf,
} from '../errors.js';
import type { Decoder, Encoder } from '../payload/decoder.js';
import type { CompressionStats, Repo, SizeOnDisk } from '../repo/repo.js';
import { SEGMENT_HEADER_LEN } from '../codec/segment-header.js';
import { type SegmentMetadata, extractMetadata } from '../segment/metadata.js';
import { closeQuietly, createSegmentWriter, resumeSegmentWriter } from '../segment/resume.js';
import type { Committed, SegmentWriter } from '../segment/writer.js';
import { debug } from '../debug.js';
import { type Options, resolveOptions } from '../options.js';
import { resetToInternal } from './reset.js';
import {
  CommitIterator,
  type Result,
  type Transaction,
  type TraversalOptions,
  type TxRange,
  checkRange,
  commitsOf,
  foldTransactionsOf,
  segmentsFromOffsetInstance,
  transactionsOf,
} from './traversal.js';
import { InvalidCommitError } from '../segment/metadata.js';

type YieldMode = { errors: 'yield' };
type Lock = { release(): void };

export class GenericLog<T = Uint8Array> {
  private poisoned: unknown = null;
  private closed = false;

  private constructor(
    readonly repo: Repo,
    readonly options: Options,
    private readonly encoder: Encoder<T> | undefined,
    /** First offsets of every segment but the head, ascending. */
    private readonly tailOffsets: number[],
    private head: SegmentWriter,
    /** The repo's single-writer lock, held until `close` (handed on by `reset`/`resetTo`). */
    private lock: Lock | null,
  ) {}

  /**
   * Opens the log in `repo`, resuming (and repairing) its newest segment (SPEC §6.2). Takes the
   * repo's single-writer lock (`LockedError` if another writer holds it).
   */
  static open<T = Uint8Array>(repo: Repo, options?: Partial<Options>, encoder?: Encoder<T>): GenericLog<T> {
    const opts = resolveOptions(options);
    const lock = repo.lock?.() ?? null;
    try {
      return GenericLog.openLocked(repo, opts, encoder, lock);
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  private static openLocked<T>(repo: Repo, opts: Options, encoder: Encoder<T> | undefined, lock: Lock | null): GenericLog<T> {
    const tail = repo.existingOffsets();
    let head: SegmentWriter | null = null;
    while (head === null) {
      const last = tail.pop();
      if (last === undefined) {
        head = createSegmentWriter(repo, opts, 0, 0);
        break;
      }
      if (segmentLength(repo, last) <= SEGMENT_HEADER_LEN) {
        // ADOPT-UPSTREAM #4863: a torn segment creation or header-only segment is dropped.
        debug('open: removing empty tail segment %d', last);
        repo.removeSegment(last);
        continue;
      }
      if (repo.isCompressed(last)) {
        // Upstream #4650 (adopted for data safety, Q34): a compressed newest segment is sealed; a new
        // segment starts after it. 1.3.0 refused to open, which an interrupted resetTo or an empty
        // head dropped by #4863 can bring about.
        const meta = sealedMetadata(repo, last);
        if (meta.txRange.end === meta.txRange.start) {
          repo.removeSegment(last);
          continue;
        }
        debug('open: segment %d is compressed, starting segment %d after it', last, meta.txRange.end);
        tail.push(last);
        head = createSegmentWriter(repo, opts, meta.maxEpoch, meta.txRange.end);
        break;
      }
      const r = resumeSegmentWriter(repo, opts, last);
      if (r.kind === 'resumed') {
        head = r.writer;
      } else if (r.kind === 'empty') {
        debug('open: segment %d holds no complete commit, removing it', last);
        repo.removeSegment(last);
      } else {
        tail.push(r.sofar.txRange.start);
        head = createSegmentWriter(repo, opts, r.sofar.maxEpoch, r.sofar.txRange.end);
      }
    }
    return new GenericLog(repo, opts, encoder, tail, head, lock);
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** Buffers a record in the pending commit; false (record not taken) when the commit is full. */
  append(record: T): boolean {
    this.ensureUsable();
    return this.head.append(record, this.encoder);
  }

  /** Appends, committing first if the pending commit is full. Throws `AppendError` holding the record. */
  appendMaybeFlush(record: T): void {
    if (this.append(record)) return;
    try {
      this.commit();
    } catch (e) {
      throw new AppendError(record, e);
    }
    if (!this.append(record)) throw new AssertionError('append failed right after a commit');
  }

  /**
   * Without arguments (1.3.0): writes the pending commit, rotating first if it would overflow the
   * segment (SPEC §5.3).
   *
   * With `transactions` (upstream 2.8, #4404): appends them as one commit after whatever `append`
   * buffered, and writes it. Offsets must continue the log (`InvalidInputError` otherwise, and none of
   * them is taken); up to 65535 per commit, `maxRecordsInCommit` does not apply. Rotation follows
   * 2.8.3: the commit goes into the head segment, which is then sealed and a new one started when it
   * reached `maxSegmentSize`. Null when nothing was pending and `transactions` is empty.
   */
  commit(transactions?: Iterable<Transaction<T>>): Committed | null {
    if (transactions !== undefined) return this.commitTransactions(transactions);
    this.ensureUsable();
    const size = 26 + this.head.pending.recordsLen;
    if (!this.head.isEmpty() && this.head.bytesWritten + size > this.options.maxSegmentSize) {
      this.head.file.seal?.();
      this.syncHead();
      this.startNewSegment();
    }
    try {
      return this.head.commitPending();
    } catch (e) {
      debug('commit at offset %d failed (%s): starting a new segment', this.head.nextTxOffset(), messageOf(e));
      this.sealTornHead();
      this.startNewSegment(); // if this throws, its error wins (QUIRK Q39)
      throw e;
    }
  }

  private commitTransactions(transactions: Iterable<Transaction<T>>): Committed | null {
    this.ensureUsable();
    const head = this.head;
    const p = head.pending;
    const n0 = p.n;
    const len0 = p.records.length;
    try {
      for (const tx of transactions) {
        const expected = p.minTxOffset + p.n;
        if (tx === null || typeof tx !== 'object' || tx.offset !== expected) {
          const got = tx !== null && typeof tx === 'object' ? String(tx.offset) : String(tx);
          throw new InvalidInputError(`invalid transaction offset ${got}, expected ${expected}`);
        }
        if (!head.append(tx.txdata, this.encoder, MAX_RECORDS_IN_COMMIT)) {
          throw new InvalidInputError(`a commit holds at most ${MAX_RECORDS_IN_COMMIT} transactions`);
        }
      }
    } catch (e) {
      p.n = n0; // none of them is taken
      p.records.length = len0;
      throw e;
    }
    let committed: Committed | null;
    try {
      committed = head.commitPending();
    } catch (e) {
      debug('commit at offset %d failed (%s): starting a new segment', head.nextTxOffset(), messageOf(e));
      this.sealTornHead();
      this.startNewSegment();
      throw e;
    }
    if (head.bytesWritten >= this.options.maxSegmentSize) {
      head.file.seal?.();
      this.syncHead();
      this.startNewSegment();
    }
    return committed;
  }

  /**
   * After a failed write (FIX, beyond 1.3.0): cut the partial commit off the head, so a retry that
   * stays in this segment (its replacement could not be created) never lands after torn bytes, and
   * fdatasync what the head holds, so a later `sync` of another segment never reports commits of this
   * one durable while they are not. A failing fdatasync poisons the log, as in `sync`.
   */
  private sealTornHead(): void {
    const head = this.head;
    try {
      head.file.truncate(head.bytesWritten);
    } catch (e) {
      debug('cutting the torn tail of segment %d failed: %s', head.minTxOffset, messageOf(e));
      head.torn = true;
    }
    this.syncHead();
  }

  /** fdatasync the head segment. A failure poisons the log (an fsync error cannot be retried). */
  sync(): void {
    this.ensureUsable();
    this.syncHead();
  }

  flushAndSync(): Committed | null {
    const c = this.commit();
    this.syncHead();
    return c;
  }

  /**
   * `sync` off the event loop: fdatasync the current head in the thread pool (the files of segments
   * rotated away meanwhile stay open until it is done). Returns the offsets it covers: every commit
   * flushed before the call. A failure poisons the log like `sync`.
   */
  async syncAsync(): Promise<number | null> {
    this.ensureUsable();
    const head = this.head;
    const covered = this.maxCommittedOffset();
    if (!head.file.syncAsync) {
      this.syncHead();
      return covered;
    }
    try {
      await head.file.syncAsync();
    } catch (e) {
      this.poisoned ??= e;
      throw new FsyncFailedError(e, `segment ${head.minTxOffset}`);
    }
    if (this.head === head && !this.closed) head.index?.onSync();
    return covered;
  }

  private syncHead(): void {
    try {
      this.head.sync();
    } catch (e) {
      this.poisoned = e;
      throw new FsyncFailedError(e, `segment ${this.head.minTxOffset}`);
    }
  }

  private startNewSegment(): void {
    const old = this.head;
    const next = createSegmentWriter(this.repo, this.options, old.pending.epoch, old.nextTxOffset(), old.pending);
    this.tailOffsets.push(old.minTxOffset);
    this.head = next;
    debug('rotated from segment %d to %d', old.minTxOffset, next.minTxOffset);
    try {
      old.close();
    } catch (e) {
      debug('closing segment %d failed: %s', old.minTxOffset, messageOf(e));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Offsets and epochs

  maxCommittedOffset(): number | null {
    this.ensureUsable();
    const next = this.head.nextTxOffset();
    return next === 0 ? null : next - 1;
  }

  minCommittedOffset(): number | null {
    this.ensureUsable();
    if (this.tailOffsets.length > 0) return this.tailOffsets[0]!;
    return this.head.isEmpty() ? null : this.head.minTxOffset;
  }

  get epoch(): number {
    this.ensureUsable();
    return this.head.pending.epoch;
  }

  /** Raises the epoch, committing what is pending first. Lower epochs are refused. */
  setEpoch(epoch: number): Committed | null {
    this.ensureUsable();
    checkU64Input(epoch, 'epoch');
    const current = this.head.pending.epoch;
    if (epoch < current) throw new InvalidInputError(`new epoch is smaller than current epoch: ${epoch} < ${current}`);
    if (epoch === current) return null;
    const committed = this.commit();
    this.head.pending.epoch = epoch;
    return committed;
  }

  /** First offsets of the segments, as listed by the repo. */
  existingSegmentOffsets(): number[] {
    this.ensureUsable();
    return this.repo.existingOffsets();
  }

  /** First offsets of every segment but the head (tests and tools). */
  get tail(): readonly number[] {
    return this.tailOffsets;
  }

  get headOffset(): number {
    return this.head.minTxOffset;
  }

  /**
   * Bytes of the segments and index files; with `{ detailed: true }` upstream 2.8's `SizeOnDisk`
   * (apparent bytes and allocated 512-byte blocks).
   */
  sizeOnDisk(): number;
  sizeOnDisk(options: { detailed: true }): SizeOnDisk;
  sizeOnDisk(options?: { detailed?: boolean }): number | SizeOnDisk {
    this.ensureUsable();
    if (!options?.detailed) return this.repo.sizeOnDisk();
    if (this.repo.sizeOnDiskDetailed) return this.repo.sizeOnDiskDetailed();
    const totalBytes = this.repo.sizeOnDisk();
    return { totalBytes, totalBlocks: 8 * Math.ceil(totalBytes / 4096) };
  }

  /**
   * Compresses sealed segments (never the head); returns what was read and written (upstream 2.8,
   * #4708) and how many segments were compressed (already compressed ones count 0 bytes, 0 segments).
   */
  compressSegments(offsets: readonly number[]): CompressionStats & { segments: number } {
    this.ensureUsable();
    if (offsets.includes(this.head.minTxOffset)) {
      throw new AssertionError(`cannot compress the segment being written (${this.head.minTxOffset})`);
    }
    const stats = { bytesRead: 0, bytesWritten: 0, segments: 0 };
    for (const o of offsets) {
      const s = this.repo.compressSegment(o);
      stats.bytesRead += s.bytesRead;
      stats.bytesWritten += s.bytesWritten;
      if (s.bytesRead > 0) stats.segments += 1;
    }
    return stats;
  }

  // -------------------------------------------------------------------------------------------
  // Traversal

  commits(): IterableIterator<StoredCommit>;
  commits(options: YieldMode): IterableIterator<Result<StoredCommit, TraversalError>>;
  commits(options?: TraversalOptions): IterableIterator<StoredCommit | Result<StoredCommit, TraversalError>>;
  commits(options?: TraversalOptions): IterableIterator<any> {
    return this.commitsFrom(0, options);
  }

  commitsFrom(offset: number): IterableIterator<StoredCommit>;
  commitsFrom(offset: number, options: YieldMode): IterableIterator<Result<StoredCommit, TraversalError>>;
  commitsFrom(offset: number, options?: TraversalOptions): IterableIterator<StoredCommit | Result<StoredCommit, TraversalError>>;
  commitsFrom(offset: number, options?: TraversalOptions): IterableIterator<any> {
    return commitsOf(this.commitIterator(offset), options);
  }

  /** The commit iterator itself, exposing the segment and byte position of each commit. */
  commitIterator(offset = 0): CommitIterator {
    this.ensureUsable();
    checkU64Input(offset, 'offset');
    const segments = segmentsFromOffsetInstance(this.tailOffsets, this.head.minTxOffset, offset);
    return new CommitIterator(this.repo, segments, this.options.logFormatVersion, offset);
  }

  transactions<D>(decoder: Decoder<D>): IterableIterator<Transaction<D>>;
  transactions<D>(decoder: Decoder<D>, options: YieldMode): IterableIterator<Result<Transaction<D>>>;
  transactions<D>(decoder: Decoder<D>, options?: TraversalOptions): IterableIterator<any> {
    return this.transactionsFrom(0, decoder, options as YieldMode);
  }

  transactionsFrom<D>(offset: number, decoder: Decoder<D>): IterableIterator<Transaction<D>>;
  transactionsFrom<D>(offset: number, decoder: Decoder<D>, options: YieldMode): IterableIterator<Result<Transaction<D>>>;
  transactionsFrom<D>(offset: number, decoder: Decoder<D>, options?: TraversalOptions): IterableIterator<any> {
    return transactionsOf(this.commitIterator(offset), offset, decoder, options);
  }

  foldTransactions<D>(decoder: Decoder<D>): void {
    this.foldTransactionsFrom(0, decoder);
  }

  foldTransactionsFrom<D>(offset: number, decoder: Decoder<D>): void {
    foldTransactionsOf(this.commitIterator(offset), offset, decoder);
  }

  /**
   * Folds the transactions with `start ≤ offset < end` (upstream 2.8's `fold_transactions_range`);
   * `start` defaults to 0, `end` to the end of the log. An empty range reads nothing.
   */
  foldTransactionsRange<D>(range: TxRange, decoder: Decoder<D>): void {
    const { start, end } = checkRange(range);
    foldTransactionsOf(this.commitIterator(start), start, decoder, end);
  }

  // -------------------------------------------------------------------------------------------
  // Reset and close

  /** Removes every segment and starts afresh at offset 0, epoch 0. This instance becomes unusable. */
  reset(): GenericLog<T> {
    this.ensureUsable();
    const segments = [...this.tailOffsets, this.head.minTxOffset];
    const lock = this.consume();
    return this.reopenAfter(lock, () => {
      for (let i = segments.length - 1; i >= 0; i--) this.repo.removeSegment(segments[i]!);
    });
  }

  /** Keeps transactions ≤ `offset` (whole commits), removes the rest, reopens. This instance becomes unusable. */
  resetTo(offset: number): GenericLog<T> {
    this.ensureUsable();
    checkU64Input(offset, 'offset');
    const segments = [...this.tailOffsets, this.head.minTxOffset];
    const lock = this.consume();
    return this.reopenAfter(lock, () => resetToInternal(this.repo, segments, offset));
  }

  /** Writes pending records (without the rotation check, QUIRK Q6), no sync; releases the files. */
  close(): void {
    if (this.closed) return;
    if (this.poisoned === null) {
      try {
        this.head.commitPending();
      } catch (e) {
        debug('close: committing pending records failed: %s', messageOf(e));
      }
    }
    this.closed = true;
    this.releaseHead();
    this.lock?.release();
    this.lock = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Pending records are dropped: `reset`/`resetTo` discard them (QUIRK Q38). Returns the lock. */
  private consume(): Lock | null {
    this.closed = true;
    this.releaseHead();
    const lock = this.lock;
    this.lock = null;
    return lock;
  }

  /** Runs `change` and reopens the log under the same lock; the lock is released if either fails. */
  private reopenAfter(lock: Lock | null, change: () => void): GenericLog<T> {
    try {
      change();
      return GenericLog.openLocked(this.repo, this.options, this.encoder, lock);
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  private releaseHead(): void {
    try {
      this.head.close();
    } catch (e) {
      closeQuietly(this.head.file);
      debug('close: %s', messageOf(e));
    }
  }

  private ensureUsable(): void {
    if (this.poisoned !== null) throw new PoisonedError(this.poisoned);
    if (this.closed) throw new ClosedError();
  }

  /** For tests of exotic states: direct access to the head writer (Rust tests poke `head.pending`). */
  get headWriter(): SegmentWriter {
    return this.head;
  }
}

/** Metadata of a sealed (compressed) segment, read through its decompressed view; its valid prefix if damaged. */
function sealedMetadata(repo: Repo, offset: number): SegmentMetadata {
  const file = repo.openSegmentReader(offset);
  try {
    return extractMetadata(offset, file, null);
  } catch (e) {
    if (e instanceof InvalidCommitError) return e.sofar;
    throw e;
  } finally {
    closeQuietly(file);
  }
}

function segmentLength(repo: Repo, offset: number): number {
  const file = repo.openSegmentReader(offset);
  try {
    return file.size();
  } finally {
    closeQuietly(file);
  }
}

