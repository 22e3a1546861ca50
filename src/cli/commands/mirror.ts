/** `clog mirror <url|dir> <dest>`: copy a remote or local log, resuming after what `dest` holds. */
import type { Command } from 'commander';
import { committedMeta, InvalidCommitError, InvalidDataError } from '../../index.js';
import { openLogDir } from '../../api/ops.js';
import { fetchMeta, hasUrlScheme, isUrl, mirror } from '../../server/mirror.js';
import { count, formatBytes, noteIfNoSegments, parseOffsetArg, Progress, StatusLine, UsageError } from '../output.js';

interface MirrorFlags {
  follow?: boolean;
  trim?: boolean;
  token?: string;
  json?: boolean;
  maxSegmentSize?: string;
  offsetIndexIntervalBytes?: string;
}

/** The source's last offset (for the progress total); says so on stderr when the source has no segments. */
function sourceMaxOffset(source: string, token?: string): Promise<number | null> {
  if (isUrl(source)) {
    return fetchMeta(source, token).then((m) => {
      if (m.segments.length === 0) process.stderr.write(`clog: no commitlog segments (*.stdb.log) on ${source}\n`);
      return m.maxCommittedOffset;
    });
  }
  openLogDir(source); // refuses a missing directory (committedMeta would create it)
  noteIfNoSegments(source);
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
    .option('--max-segment-size <bytes>', 'maxSegmentSize of <dest> (default: the source\'s, see below)')
    .option('--offset-index-interval-bytes <bytes>', 'offsetIndexIntervalBytes of <dest> (default: the source\'s)')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
<source> is http:// or https:// (a 'clog serve'), or an existing log directory; other URL schemes
and a missing directory are refused (exit 2) before anything is created. A first mirror that fails
before any commit is copied removes the <dest> it created.

By default <dest> gets the source's index options, so that the copy is byte-identical, index files
included: a server publishes them in /v1/meta (given to 'clog serve', or derived from its index
files); a source directory's are derived the same way. The two flags override them.

Examples:
  clog mirror http://127.0.0.1:3000 ./replica
  clog mirror http://db1:3000 ./replica --follow --token s3cret
  clog mirror ./db/clog ./backup --trim`,
    )
    .action(async (source: string, dest: string, flags: MirrorFlags) => {
      if (hasUrlScheme(source) && !isUrl(source)) {
        throw new UsageError(`unsupported source '${source}': clog mirror reads http://, https:// or a log directory`);
      }
      if (hasUrlScheme(dest)) throw new UsageError(`the destination must be a local directory, not '${dest}'`);
      const logOptions = {
        maxSegmentSize: flags.maxSegmentSize ? parseOffsetArg(flags.maxSegmentSize, 'max-segment-size') : undefined,
        offsetIndexIntervalBytes: flags.offsetIndexIntervalBytes
          ? parseOffsetArg(flags.offsetIndexIntervalBytes, 'offset-index-interval-bytes')
          : undefined,
      };
      // A failure here (no such directory, server unreachable) is the mirror's failure too: report it now.
      const total = await sourceMaxOffset(source, flags.token);
      const progress = flags.follow ? null : new Progress('mirror', total === null ? 0 : total + 1);
      const status = flags.follow ? new StatusLine() : null;
      let commits = 0;
      const onProgress = (range: { start: number; end: number }, bytes: number): void => {
        commits++;
        const run = `${count(commits, 'commit')}, ${formatBytes(bytes)} received this run`;
        if (progress) progress.update(range.end, run);
        // No total: the source keeps growing. Where the copy is, what this run did, and that it goes on.
        else status!.update(`mirror: following ${source}: at offset ${range.end - 1}; ${run}; Ctrl-C stops`);
      };
      const stopProgress = (): void => {
        progress?.stop();
        status?.stop();
      };
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
          onProgress,
        }).catch((e: unknown) => {
          throw flags.trim ? e : withTrimHint(e, source, dest);
        });
        stopProgress();
        const seconds = (Date.now() - started) / 1000;
        if (flags.json) {
          process.stdout.write(JSON.stringify({ ...result, seconds }) + '\n');
        } else {
          process.stdout.write(
            `mirrored ${count(result.commits, 'commit')} (${formatBytes(result.bytes)}) from offset ${result.from} ` +
              `in ${seconds.toFixed(2)} s; ${dest} now ends at offset ${result.lastOffset ?? 'none'}\n`,
          );
        }
      } finally {
        stopProgress();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
