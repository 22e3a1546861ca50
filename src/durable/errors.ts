/** Errors of the durability layer. */
import { PoisonedError, messageOf } from '../errors.js';

/**
 * Writing a commit failed (not its fsync): the durable log refuses further use. A `PoisonedError` (same
 * `code`), so callers handle one family: `FsyncFailedError` for a failed sync, `PoisonedError` for the rest.
 */
export class LogWriteFailedError extends PoisonedError {
  constructor(cause: unknown) {
    super(cause);
    this.message = `writing a commit failed, the durable log refuses further use: ${messageOf(cause)}`;
  }
}
