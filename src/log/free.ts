/** Traversal and maintenance of a log directory without opening it for writing (SPEC §1.1, §6.6, §7.1). */
import type { StoredCommit } from '../codec/commit.js';
import { checkU64Input } from '../codec/u64.js';
import type { TraversalError } from '../errors.js';
import type { Decoder } from '../payload/decoder.js';
import { FsRepo } from '../repo/fs.js';
import type { Repo } from '../repo/repo.js';
import { type SegmentMetadata, extractMetadata } from '../segment/metadata.js';
import { closeQuietly, tryOpenIndex } from '../segment/resume.js';
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
  segmentsFromOffsetFree,
  transactionsOf,
} from './traversal.js';

/** A log directory path, or any `Repo`. */
export type LogSource = string | Repo;
type YieldMode = { errors: 'yield' };

export function toRepo(source: LogSource): Repo {
  return typeof source === 'string' ? new FsRepo(source) : source;
}

/** The commit iterator over a directory from `offset`; free functions read up to format version 1. */
export function commitIterator(source: LogSource, offset = 0): CommitIterator {
  checkU64Input(offset, 'offset');
  const repo = toRepo(source);
  return new CommitIterator(repo, segmentsFromOffsetFree(repo.existingOffsets(), offset), 1, offset);
}

export function commits(source: LogSource): IterableIterator<StoredCommit>;
export function commits(source: LogSource, options: YieldMode): IterableIterator<Result<StoredCommit, TraversalError>>;
export function commits(source: LogSource, options?: TraversalOptions): IterableIterator<any> {
  return commitsOf(commitIterator(source, 0), options);
}

export function commitsFrom(source: LogSource, offset: number): IterableIterator<StoredCommit>;
export function commitsFrom(
  source: LogSource,
  offset: number,
  options: YieldMode,
): IterableIterator<Result<StoredCommit, TraversalError>>;
export function commitsFrom(source: LogSource, offset: number, options?: TraversalOptions): IterableIterator<any> {
  return commitsOf(commitIterator(source, offset), options);
}

export function transactions<D>(source: LogSource, decoder: Decoder<D>): IterableIterator<Transaction<D>>;
export function transactions<D>(
  source: LogSource,
  decoder: Decoder<D>,
  options: YieldMode,
): IterableIterator<Result<Transaction<D>>>;
export function transactions<D>(source: LogSource, decoder: Decoder<D>, options?: TraversalOptions): IterableIterator<any> {
  return transactionsOf(commitIterator(source, 0), 0, decoder, options);
}

export function transactionsFrom<D>(source: LogSource, offset: number, decoder: Decoder<D>): IterableIterator<Transaction<D>>;
export function transactionsFrom<D>(
  source: LogSource,
  offset: number,
  decoder: Decoder<D>,
  options: YieldMode,
): IterableIterator<Result<Transaction<D>>>;
export function transactionsFrom<D>(source: LogSource, offset: number, decoder: Decoder<D>, options?: TraversalOptions): IterableIterator<any> {
  return transactionsOf(commitIterator(source, offset), offset, decoder, options);
}

export function foldTransactions<D>(source: LogSource, decoder: Decoder<D>): void {
  foldTransactionsOf(commitIterator(source, 0), 0, decoder);
}

export function foldTransactionsFrom<D>(source: LogSource, offset: number, decoder: Decoder<D>): void {
  foldTransactionsOf(commitIterator(source, offset), offset, decoder);
}

/** Folds the transactions with `start ≤ offset < end` (upstream 2.8's `fold_transaction_range`). */
export function foldTransactionsRange<D>(source: LogSource, range: TxRange, decoder: Decoder<D>): void {
  const { start, end } = checkRange(range);
  foldTransactionsOf(commitIterator(source, start), start, decoder, end);
}

/** Upstream 2.8 spells the free function in the singular. */
export const foldTransactionRange = foldTransactionsRange;

export function existingSegmentOffsets(source: LogSource): number[] {
  return toRepo(source).existingOffsets();
}

/**
 * Metadata of the newest segment (its valid commits, size, max epoch), or null for an empty log.
 * Changes nothing on disk. Throws `InvalidCommitError` (with the valid prefix) past a bad commit.
 */
export function committedMeta(source: LogSource): SegmentMetadata | null {
  const repo = toRepo(source);
  const offsets = repo.existingOffsets();
  const last = offsets[offsets.length - 1];
  if (last === undefined) return null;
  const file = repo.openSegmentReader(last);
  const index = tryOpenIndex(repo, last);
  try {
    return extractMetadata(last, file, index);
  } finally {
    index?.close();
    closeQuietly(file);
  }
}

/** Keeps transactions ≤ `offset` (whole commits) in a log that is not open for writing. */
export function resetTo(source: LogSource, offset: number): void {
  checkU64Input(offset, 'offset');
  const repo = toRepo(source);
  const lock = repo.lock?.();
  try {
    resetToInternal(repo, repo.existingOffsets(), offset);
  } finally {
    lock?.release();
  }
}

/** `commitlog::reset_to(&repo, offset)`. */
export function resetRepoTo(repo: Repo, offset: number): void {
  resetTo(repo, offset);
}
