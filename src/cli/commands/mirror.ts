/** `clog mirror <url|dir> <dest>`: copy a remote or local log, resuming after what `dest` holds. */
import type { Command } from 'commander';
import { committedMeta, InvalidCommitError, InvalidDataError } from '../../index.js';
import { fetchMeta, isUrl, mirror } from '../../server/mirror.js';
import { Progress, formatBytes, parseOffsetArg } from '../output.js';

interface MirrorFlags {
  follow?: boolean;
  trim?: boolean;
  token?: string;
  json?: boolean;
  maxSegmentSize?: string;
  offsetIndexIntervalBytes?: string;
}

function sourceMaxOffset(source: string, token?: string): Promise<number | null> {
  if (isUrl(source)) return fetchMeta(source, token).then((m) => m.maxCommittedOffset);
  try {
    const meta = committedMeta(source);
    return Promise.resolve(meta && meta.txRange.end > 0 ? meta.txRange.end - 1 : null);
  } catch (e) {
    if (e instanceof InvalidCommitError) return Promise.resolve(e.sofar.txRange.end - 1);
    throw e;
  }
}

/**
 * A torn tail in `dest` (a mirror stopped by a kill or a full disk) is refused without --trim; the
 * message names the re-run that cuts it (issue 16 §5), since the library's text cannot know the CLI.
 */
function withTrimHint(e: unknown, source: string, dest: string): unknown {
  if (!(e instanceof InvalidDataError) || !/^trailing data in segment /.test(e.message)) return e;
  return new InvalidDataError(
    `${dest}: ${e.message}. An interrupted mirror leaves such a tail; ` +
      `re-run with --trim to cut it and continue: clog mirror ${source} ${dest} --trim`,
    { cause: e },
  );
}

export function registerMirror(program: Command): void {
  program
    .command('mirror')
    .description('copy a log from a server or a directory into <dest>, resuming where <dest> ends')
    .argument('<source>', 'http(s)://host:port of `clog serve`, or a log directory')
    .argument('<dest>', 'destination log directory')
    .option('--follow', 'keep running and copy new commits as they are written')
    .option('--trim', 'cut a torn tail left in <dest> by an interrupted mirror')
    .option('--token <token>', 'bearer token for the server')
    .option('--max-segment-size <bytes>', 'maxSegmentSize of <dest> (use the source log\'s)')
    .option('--offset-index-interval-bytes <bytes>', 'offsetIndexIntervalBytes of <dest>')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Examples:
  clog mirror http://127.0.0.1:3000 ./replica
  clog mirror http://db1:3000 ./replica --follow --token s3cret
  clog mirror ./db/clog ./backup --trim`,
    )
    .action(async (source: string, dest: string, flags: MirrorFlags) => {
      const logOptions = {
        maxSegmentSize: flags.maxSegmentSize ? parseOffsetArg(flags.maxSegmentSize, 'max-segment-size') : undefined,
        offsetIndexIntervalBytes: flags.offsetIndexIntervalBytes
          ? parseOffsetArg(flags.offsetIndexIntervalBytes, 'offset-index-interval-bytes')
          : undefined,
      };
      const total = await sourceMaxOffset(source, flags.token).catch(() => null);
      const progress = new Progress('mirror', total === null ? 0 : total + 1);
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const started = Date.now();
      try {
        const result = await mirror(source, dest, {
          follow: flags.follow,
          trim: flags.trim,
          token: flags.token,
          logOptions,
          signal: abort.signal,
          onProgress: (range, bytes) => progress.update(range.end, formatBytes(bytes)),
        }).catch((e: unknown) => {
          throw flags.trim ? e : withTrimHint(e, source, dest);
        });
        progress.stop();
        const seconds = (Date.now() - started) / 1000;
        if (flags.json) {
          process.stdout.write(JSON.stringify({ ...result, seconds }) + '\n');
        } else {
          process.stdout.write(
            `mirrored ${result.commits} commits (${formatBytes(result.bytes)}) from offset ${result.from} ` +
              `in ${seconds.toFixed(2)} s; ${dest} now ends at offset ${result.lastOffset ?? 'none'}\n`,
          );
        }
      } finally {
        progress.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
