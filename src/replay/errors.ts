/** Replay failures: each names the transaction offset (and table, where known) it stopped at. */
import { TxdataDecoderError } from '../payload/errors.js';
import { CommitlogError, ErrorCodes, messageOf } from '../errors.js';

export type ReplayErrorReason =
  /** A mutation names a table neither the system tables nor the log's `st_table`/`st_column` describe. */
  | 'UnknownTable'
  /** `st_table`/`st_column` rows that do not make a usable schema (gaps, undecodable column types). */
  | 'BadSchema'
  /** A row, or the Txdata around it, does not decode (truncated, bad tags, trailing bytes...). */
  | 'Damaged'
  /** The segment's log format version is newer than the Txdata decoder reads. */
  | 'UnsupportedVersion';

export class ReplayError extends CommitlogError {
  constructor(
    readonly reason: ReplayErrorReason,
    /** The tx offset of the record being replayed. */
    readonly offset: number,
    detail: string,
    readonly tableId?: number,
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.TXDATA_DECODE, `replay stopped at tx offset ${offset}: ${detail}`, options);
  }
}

/** The first `ReplayError` in a chain of causes (the Txdata decoder wraps visitor errors). */
export function findReplayError(e: unknown): ReplayError | null {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 16; c = c.cause, depth++) {
    if (c instanceof ReplayError) return c;
  }
  return null;
}

/** A decoding failure at `offset` as a `ReplayError` (kept as is if it already is one). */
export function wrapReplayError(e: unknown, offset: number): Error {
  const found = findReplayError(e);
  if (found) return found;
  if (e instanceof TxdataDecoderError && e.kind === 'UnsupportedVersion') {
    return new ReplayError('UnsupportedVersion', offset, e.message, undefined, { cause: e });
  }
  const cause = e instanceof TxdataDecoderError && e.cause !== undefined ? e.cause : e;
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new ReplayError('Damaged', offset, `${NOT_TXDATA}: ${msg}`, undefined, { cause: e });
}

/**
 * What a record that does not decode most likely means: a log not written by SpacetimeDB, or another
 * format inside (issue 17: "9900 bytes left over" alone read like a bug of clog).
 */
const NOT_TXDATA = 'the record does not look like a SpacetimeDB transaction (Txdata)';

/** A commit whose records decoded but did not use all its bytes: not Txdata, or damaged inside. */
export function leftOverError(c: { minTxOffset: number; n: number }, remaining: number): ReplayError {
  return new ReplayError(
    'Damaged',
    c.minTxOffset + c.n - 1,
    `the records of the commit at tx offset ${c.minTxOffset} do not look like SpacetimeDB transactions (Txdata): ` +
      `${remaining} bytes left over after its ${c.n} record(s)`,
  );
}

export { messageOf };
