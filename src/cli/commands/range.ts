/**
 * Offsets past the end of the log (issue 17): printing nothing, or the final state, without a word
 * would read as "the log has nothing there" or "this is the state at --at". `--from` past the end is a
 * usage error (exit 2); `--at` past the end shows the final state with a warning on stderr.
 */
import { lastCommits } from '../../api/ops.js';
import type { LogSource } from '../../index.js';
import { UsageError } from '../output.js';

function ending(last: number): string {
  return last < 0 ? 'the log has no transactions' : `last offset ${last}`;
}

/** Warns when `--at` is past the last transaction replayed (`last`, -1 for none). */
export function warnAtPastEnd(at: number | undefined, last: number, shown = 'showing the state'): void {
  if (at === undefined || at <= last) return;
  process.stderr.write(
    `clog: warning: --at ${at} is past the end of the log (${ending(last)}); ${shown} after ${last < 0 ? 'no transaction' : `offset ${last}`}\n`,
  );
}

/**
 * After a command printed nothing for `--from`: a usage error when `from` is past the log's last
 * transaction (read from the newest segment only). Silent when that cannot be read cleanly.
 */
export function checkFromPastEnd(dir: LogSource, from: number, flag = '--from'): void {
  if (from === 0) return;
  const tail = lastCommits(dir, 1);
  if (tail.error !== null) return;
  const last = tail.nextOffset - 1;
  if (from > last) throw new UsageError(`${flag} ${from} is past the end of the log (${ending(last)})`);
}

/**
 * The replaying commands leave out a damaged or cut-short last commit, as the library's folds do (a
 * crash during a write leaves one; opening the log for writing repairs it). Said, not silent: the state
 * shown stops before it.
 */
export function warnSkippedTail(reason: string | null): void {
  if (reason === null) return;
  process.stderr.write(`clog: warning: the log's last commit is damaged or incomplete (a torn write?) and was left out: ${reason}\n`);
}
