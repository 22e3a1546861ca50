/**
 * Traversal of commits and transactions (SPEC §7) with the reference's exact semantics: duplicates
 * skipped, forks and gaps reported, read errors deferred to the next segment, and an iterator that is
 * not fused (QUIRK Q24).
 */
import type { StoredCommit } from '../codec/commit.js';
import { SEGMENT_HEADER_LEN, ensureCompatible } from '../codec/segment-header.js';
import {
  ChecksumMismatchError,
  ForkedError,
  OutOfOrderError,
  TraversalChecksumError,
  TraversalError,
  TraversalIoError,
} from '../errors.js';
import { seekToOffset } from '../offset-index/seek.js';
import { BufReader } from '../payload/buf-reader.js';
import { checkU64Input } from '../codec/u64.js';
import type { Decoder } from '../payload/decoder.js';
import type { Repo, StorageFile } from '../repo/repo.js';
import { CommitReader, READ_CHUNK_LEN } from '../segment/commit-reader.js';
import { readSegmentHeader } from '../segment/metadata.js';
import { closeQuietly, tryOpenIndex } from '../segment/resume.js';

export type Result<T, E = Error> = { ok: true; value: T } | { ok: false; error: E };

export interface Transaction<T> {
  offset: number;
  txdata: T;
}

/** `errors: 'throw'` (default) ends a `for` loop with the error; `'yield'` yields `Result`s and goes on. */
export interface TraversalOptions {
  errors?: 'throw' | 'yield';
}

/**
 * A range of transaction offsets: `start` absent = 0, included; `end` absent = unbounded, excluded
 * unless `endInclusive` (Rust's `start..end` and `start..=end`).
 */
export interface TxRange {
  start?: number;
  end?: number;
  endInclusive?: boolean;
}

/** A `TxRange` as a half-open `[start, end)`, `end` = Infinity when unbounded; offsets validated. */
export function checkRange(range: TxRange): { start: number; end: number } {
  const start = range.start === undefined ? 0 : checkU64Input(range.start, 'range start');
  if (range.end === undefined) return { start, end: Number.POSITIVE_INFINITY };
  const end = checkU64Input(range.end, 'range end');
  return { start, end: range.endInclusive ? end + 1 : end };
}

const U64_WRAP = 2 ** 64;

/**
 * The commit iterator of §7.2. Iterating yields `StoredCommit`s (or `Result`s in 'yield' mode);
 * `segment`, `byteOffset` and `logFormatVersion` describe the commit yielded last.
 */
export class CommitIterator implements IterableIterator<StoredCommit> {
  private segIdx = 0;
  private current: CommitReader | null = null;
  private currentFile: StorageFile | null = null;
  private currentSegment = -1;
  private lastError: TraversalError | null = null;
  // `last`: Initial{ next } until the first accepted commit, then Seen{ start, end, checksum }.
  private initial = true;
  private nextOffset: number;
  private seenStart = 0;
  private seenEnd = 0;
  private seenChecksum = 0;
  private done = false;
  /**
   * A commit accepted right after an error was reported for the damage before it (the FIX in
   * `nextCommit`); the next step yields it.
   */
  private pending: StoredCommit | null = null;
  /** One read buffer for every segment of this traversal (records are copied out of it). */
  private chunk: Uint8Array | null = null;

  /** Segment (first offset) of the commit yielded last. */
  segment = -1;
  /** Byte position of the commit yielded last within its (uncompressed) segment. */
  byteOffset = -1;
  /** Log format version of the segment of the commit yielded last. */
  logFormatVersion = 1;

