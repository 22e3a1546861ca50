/**
 * Typed errors (SPEC §12). Every error has a stable `code`; messages carry the segment and offset
 * where known, and the low-level error is kept as the standard `cause`.
 */

export const ErrorCodes = {
  INVALID_DATA: 'INVALID_DATA',
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  UNEXPECTED_EOF: 'UNEXPECTED_EOF',
  INVALID_INPUT: 'INVALID_INPUT',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  IO: 'IO',
  TRAVERSAL_OUT_OF_ORDER: 'TRAVERSAL_OUT_OF_ORDER',
  TRAVERSAL_FORKED: 'TRAVERSAL_FORKED',
  TRAVERSAL_DECODE: 'TRAVERSAL_DECODE',
  TRAVERSAL_CHECKSUM: 'TRAVERSAL_CHECKSUM',
  TRAVERSAL_IO: 'TRAVERSAL_IO',
  APPEND: 'APPEND',
  INVALID_COMMIT: 'INVALID_COMMIT',
  INDEX_IO: 'INDEX_IO',
  INDEX_OUT_OF_RANGE: 'INDEX_OUT_OF_RANGE',
  INDEX_KEY_NOT_FOUND: 'INDEX_KEY_NOT_FOUND',
  INDEX_INVALID_INPUT: 'INDEX_INVALID_INPUT',
  INDEX_INVALID_FORMAT: 'INDEX_INVALID_FORMAT',
  DECODE: 'DECODE',
  FSYNC_FAILED: 'FSYNC_FAILED',
  POISONED: 'POISONED',
  ASSERTION: 'ASSERTION',
  CLOSED: 'CLOSED',
  LOCKED: 'LOCKED',
  DAMAGED_COMMIT: 'DAMAGED_COMMIT',
  STREAM_HEADER_REFUSED: 'STREAM_HEADER_REFUSED',
  STREAM_COMMIT_REFUSED: 'STREAM_COMMIT_REFUSED',
  TXDATA_UNSUPPORTED_VERSION: 'TXDATA_UNSUPPORTED_VERSION',
  TXDATA_DECODE: 'TXDATA_DECODE',
  TXDATA_VISITOR: 'TXDATA_VISITOR',
  TXDATA_TRAVERSE: 'TXDATA_TRAVERSE',
  EXPORT_MISMATCH: 'EXPORT_MISMATCH',
  EXPORT_UNSUPPORTED_TYPE: 'EXPORT_UNSUPPORTED_TYPE',
  EXPORT_WRITE: 'EXPORT_WRITE',
  READ_ONLY: 'READ_ONLY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The Rust `io::ErrorKind` of an I/O-kind error, used to classify read failures (§6.4, §7.2). */
export type IoKind = 'InvalidData' | 'UnexpectedEof' | 'InvalidInput' | 'AlreadyExists' | 'NotFound' | 'Other';

export class CommitlogError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Base of the errors that stand for a Rust `io::Error`; `kind` drives error classification. */
export abstract class IoKindError extends CommitlogError {
  abstract readonly kind: IoKind;
}

export class InvalidDataError extends IoKindError {
  readonly kind = 'InvalidData' as const;
  constructor(message: string, options?: { cause?: unknown }, code: ErrorCode = ErrorCodes.INVALID_DATA) {
    super(code, message, options);
  }
}

/** A commit whose stored CRC32C differs from the one computed over its header and records. */
export class ChecksumMismatchError extends InvalidDataError {
  constructor(
    readonly expected: number,
    readonly actual: number,
    context = '',
  ) {
    super(
      `checksum mismatch${context}: stored=${hex32(expected)} computed=${hex32(actual)}`,
      undefined,
      ErrorCodes.CHECKSUM_MISMATCH,
    );
  }
}

export class UnexpectedEofError extends IoKindError {
  readonly kind = 'UnexpectedEof' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.UNEXPECTED_EOF, message, options);
  }
}

export class InvalidInputError extends IoKindError {
  readonly kind = 'InvalidInput' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INVALID_INPUT, message, options);
  }
}

export class AlreadyExistsError extends IoKindError {
  readonly kind = 'AlreadyExists' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.ALREADY_EXISTS, message, options);
  }
}

export class NotFoundError extends IoKindError {
  readonly kind = 'NotFound' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.NOT_FOUND, message, options);
  }
}

