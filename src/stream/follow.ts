/**
 * Following a live log: stream a range, then keep polling for commits flushed after it (by this or
 * another process) and stream those too, until the range end, or until `signal` aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnexpectedEofError } from '../errors.js';
import type { LogSource } from '../log/free.js';
import { rangeFromBounds, type TxRange } from './range.js';
import { type StreamPosition, type StreamReadOptions, streamCommitsSync } from './reader.js';

export interface FollowOptions extends StreamReadOptions {
  /** How often to look for new commits, in ms. Default 100. */
  pollMs?: number;
  signal?: AbortSignal;
}

export async function* followCommits(
  source: LogSource,
  range: TxRange = {},
  options: FollowOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const pollMs = options.pollMs ?? 100;
  const bounds = rangeFromBounds(range);
  const position: StreamPosition = { nextOffset: null };
  let pass: TxRange = range;
  for (;;) {
    try {
      for (const chunk of streamCommitsSync(source, pass, position, options)) {
        yield chunk;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (e) {
      // The newest commit may still be being written: what came before it was yielded, retry it later.
      if (!(e instanceof UnexpectedEofError)) throw e;
    }
    if (bounds.end !== null && position.nextOffset !== null && position.nextOffset > bounds.end) return;
    if (options.signal?.aborted) return;
    try {
      await sleep(pollMs, undefined, { signal: options.signal });
    } catch {
      return; // aborted
    }
    pass = { start: position.nextOffset ?? bounds.start, end: bounds.end ?? undefined, endInclusive: true };
  }
}