  constructor(
    private readonly repo: Repo,
    private readonly segments: readonly number[],
    private readonly maxLogFormatVersion: number,
    fromOffset: number,
  ) {
    this.nextOffset = fromOffset;
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Throwing mode: the first error ends the iteration (and releases the open file). */
  next(): IteratorResult<StoredCommit> {
    if (this.done) return { done: true, value: undefined };
    const r = this.step();
    if (r === null || r instanceof TraversalError) {
      this.return();
      if (r !== null) throw r;
      return { done: true, value: undefined };
    }
    return { done: false, value: r };
  }

  /** One step of the reference iterator: a commit, an error, or null when done. */
  step(): StoredCommit | TraversalError | null {
    if (this.pending !== null) {
      const c = this.pending;
      this.pending = null;
      return c;
    }
    for (;;) {
      const r = this.nextCommit();
      if (r !== null) return r;
      if (this.segIdx >= this.segments.length) {
        const e = this.lastError;
        this.lastError = null;
        if (e === null) this.release();
        return e;
      }
      const segment = this.segments[this.segIdx++]!;
      let file: StorageFile | null = null;
      let reader: CommitReader;
      try {
        file = this.repo.openSegmentReader(segment);
        const { header } = readSegmentHeader(file);
        ensureCompatible(header, this.maxLogFormatVersion);
        this.chunk ??= new Uint8Array(READ_CHUNK_LEN);
        reader = new CommitReader(file, SEGMENT_HEADER_LEN, header.logFormatVersion, this.chunk);
      } catch (e) {
        if (file) closeQuietly(file);
        // The previous reader stays current, as in the reference.
        return new TraversalIoError(e as Error, segment);
      }
      if (this.initial) this.trySeekUsingOffsetIndex(segment, reader);
      if (this.currentFile) closeQuietly(this.currentFile);
      this.current = reader;
      this.currentFile = file;
      this.currentSegment = segment;
    }
  }

  private trySeekUsingOffsetIndex(segment: number, reader: CommitReader): void {
    const index = tryOpenIndex(this.repo, segment);
    if (!index) return;
    try {
      seekToOffset(reader, index, this.nextOffset);
    } catch {
      // no usable entry: scan from the first commit
    } finally {
      index.close();
    }
  }

  private nextCommit(): StoredCommit | TraversalError | null {
    const reader = this.current;
    if (reader === null) return null;
    for (;;) {
      let c: StoredCommit | null;
      try {
        c = reader.next();
      } catch (e) {
        this.lastError = this.classify(e as Error);
        return null;
      }
      if (c === null) return null;
      const prevError = this.lastError;
      this.lastError = null;
      if (this.initial) {
        // n = 0 wraps like Rust's release build (QUIRK Q28).
        const lastTx = c.n === 0 ? (c.minTxOffset === 0 ? U64_WRAP - 1 : c.minTxOffset - 1) : c.minTxOffset + c.n - 1;
        if (this.nextOffset > lastTx) continue;
        if (prevError !== null && c.minTxOffset > this.nextOffset) {
          // FIX over 1.3.0 (issue 16 §2): the reference accepts this commit whatever its offset and
          // drops the deferred error, so damage before it (e.g. the oldest segment's first commit)
          // vanishes and traversal silently starts later. Report the gap with its cause, then go on
          // from this commit.
          const requested = this.nextOffset;
          this.accept(c, reader);
          this.pending = c;
          return new OutOfOrderError(requested, c.minTxOffset, prevError);
        }
        this.nextOffset = c.minTxOffset;
      } else if (this.seenStart === c.minTxOffset) {
        if (this.seenChecksum !== c.checksum) return new ForkedError(c.minTxOffset);
        continue; // an exact duplicate
      }
      const expected = this.initial ? this.nextOffset : this.seenEnd;
      if (expected !== c.minTxOffset) return new OutOfOrderError(expected, c.minTxOffset, prevError);
      this.accept(c, reader);
      return c;
    }
  }

  private accept(c: StoredCommit, reader: CommitReader): void {
    this.initial = false;
    this.seenStart = c.minTxOffset;
    this.seenEnd = c.minTxOffset + c.n;
    this.seenChecksum = c.checksum;
    this.segment = this.currentSegment;
    this.byteOffset = reader.lastCommitPosition;
    this.logFormatVersion = reader.logFormatVersion;
  }

  private classify(e: Error): TraversalError {
    if (e instanceof ChecksumMismatchError) {
      return new TraversalChecksumError(this.initial ? this.nextOffset : this.seenEnd, e, this.currentSegment);
    }
    return new TraversalIoError(e, this.currentSegment);
  }

  /** Closes the open segment file. Iteration may still resume afterwards (it reopens nothing). */
  release(): void {
    if (this.currentFile) closeQuietly(this.currentFile);
    this.currentFile = null;
    this.current = null;
  }

  return(): IteratorResult<StoredCommit> {
    this.release();
    this.done = true;
    return { done: true, value: undefined };
  }

  /** Iterates in 'yield' mode: `Result`s, going on after errors exactly like the reference. */
  *results(): Generator<Result<StoredCommit, TraversalError>, void, undefined> {
    try {
      for (;;) {
        if (this.done) return;
        const r = this.step();
        if (r === null) return;
        yield r instanceof TraversalError ? { ok: false, error: r } : { ok: true, value: r };
      }
    } finally {
      this.release();
    }
  }
}

/** Segment lists (§7.1): the free functions keep every segment if none starts at or before `offset`. */
export function segmentsFromOffsetFree(offsets: number[], offset: number): number[] {
  let p = -1;
  for (let i = 0; i < offsets.length; i++) if (offsets[i]! <= offset) p = i;
  return p < 0 ? offsets : offsets.slice(p);
}

/** The instance variant yields nothing for an offset below the first segment (QUIRK Q8). */
export function segmentsFromOffsetInstance(tail: readonly number[], head: number, offset: number): number[] {
  if (offset >= head) return [head];
  let p = -1;
  for (let i = 0; i < tail.length; i++) if (tail[i]! <= offset) p = i;
  return p < 0 ? [] : [...tail.slice(p), head];
}

export function commitsOf(
  it: CommitIterator,
  options: TraversalOptions | undefined,
): IterableIterator<StoredCommit> | Generator<Result<StoredCommit, TraversalError>> {
  return options?.errors === 'yield' ? it.results() : it;
}

/**
 * Transactions of a commit iterator (§7.4): records before `fromOffset` are skipped with
 * `skipRecord`; decoder errors are reported and the next record decodes from wherever the cursor is
 * (QUIRK Q30). One iterator object for the whole traversal: no generator layers or result objects per
 * record in throwing mode.
 */
export class TransactionIterator<T> implements IterableIterator<Transaction<T>> {
  private commit: StoredCommit | null = null;
  private reader: BufReader | null = null;
  private version = 1;
  private k = 0;
  private finished = false;

