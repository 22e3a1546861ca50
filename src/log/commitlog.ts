/**
 * `Commitlog`: the log in a directory on disk (Rust `Commitlog`). A thin layer over `GenericLog` with
 * an `FsRepo` whose write methods report the max committed offset, like the reference.
 */
import type { StoredCommit } from '../codec/commit.js';
import type { TraversalError } from '../errors.js';
import type { Decoder, Encoder } from '../payload/decoder.js';
import { FsRepo } from '../repo/fs.js';
import { GenericLog } from './generic-log.js';
import { type Options, resolveOptions } from '../options.js';
import type { CompressionStats, OnNewSegment, SizeOnDisk } from '../repo/repo.js';
import type { Committed } from '../segment/writer.js';
import type { CommitIterator, Result, Transaction, TraversalOptions, TxRange } from './traversal.js';

type YieldMode = { errors: 'yield' };

/** The zero-fill ahead of the head that `preallocateSegments` keeps (capped: it is written synchronously). */
export const PREALLOCATE_SEGMENTS_BYTES = 64 * 1024 * 1024;

/** `Commitlog.open`'s options: the log's, plus what configures its directory. */
export interface CommitlogOpenOptions extends Partial<Options> {
  onNewSegment?: OnNewSegment;
  preallocateBytes?: number;
}

export class Commitlog<T = Uint8Array> {
  private constructor(private readonly inner: GenericLog<T>) {}

  /**
   * Opens (creating if missing) the log in `dir`, resuming and repairing its newest segment. Besides
   * the log's `Options`: `onNewSegment` (called after each segment the log creates, upstream 2.8's
   * `on_new_segment`) and `preallocateBytes` (the `FsRepo` zero-fill ahead of the head; overrides what
   * `preallocateSegments` picks).
   */
  static open<T = Uint8Array>(dir: string, options?: CommitlogOpenOptions, encoder?: Encoder<T>): Commitlog<T> {
    const { onNewSegment, preallocateBytes, ...logOptions } = options ?? {};
    const resolved = resolveOptions(logOptions);
    const prealloc =
      preallocateBytes ?? (resolved.preallocateSegments ? Math.min(resolved.maxSegmentSize, PREALLOCATE_SEGMENTS_BYTES) : 0);
    const repo = new FsRepo(dir, { preallocateBytes: prealloc, ...(onNewSegment ? { onNewSegment } : {}) });
    return new Commitlog(GenericLog.open(repo, resolved, encoder));
  }

  get dir(): string {
    return (this.inner.repo as FsRepo).root;
  }

  get options(): Readonly<Options> {
    return this.inner.options;
  }

  get epoch(): number {
    return this.inner.epoch;
  }

  maxCommittedOffset(): number | null {
    return this.inner.maxCommittedOffset();
  }

  minCommittedOffset(): number | null {
    return this.inner.minCommittedOffset();
  }

  /** Raises the epoch (committing pending records first); returns the max committed offset. */
  setEpoch(epoch: number): number | null {
    this.inner.setEpoch(epoch);
    return this.inner.maxCommittedOffset();
  }

  /** Buffers a record; false when the pending commit is full (the record is not taken). */
  append(record: T): boolean {
    return this.inner.append(record);
  }

  appendMaybeFlush(record: T): void {
    this.inner.appendMaybeFlush(record);
  }

  /**
   * Appends `transactions` as one commit and writes it (upstream 2.8's `commit`, see
   * `GenericLog.commit`): the offset range and checksum, or null when there was nothing to write.
   */
  commit(transactions: Iterable<Transaction<T>>): Committed | null {
    return this.inner.commit(transactions);
  }

  /** Writes pending records as one commit; returns the max committed offset. */
  flush(): number | null {
    this.inner.commit();
    return this.inner.maxCommittedOffset();
  }

  /** fdatasync; throws `FsyncFailedError` and poisons the log on failure. */
  sync(): number | null {
    this.inner.sync();
    return this.inner.maxCommittedOffset();
  }

  /** fdatasync in the thread pool; resolves with the max offset it made durable (see `GenericLog.syncAsync`). */
  syncAsync(): Promise<number | null> {
    return this.inner.syncAsync();
  }

  flushAndSync(): number | null {
    this.inner.flushAndSync();
    return this.inner.maxCommittedOffset();
  }

  existingSegmentOffsets(): number[] {
    return this.inner.existingSegmentOffsets();
  }

  /** Compresses sealed segments; returns bytes read and written and the segments compressed. */
  compressSegments(offsets: readonly number[]): CompressionStats & { segments: number } {
    return this.inner.compressSegments(offsets);
  }

  sizeOnDisk(): number;
  sizeOnDisk(options: { detailed: true }): SizeOnDisk;
  sizeOnDisk(options?: { detailed?: boolean }): number | SizeOnDisk {
    return options?.detailed ? this.inner.sizeOnDisk({ detailed: true }) : this.inner.sizeOnDisk();
  }

  commits(): IterableIterator<StoredCommit>;
  commits(options: YieldMode): IterableIterator<Result<StoredCommit, TraversalError>>;
  commits(options?: TraversalOptions): IterableIterator<any> {
    return this.inner.commits(options);
  }

  commitsFrom(offset: number): IterableIterator<StoredCommit>;
  commitsFrom(offset: number, options: YieldMode): IterableIterator<Result<StoredCommit, TraversalError>>;
  commitsFrom(offset: number, options?: TraversalOptions): IterableIterator<any> {
    return this.inner.commitsFrom(offset, options);
  }

  commitIterator(offset = 0): CommitIterator {
    return this.inner.commitIterator(offset);
  }

  transactions<D>(decoder: Decoder<D>): IterableIterator<Transaction<D>>;
  transactions<D>(decoder: Decoder<D>, options: YieldMode): IterableIterator<Result<Transaction<D>>>;
  transactions<D>(decoder: Decoder<D>, options?: TraversalOptions): IterableIterator<any> {
    return this.inner.transactions(decoder, options as YieldMode);
  }

  transactionsFrom<D>(offset: number, decoder: Decoder<D>): IterableIterator<Transaction<D>>;
  transactionsFrom<D>(offset: number, decoder: Decoder<D>, options: YieldMode): IterableIterator<Result<Transaction<D>>>;
  transactionsFrom<D>(offset: number, decoder: Decoder<D>, options?: TraversalOptions): IterableIterator<any> {
    return this.inner.transactionsFrom(offset, decoder, options as YieldMode);
  }

  foldTransactions<D>(decoder: Decoder<D>): void {
    this.inner.foldTransactions(decoder);
  }

  foldTransactionsFrom<D>(offset: number, decoder: Decoder<D>): void {
    this.inner.foldTransactionsFrom(offset, decoder);
  }

  /** Folds the transactions with `start ≤ offset < end` (upstream 2.8). */
  foldTransactionsRange<D>(range: TxRange, decoder: Decoder<D>): void {
    this.inner.foldTransactionsRange(range, decoder);
  }

  /** Removes everything; returns the fresh log. This instance becomes unusable. */
  reset(): Commitlog<T> {
    return new Commitlog(this.inner.reset());
  }

  /** Keeps transactions ≤ `offset`; returns the reopened log. This instance becomes unusable. */
  resetTo(offset: number): Commitlog<T> {
    return new Commitlog(this.inner.resetTo(offset));
  }

  /** Writes pending records (no fsync) and releases the files. */
  close(): void {
    this.inner.close();
  }
}
