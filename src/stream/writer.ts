/**
 * StreamWriter (SPEC §11.3): appends a raw commitlog byte stream to a local log, checking each commit's
 * checksum and offset before it touches the disk. Anything written before a failure stays written;
 * a failed writer is unusable and `create` must be called again (it re-validates the log).
 */
import { COMMIT_HEADER_LEN, decodeCommitFrame, decodeCommitHeader } from '../codec/commit.js';
import {
  CHECKSUM_LEN,
  type SegmentHeader,
  SEGMENT_HEADER_LEN,
  decodeSegmentHeader,
  ensureResumable,
  startsWithMagic,
} from '../codec/segment-header.js';
import {
  AlreadyExistsError,
  ClosedError,
  FsyncFailedError,
  InvalidDataError,
  InvalidInputError,
  StreamCommitRefusedError,
  type StreamCommitDefect,
  StreamHeaderRefusedError,
  UnexpectedEofError,
  messageOf,
} from '../errors.js';
import type { IndexFile } from '../offset-index/index-file.js';
import { OffsetIndexWriter } from '../offset-index/offset-index-writer.js';
import { debug } from '../debug.js';
import { type LogSource, toRepo } from '../log/free.js';
import { type Options, resolveOptions } from '../options.js';
import { ByteWriter } from '../payload/byte-writer.js';
import type { Repo, StorageFile } from '../repo/repo.js';
import { CommitReader, isZeroTail } from '../segment/commit-reader.js';
import { type SegmentMetadata, extractMetadata } from '../segment/metadata.js';
import { closeQuietly, tryCreateOffsetIndexWriter, tryOpenIndex } from '../segment/resume.js';
import { ChunkBuffer, type ByteSource } from './chunk-buffer.js';
import { InvalidCommitError } from '../segment/metadata.js';

export type OnTrailingData = 'error' | 'trim';

export interface StreamWriterOptions extends Partial<Options> {
  /**
   * Largest commit accepted from a stream, in bytes. A length field comes from the peer and is not
   * trusted: nothing bigger is ever buffered. Default 1 GiB (the format allows up to 4 GiB).
   */
  maxCommitBytes?: number;
}

const DEFAULT_MAX_COMMIT_BYTES = 1024 * 1024 * 1024;
/** Commit bytes are batched into writes of about this size; all are written before a commit is reported. */
const WRITE_BATCH_LEN = 1024 * 1024;
/** The only framing the writer decodes (SPEC §2.3, Q4: the streaming writer is always v1). */
const STREAM_LOG_FORMAT_VERSION = 1;

/**
 * The last commit of the log, local or appended: the next one is checked against it the way traversal
 * checks it (SPEC §7.2). `checksum` is null when it came from segment metadata; it is then read back
 * only to name a refusal (duplicate or fork), never to accept anything.
 */
interface PrevCommit {
  start: number;
  n: number;
  checksum: number | null;
  segment: number;
}

interface CurrentSegment {
  offset: number;
  header: SegmentHeader;
  file: StorageFile;
  index: OffsetIndexWriter | null;
}

export class StreamWriter {
  private failed: unknown = null;
  /**
   * A segment header read from the stream whose file is not created yet: it is created when its first
   * commit is accepted (or the stream ends), so a refused commit leaves no new file behind.
   */
  private pendingSegment: { offset: number; header: SegmentHeader; bytes: Uint8Array } | null = null;
  private closed = false;
  private readonly out = new ByteWriter(WRITE_BATCH_LEN + 64 * 1024);

  private constructor(
    private readonly repo: Repo,
    private readonly options: Options,
    private readonly maxCommitBytes: number,
    private current: CurrentSegment | null,
    private lastWritten: { start: number; end: number } | null,
    /** The destination's single-writer lock, held until `close`. */
    private readonly lock: { release(): void } | null,
    private prev: PrevCommit | null,
  ) {}

  static create(source: LogSource, options: StreamWriterOptions = {}, onTrailing: OnTrailingData = 'error'): StreamWriter {
    return StreamWriter.createAndMetadata(source, options, onTrailing).writer;
  }