/** Any other OS-level failure; `errno` is the Node error code (`ENOSPC`, `EIO`, ...). */
export class IoError extends IoKindError {
  readonly kind = 'Other' as const;
  readonly errno: string | undefined;
  constructor(message: string, options?: { cause?: unknown; errno?: string }) {
    super(ErrorCodes.IO, message, options);
    this.errno = options?.errno ?? (options?.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

// ---------------------------------------------------------------------------------------------
// Traversal errors (§12.2)

export abstract class TraversalError extends CommitlogError {}

export class OutOfOrderError extends TraversalError {
  constructor(
    readonly expectedOffset: number,
    readonly actualOffset: number,
    readonly prevError: TraversalError | null,
  ) {
    super(
      ErrorCodes.TRAVERSAL_OUT_OF_ORDER,
      // The damage comes first when there is some: the gap is only its consequence.
      (prevError ? `${prevError.message}; after it: ` : '') +
        `out-of-order commit: expected-offset=${expectedOffset} actual-offset=${actualOffset}`,
      prevError ? { cause: prevError } : undefined,
    );
  }
}

export class ForkedError extends TraversalError {
  constructor(readonly offset: number) {
    super(ErrorCodes.TRAVERSAL_FORKED, `forked history: offset=${offset}`);
  }
}

/** Defined for completeness: 1.3.0 never produces it (QUIRK Q29). */
export class TraversalDecodeError extends TraversalError {
  constructor(
    readonly offset: number,
    cause: unknown,
  ) {
    super(ErrorCodes.TRAVERSAL_DECODE, `failed to decode tx record at offset=${offset}`, { cause });
  }
}

export class TraversalChecksumError extends TraversalError {
  constructor(
    readonly offset: number,
    cause: ChecksumMismatchError,
    readonly segment?: number,
  ) {
    super(
      ErrorCodes.TRAVERSAL_CHECKSUM,
      `checksum mismatch at offset=${offset}` + (segment === undefined ? '' : ` in segment ${segment}`),
      { cause },
    );
  }
}

export class TraversalIoError extends TraversalError {
  constructor(
    cause: Error,
    readonly segment?: number,
  ) {
    super(
      ErrorCodes.TRAVERSAL_IO,
      `failed to read commitlog${segment === undefined ? '' : ` segment ${segment}`}: ${cause.message}`,
      { cause },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Others (§12.3, §12.7)

export class AppendError<T = unknown> extends CommitlogError {
  constructor(
    readonly txdata: T,
    cause: unknown,
  ) {
    super(ErrorCodes.APPEND, `failed to commit during append: ${messageOf(cause)}`, { cause });
  }
}

export type IndexErrorCode =
  | typeof ErrorCodes.INDEX_IO
  | typeof ErrorCodes.INDEX_OUT_OF_RANGE
  | typeof ErrorCodes.INDEX_KEY_NOT_FOUND
  | typeof ErrorCodes.INDEX_INVALID_INPUT
  | typeof ErrorCodes.INDEX_INVALID_FORMAT;

export class IndexError extends CommitlogError {
  constructor(
    code: IndexErrorCode,
    message: string,
    options?: { cause?: unknown },
    readonly lastKey?: number,
    readonly key?: number,
  ) {
    super(code, message, options);
  }
  static outOfRange(): IndexError {
    return new IndexError(ErrorCodes.INDEX_OUT_OF_RANGE, 'Index file out of range');
  }
  static keyNotFound(): IndexError {
    return new IndexError(ErrorCodes.INDEX_KEY_NOT_FOUND, 'Asked key is smaller than the first entry in the index');
  }
  static invalidInput(key: number, lastKey: number): IndexError {
    return new IndexError(
      ErrorCodes.INDEX_INVALID_INPUT,
      `Key should be monotonically increasing: input: ${key}, last: ${lastKey}`,
      undefined,
      lastKey,
      key,
    );
  }
  static io(cause: unknown): IndexError {
    return new IndexError(ErrorCodes.INDEX_IO, `index file I/O error: ${messageOf(cause)}`, { cause });
  }
}

export type DecodeReason = 'BufferLength' | 'InvalidLen' | 'InvalidTag' | 'InvalidUtf8' | 'InvalidBool' | 'Other';

/** Payload decoding failure (Rust `sats::buffer::DecodeError`). */
export class DecodeError extends CommitlogError {
  constructor(
    readonly reason: DecodeReason,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(ErrorCodes.DECODE, message);
  }
  static bufferLength(forType: string, expected: number, given: number): DecodeError {
    return new DecodeError(
      'BufferLength',
      `data too short for ${forType}: expected ${expected} bytes, ${given} available`,
      { forType, expected, given },
    );
  }
}

export class FsyncFailedError extends CommitlogError {
  constructor(cause: unknown, what = 'segment') {
    super(ErrorCodes.FSYNC_FAILED, `fsync of ${what} failed: ${messageOf(cause)}`, { cause });
  }
}

export class PoisonedError extends CommitlogError {
  constructor(cause?: unknown) {
    super(ErrorCodes.POISONED, 'commitlog is poisoned by an earlier fsync failure and refuses further use', {
      cause,
    });
  }
}

export class ClosedError extends CommitlogError {
  constructor(what = 'commitlog') {
    super(ErrorCodes.CLOSED, `${what} is closed`);
  }
}

/**
 * Another writer (another process, or another open log in this one) holds the directory's
 * single-writer lock (SPEC §11A). `holder` is what the holder recorded in the lock file, if readable.
 */
export class LockedError extends CommitlogError {
  constructor(
    readonly path: string,
    readonly holder: { pid?: number; hostname?: string; startedAt?: string } | null,
  ) {
    super(
      ErrorCodes.LOCKED,
      `${path} is locked by ${holder ? `pid ${holder.pid} on ${holder.hostname} (since ${holder.startedAt})` : 'another writer (not named in the lock file)'}: ` +
        'another writer has this log open; close it or stop that process, then retry (the lock is released when its holder exits; do not delete the lock file)',
    );
  }
}

/**
 * A commit that does not verify with intact commits after it: bit rot, not a torn tail (issue 16,
 * FIX over 1.3.0, which cut the segment there and lost every commit behind the damage). Nothing was
 * changed on disk; only an explicit `reset-to` discards the damaged commit and what follows.
 */
export class DamagedCommitError extends CommitlogError {
  constructor(
    readonly segment: number,
    readonly position: number,
    readonly offset: number,
    /** How many intact commits were found after the damage, and the offset of the first. */
    readonly intactAfter: number,
    readonly nextIntactOffset: number,
    readonly dir: string,
    cause?: unknown,
  ) {
    super(
      ErrorCodes.DAMAGED_COMMIT,
      `damaged commit in segment ${segment} at byte ${position} (offset ${offset}), followed by ${intactAfter} intact ` +
        `commit${intactAfter === 1 ? '' : 's'} (from offset ${nextIntactOffset}): this is not a torn tail, so nothing was cut. ` +
        (offset > 0
          ? `To discard the damaged commit and everything after it: clog reset-to ${dir} ${offset - 1} --yes`
          : `Offset 0 itself is damaged: restore the log from a replica or backup`) +
        (cause ? ` (${messageOf(cause)})` : ''),
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * A segment header in a stream that `open` would refuse as the log's newest segment (issue 16 §3).
 * Refused before the local segment file is created; `cause` is the error of the shared check.
 */
export class StreamHeaderRefusedError extends InvalidDataError {
  constructor(
    /** The local segment the header would have started. */
    readonly segment: number,
    readonly logFormatVersion: number,
    readonly checksumAlgorithm: number,
    cause: Error,
  ) {
    super(
      `stream refused: segment header for local segment ${segment} would make the log unopenable: ${cause.message}`,
      { cause },
      ErrorCodes.STREAM_HEADER_REFUSED,
    );
  }
}

/**
 * Why a stream commit is refused: each is what local traversal would report (or, for `duplicate`,
 * silently skip) if the commit were appended after the previous one.
 */
export type StreamCommitDefect = 'duplicate' | 'fork' | 'empty-repeat' | 'gap' | 'out-of-order';

/**
 * A stream commit that local traversal would not yield after the log's last commit (issue 16 §3).
 * Refused before any of its bytes is written. The message keeps "expected commit offset E but
 * encountered A" (SPEC §11.3.2) after the specific reason.
 */
export class StreamCommitRefusedError extends InvalidDataError {
  constructor(
    readonly defect: StreamCommitDefect,
    readonly expectedOffset: number,
    readonly actualOffset: number,
    /** The local segment the commit would have been appended to. */
    readonly segment: number,
  ) {
    super(
      `stream refused: ${STREAM_DEFECT_TEXT[defect]} in local segment ${segment}: ` +
        `expected commit offset ${expectedOffset} but encountered ${actualOffset}`,
      undefined,
      ErrorCodes.STREAM_COMMIT_REFUSED,
    );
  }
}

const STREAM_DEFECT_TEXT: Record<StreamCommitDefect, string> = {
  duplicate: 'duplicate of the previous commit',
  fork: 'forked history (same offset as the previous commit, different bytes)',
  'empty-repeat': 'commit repeating the offset of the previous, empty (n = 0) commit',
  gap: 'gap in offsets',
  'out-of-order': 'commit offset behind the log',
};

/** A write (append, truncate, create, remove, compress) on a read-only repository such as an `S3Repo`. */
export class ReadOnlyError extends CommitlogError {
  constructor(
    readonly what: string,
    readonly operation: string,
  ) {
    super(ErrorCodes.READ_ONLY, `${what} is read-only: ${operation} refused (restore the archive to a directory to modify it)`);
  }
}

export class AssertionError extends CommitlogError {
  constructor(message: string) {
    super(ErrorCodes.ASSERTION, message);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The classification of §6.4/§7.2: only these kinds count as "corrupt commit" rather than I/O. */
export function isCorruptionKind(e: unknown): e is InvalidDataError | UnexpectedEofError {
  return e instanceof InvalidDataError || e instanceof UnexpectedEofError;
}

/** Maps a Node system error to the typed I/O error of the same Rust kind. Typed errors pass through. */
export function fromSystemError(e: unknown, context: string): Error {
  if (e instanceof CommitlogError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const msg = `${context}: ${messageOf(e)}`;
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(msg, { cause: e });
    case 'EEXIST':
      return new AlreadyExistsError(msg, { cause: e });
    default:
      return new IoError(msg, { cause: e, errno: code });
  }
}