  constructor(
    private readonly commits: CommitIterator,
    private readonly fromOffset: number,
    private readonly decoder: Decoder<T>,
  ) {}

  [Symbol.iterator](): this {
    return this;
  }

  /**
   * The next transaction, an error (a traversal error or whatever the decoder threw), or null at the
   * end. Like the reference iterator it goes on after errors.
   */
  step(): Transaction<T> | { error: Error } | null {
    for (;;) {
      const c = this.commit;
      if (c !== null && this.k < c.n) {
        const offset = c.minTxOffset + this.k++;
        try {
          if (offset < this.fromOffset) {
            this.decoder.skipRecord(this.version, offset, this.reader!);
            continue;
          }
          return { offset, txdata: this.decoder.decodeRecord(this.version, offset, this.reader!) };
        } catch (e) {
          return { error: e as Error };
        }
      }
      const next = this.commits.step();
      if (next === null) {
        this.commit = null;
        this.commits.release();
        return null;
      }
      if (next instanceof TraversalError) return { error: next };
      this.commit = next;
      this.reader = new BufReader(next.records);
      this.version = this.commits.logFormatVersion;
      this.k = 0;
    }
  }

  /** Throwing mode: the first error ends the iteration. */
  next(): IteratorResult<Transaction<T>> {
    if (this.finished) return { done: true, value: undefined };
    const r = this.step();
    if (r === null || 'error' in r) {
      this.return();
      if (r !== null) throw r.error;
      return { done: true, value: undefined };
    }
    return { done: false, value: r };
  }

  return(): IteratorResult<Transaction<T>> {
    this.finished = true;
    this.commits.release();
    return { done: true, value: undefined };
  }

  /** 'yield' mode: `Result`s, going on after errors. */
  *results(): Generator<Result<Transaction<T>>, void, undefined> {
    try {
      for (;;) {
        if (this.finished) return;
        const r = this.step();
        if (r === null) return;
        yield 'error' in r ? { ok: false, error: r.error } : { ok: true, value: r };
      }
    } finally {
      this.commits.release();
    }
  }
}

export function transactionsOf<T>(
  it: CommitIterator,
  fromOffset: number,
  decoder: Decoder<T>,
  options: TraversalOptions | undefined,
): IterableIterator<Transaction<T>> | Generator<Result<Transaction<T>>> {
  const txs = new TransactionIterator(it, fromOffset, decoder);
  return options?.errors === 'yield' ? txs.results() : txs;
}

/**
 * §7.5: a bad commit at the very end is ignored; any other error is thrown. With `endOffset` (upstream
 * 2.8's range fold, #3129) the fold stops before the first transaction ≥ `endOffset`, reading nothing
 * after the commit that holds it.
 */
export function foldTransactionsOf<T>(
  it: CommitIterator,
  fromOffset: number,
  decoder: Decoder<T>,
  endOffset = Number.POSITIVE_INFINITY,
): void {
  if (endOffset <= fromOffset) {
    it.release();
    return;
  }
  try {
    for (;;) {
      const item = it.step();
      if (item === null) return;
      if (item instanceof TraversalError) {
        if (it.step() === null) return;
        throw item;
      }
      const c = item;
      if (c.minTxOffset + c.n <= fromOffset) continue;
      const version = it.logFormatVersion;
      const reader = new BufReader(c.records);
      for (let k = 0; k < c.n; k++) {
        const offset = c.minTxOffset + k;
        if (offset >= endOffset) return;
        if (offset < fromOffset) decoder.skipRecord(version, offset, reader);
        else if (decoder.consumeRecord) decoder.consumeRecord(version, offset, reader);
        else decoder.decodeRecord(version, offset, reader);
      }
      // The range is done: reading on could only find errors past it (upstream reads one more commit).
      if (c.minTxOffset + c.n >= endOffset) return;
    }
  } finally {
    it.release();
  }
}