  /** Like `create`, also returning the metadata of the log's last segment (null for an empty log). */
  static createAndMetadata(
    source: LogSource,
    options: StreamWriterOptions = {},
    onTrailing: OnTrailingData = 'error',
  ): { writer: StreamWriter; metadata: SegmentMetadata | null } {
    const { maxCommitBytes = DEFAULT_MAX_COMMIT_BYTES, ...logOptions } = options;
    const opts = resolveOptions(logOptions);
    if (opts.logFormatVersion !== STREAM_LOG_FORMAT_VERSION) {
      // Headers are checked against this version as `open` would; a v0 header over the v1 commits
      // the writer decodes would be misread by traversal (QUIRK Q3).
      throw new InvalidInputError(
        `StreamWriter writes log format version ${STREAM_LOG_FORMAT_VERSION} only, not ${opts.logFormatVersion}`,
      );
    }
    const repo = toRepo(source);
    const lock = repo.lock?.() ?? null;
    try {
      return StreamWriter.createLocked(repo, opts, maxCommitBytes, onTrailing, lock);
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  private static createLocked(
    repo: Repo,
    opts: Options,
    maxCommitBytes: number,
    onTrailing: OnTrailingData,
    lock: { release(): void } | null,
  ): { writer: StreamWriter; metadata: SegmentMetadata | null } {
    const offsets = repo.existingOffsets();
    if (onTrailing === 'trim') dropTornTailSegments(repo, offsets);
    const last = offsets[offsets.length - 1];
    if (last === undefined) {
      return { writer: new StreamWriter(repo, opts, maxCommitBytes, null, null, lock, null), metadata: null };
    }
    const file = repo.openSegmentWriter(last);
    let index: IndexFile | null = null;
    try {
      index = tryOpenIndex(repo, last, true);
      const meta = validPrefix(last, file, index, onTrailing);
      ensureResumable(meta.header, opts.logFormatVersion);
      const current: CurrentSegment = {
        offset: last,
        header: meta.header,
        file,
        index: index
          ? new OffsetIndexWriter(index, opts.offsetIndexIntervalBytes, opts.offsetIndexRequireSegmentFsync)
          : null,
      };
      return {
        writer: new StreamWriter(
          repo,
          opts,
          maxCommitBytes,
          current,
          { ...meta.txRange },
          lock,
          lastLocalCommit(repo, offsets, meta),
        ),
        metadata: meta,
      };
    } catch (e) {
      index?.close();
      closeQuietly(file);
      throw e;
    }
  }

  /**
   * After `create`: the tx range of the last segment's valid commits; after appending: the range of the
   * last commit written. `end` is the offset the next commit must have. Null for an empty log.
   */
  get lastWrittenRange(): { start: number; end: number } | null {
    return this.lastWritten && { ...this.lastWritten };
  }

  /**
   * Appends every commit of `source` (chunks split anywhere). `progress` is called with the tx range
   * of each commit as it is written. Rejects on the first invalid byte; the writer is then unusable.
   */
  async appendAll(source: ByteSource, progress?: (range: { start: number; end: number }) => void): Promise<this> {
    this.ensureUsable();
    const input = new ChunkBuffer(source);
    try {
      for (;;) {
        if (!(await input.fill(1))) break;
        await input.fill(SEGMENT_HEADER_LEN);
        if (startsWithMagic(input.peek(SEGMENT_HEADER_LEN))) {
          this.startSegment(input);
        } else if (this.current === null && this.pendingSegment === null) {
          throw new InvalidDataError('no current segment, expected segment header');
        }
        let exhausted: boolean;
        try {
          exhausted = await this.appendCommits(input, progress);
        } finally {
          if (this.current) this.writeOut(this.current);
        }
        if (exhausted) break;
      }
      // A header with no commit after it is still copied, as a header-only segment.
      if (this.pendingSegment) this.openPendingSegment();
    } catch (e) {
      this.failed = e;
      await input.close().catch(() => undefined);
      throw e;
    }
    return this;
  }

  private startSegment(input: ChunkBuffer): void {
    const bytes = input.peek(SEGMENT_HEADER_LEN);
    if (bytes.length < SEGMENT_HEADER_LEN) {
      throw new UnexpectedEofError(`stream ends inside a segment header (${bytes.length} of ${SEGMENT_HEADER_LEN} bytes)`);
    }
    const header = decodeSegmentHeader(bytes);
    const offset = this.lastWritten ? this.lastWritten.end : 0;
    // FIX (issue 16 §3): the header is copied verbatim and becomes the newest segment, so anything
    // `open` refuses there is refused here, before the previous segment is closed or a file created.
    try {
      ensureResumable(header, this.options.logFormatVersion);
    } catch (e) {
      throw new StreamHeaderRefusedError(offset, header.logFormatVersion, header.checksumAlgorithm, e as Error);
    }
    if (this.current) this.finishSegment(this.current);
    // A pending header with no commit is replaced: its file would have been reused (createSegmentForStream).
    this.pendingSegment = { offset, header, bytes: bytes.slice(0, SEGMENT_HEADER_LEN) };
    input.consume(SEGMENT_HEADER_LEN);
  }

  /** Creates the file of the pending segment and writes its header verbatim. */
  private openPendingSegment(): CurrentSegment {
    const { offset, header, bytes } = this.pendingSegment!;
    const file = this.createSegmentForStream(offset);
    try {
      file.append(bytes, 0, SEGMENT_HEADER_LEN);
    } catch (e) {
      closeQuietly(file);
      throw e;
    }
    debug('stream: new segment %d', offset);
    this.pendingSegment = null;
    this.current = { offset, header, file, index: tryCreateOffsetIndexWriter(this.repo, offset, this.options) };
    return this.current;
  }

  private createSegmentForStream(offset: number): StorageFile {
    try {
      return this.repo.createSegment(offset);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const file = this.repo.openSegmentWriter(offset);
      if (file.size() <= SEGMENT_HEADER_LEN) {
        file.truncate(0);
        return file;
      }
      closeQuietly(file);
      throw e;
    }
  }

  /** Appends commits until the stream ends (true) or a segment header follows (false). */
  private async appendCommits(
    input: ChunkBuffer,
    progress: ((range: { start: number; end: number }) => void) | undefined,
  ): Promise<boolean> {
    const target = this.pendingSegment ?? this.current!;
    const checksumLen = CHECKSUM_LEN[target.header.checksumAlgorithm]!;
    // The batch is empty here; a pending segment will hold its header only.
    let position = this.current ? Math.max(this.current.file.size(), SEGMENT_HEADER_LEN) : SEGMENT_HEADER_LEN;
    for (;;) {
      if (!(await input.fill(1))) return true;
      await input.fill(SEGMENT_HEADER_LEN);
      if (startsWithMagic(input.peek(SEGMENT_HEADER_LEN))) return false;
      // A partial header at the very end is dropped silently, like the reference (QUIRK Q31).
      if (!(await input.fill(COMMIT_HEADER_LEN))) return true;
      const header = decodeCommitHeader(input.peek(COMMIT_HEADER_LEN), 0, 1)!;
      const need = COMMIT_HEADER_LEN + header.len + checksumLen;
      if (need > this.maxCommitBytes) {
        throw new InvalidDataError(
          `commit at offset ${header.minTxOffset} in the stream claims ${need} bytes, more than the ${this.maxCommitBytes} accepted`,
        );
      }
      if (!(await input.fill(need))) {
        throw new UnexpectedEofError(
          `stream ends inside the commit at offset ${header.minTxOffset}: ${input.available} of ${need} bytes`,
        );
      }
      const bytes = input.peek(need);
      const commit = decodeCommitFrame(bytes, 0, header, 1, false);
      const expected = this.lastWritten ? this.lastWritten.end : 0;
      const defect = this.defectOf(commit.minTxOffset, commit.checksum, expected);
      if (defect !== null) throw new StreamCommitRefusedError(defect, expected, commit.minTxOffset, target.offset);
      const current = this.current ?? this.openPendingSegment();
      this.out.write(bytes);
      if (this.out.length >= WRITE_BATCH_LEN) this.writeOut(current);
      input.consume(need);
      this.lastWritten = { start: commit.minTxOffset, end: commit.minTxOffset + commit.n };
      this.prev = { start: commit.minTxOffset, n: commit.n, checksum: commit.checksum, segment: current.offset };
      progress?.({ ...this.lastWritten });
      current.index?.onCommitWritten(commit.minTxOffset, position, need);
      position += need;
    }
  }

  /**
   * Why traversal would not yield a commit at `offset` after `prev` (SPEC §7.2: the same offset again
   * is skipped as a duplicate or reported as a fork, any other offset but `expected` is out of order),
   * or null. After an empty commit `expected` is its own offset, which traversal always refuses (Q28).
   */
  private defectOf(offset: number, checksum: number, expected: number): StreamCommitDefect | null {
    const prev = this.prev;
    if (prev !== null && offset === prev.start) {
      if (prev.n === 0) return 'empty-repeat';
      prev.checksum ??= checksumOfCommit(this.repo, prev.segment, prev.start);
      return prev.checksum === checksum ? 'duplicate' : 'fork';
    }
    if (offset === expected) return null;
    return offset > expected ? 'gap' : 'out-of-order';
  }

  private writeOut(current: CurrentSegment): void {
    if (this.out.length === 0) return;
    const len = this.out.length;
    this.out.length = 0;
    current.file.append(this.out.buf, 0, len);
  }

  /** Flush, fdatasync, then let the index catch up. */
  private finishSegment(current: CurrentSegment): void {
    this.writeOut(current);
    try {
      current.file.sync();
    } catch (e) {
      throw new FsyncFailedError(e, `segment ${current.offset}`);
    }
    current.index?.onSync();
    current.index?.close();
    closeQuietly(current.file);
    this.current = null;
  }

  /** Makes everything appended so far durable. */
  async syncAll(): Promise<void> {
    this.ensureUsable();
    const current = this.current;
    if (!current) return;
    this.writeOut(current);
    try {
      current.file.sync();
    } catch (e) {
      this.failed = e;
      throw new FsyncFailedError(e, `segment ${current.offset}`);
    }
    current.index?.onSync();
  }

  /** Best-effort sync, then releases the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const current = this.current;
    if (!current) {
      this.lock?.release();
      return;
    }
    try {
      if (this.failed === null) this.finishSegment(current);
    } catch (e) {
      debug('stream writer close: %s', messageOf(e));
    } finally {
      current.index?.close();
      closeQuietly(current.file);
      this.current = null;
      this.lock?.release();
    }
  }

  private ensureUsable(): void {
    if (this.closed) throw new ClosedError('stream writer');
    if (this.failed !== null) {
      throw new InvalidDataError(`stream writer failed earlier and must be re-created: ${messageOf(this.failed)}`, {
        cause: this.failed,
      });
    }
  }
}

/**
 * The last commit of the local log: that of the newest segment, or (for a header-only newest segment)
 * of the newest earlier segment holding one. Older segments are only read; one that cannot be read
 * leaves the previous commit unknown, and the next commit is then checked by offset alone.
 */
function lastLocalCommit(repo: Repo, offsets: readonly number[], newest: SegmentMetadata): PrevCommit | null {
  let meta: SegmentMetadata | null = newest;
  let segment = offsets[offsets.length - 1]!;
  // By size, not by tx range: a segment holding only empty commits has an empty range.
  const holdsCommits = (m: SegmentMetadata): boolean => m.sizeInBytes > SEGMENT_HEADER_LEN;
  for (let i = offsets.length - 2; meta !== null && !holdsCommits(meta) && i >= 0; i--) {
    segment = offsets[i]!;
    meta = readMetadata(repo, segment);
  }
  if (meta === null || !holdsCommits(meta)) return null;
  return { start: meta.maxCommitOffset, n: meta.txRange.end - meta.maxCommitOffset, checksum: null, segment };
}

function readMetadata(repo: Repo, segment: number): SegmentMetadata | null {
  let file: StorageFile | null = null;
  let index: IndexFile | null = null;
  try {
    file = repo.openSegmentReader(segment);
    index = tryOpenIndex(repo, segment);
    return extractMetadata(segment, file, index);
  } catch (e) {
    if (e instanceof InvalidCommitError) return e.sofar;
    debug('stream writer: cannot read segment %d for its last commit: %s', segment, messageOf(e));
    return null;
  } finally {
    index?.close();
    if (file) closeQuietly(file);
  }
}

/**
 * The checksum of the last commit at `offset` in `segment`, by a scan (only on the way to a refusal);
 * null if it cannot be read, which names the refusal a fork.
 */
function checksumOfCommit(repo: Repo, segment: number, offset: number): number | null {
  let file: StorageFile | null = null;
  try {
    file = repo.openSegmentReader(segment);
    const reader = new CommitReader(file, SEGMENT_HEADER_LEN, STREAM_LOG_FORMAT_VERSION);
    let found: number | null = null;
    for (let c = reader.next(); c !== null; c = reader.next()) {
      if (c.minTxOffset === offset) found = c.checksum;
      else if (c.minTxOffset > offset) break;
    }
    return found;
  } catch (e) {
    debug('stream writer: cannot read commit %d of segment %d: %s', offset, segment, messageOf(e));
    return null;
  } finally {
    if (file) closeQuietly(file);
  }
}

/**
 * With 'trim', newest segments shorter than a header (a crash between creating a segment and writing
 * its header) are removed, as `open` does (#4863): they hold no commit. Without it they are an error.
 */
function dropTornTailSegments(repo: Repo, offsets: number[]): void {
  for (let last = offsets[offsets.length - 1]; last !== undefined; last = offsets[offsets.length - 1]) {
    const file = repo.openSegmentReader(last);
    const size = file.size();
    closeQuietly(file);
    if (size >= SEGMENT_HEADER_LEN) return;
    debug('stream writer: removing torn segment %d (%d bytes)', last, size);
    repo.removeSegment(last);
    offsets.pop();
  }
}

/**
 * The valid prefix of the last segment. Trailing data (a torn or corrupt commit, or 1–21 stray bytes,
 * Q11 FIX) is an error with 'error' and cut off with 'trim' (segment always, index too, #5488/#4501).
 */
function validPrefix(offset: number, file: StorageFile, index: IndexFile | null, onTrailing: OnTrailingData): SegmentMetadata {
  let meta: SegmentMetadata;
  let cause: Error | null = null;
  try {
    meta = extractMetadata(offset, file, index);
  } catch (e) {
    if (!(e instanceof InvalidCommitError)) throw e;
    meta = e.sofar;
    cause = e;
  }
  const size = file.size();
  if (cause === null && size === meta.sizeInBytes) return meta;
  if (cause === null && isZeroTail(file, meta.sizeInBytes)) {
    // Preallocated space (issue 7) is not data: cut it in either mode, as opening a log does.
    debug('stream writer: cutting %d zero bytes after segment %d', size - meta.sizeInBytes, offset);
    file.truncate(meta.sizeInBytes);
    file.sync();
    return meta;
  }
  const what = cause ? messageOf(cause) : `${size - meta.sizeInBytes} stray bytes after the last commit`;
  if (onTrailing === 'error') {
    throw new InvalidDataError(`trailing data in segment ${offset} at byte ${meta.sizeInBytes}: ${what}`, {
      cause: cause ?? undefined,
    });
  }
  debug('stream writer: trimming segment %d at byte %d (%s)', offset, meta.sizeInBytes, what);
  index?.truncate(meta.txRange.end);
  file.truncate(meta.sizeInBytes);
  file.sync();
  return meta;
}
