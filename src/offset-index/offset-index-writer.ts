/**
 * Decides which commits get an index entry (SPEC §3.3, the reference's `OffsetIndexWriter`): the first
 * commit written since the previous entry, once at least `offsetIndexIntervalBytes` have accumulated.
 */
import { IndexError } from '../errors.js';
import { debug } from '../debug.js';
import type { IndexFile } from './index-file.js';

export class OffsetIndexWriter {
  /** 0 means "no candidate", which is why tx offset 0 is never indexed (QUIRK Q12). */
  private candidateTx = 0;
  private candidatePos = 0;
  private bytesSince = 0;

  constructor(
    readonly index: IndexFile,
    private readonly intervalBytes: number,
    private readonly requireSegmentFsync: boolean,
  ) {}

  onCommitWritten(minTxOffset: number, position: number, commitLen: number): void {
    this.bytesSince += commitLen;
    if (this.candidateTx === 0) {
      this.candidateTx = minTxOffset;
      this.candidatePos = position;
    }
    if (!this.requireSegmentFsync) this.appendAfterLogged();
  }

  /**
   * Writes the pending entry if due. On failure nothing is reset, so the same stale candidate is
   * retried by every later commit (QUIRK Q13).
   */
  tryAppend(): void {
    if (this.candidateTx === 0 || this.bytesSince < this.intervalBytes) return;
    this.index.append(this.candidateTx, this.candidatePos);
    this.index.asyncFlush();
    this.candidateTx = 0;
    this.candidatePos = 0;
    this.bytesSince = 0;
  }

  /** `tryAppend` with errors logged and swallowed (index errors are never fatal, §12.5). */
  appendAfterLogged(): void {
    try {
      this.tryAppend();
    } catch (e) {
      debug('offset index append failed (candidate %d): %s', this.candidateTx, (e as Error).message);
    }
  }

  /** After a segment fsync: append the due entry and flush, errors logged. */
  onSync(): void {
    this.appendAfterLogged();
    try {
      this.index.asyncFlush();
    } catch (e) {
      debug('offset index flush failed: %s', (e as Error).message);
    }
  }

  /** Drops the candidate and every entry with key ≥ `txOffset`; errors logged. */
  ftruncate(txOffset: number): void {
    this.candidateTx = 0;
    this.candidatePos = 0;
    this.bytesSince = 0;
    try {
      this.index.truncate(txOffset);
    } catch (e) {
      debug('offset index truncate to %d failed: %s', txOffset, (e as Error).message);
    }
  }

  close(): void {
    this.index.close();
  }
}

/** Shorthand used by writers: an index error is reported as "no index". */
export function isIndexError(e: unknown): e is IndexError {
  return e instanceof IndexError;
}
