/** `clog tail <dir> [-f]`: the last commits, then (with -f) new ones as they are written. */
import type { Command } from 'commander';
import { followDump, lastCommits } from '../../api/ops.js';
import { UsageError, parseOffsetArg } from '../output.js';
import { type SourceFlags, openLogSource, refuseFollow, withSourceOptions } from '../source.js';
import { LineWriter, reportTraversalError } from './dump.js';

interface TailFlags extends SourceFlags {
  lines: string;
  follow?: boolean;
  interval: string;
  records?: boolean;
  json?: boolean;
}

export function registerTail(program: Command): void {
  withSourceOptions(
    program
      .command('tail')
      .description('print the last commits as JSON lines (like dump); with -f keep printing new ones')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX (not with -f)'),
  )
    .option('-n, --lines <count>', 'how many of the last commits to print', '10')
    .option('-f, --follow', 'keep running and print commits as they are written (Ctrl-C to stop)')
    .option('--interval <ms>', 'with -f: how often to look for new commits', '200')
    .option('--records', 'add the records of each commit as a hex string ("records")')
    .option('--json', 'JSON lines (the default and only format; accepted for uniformity)')
    .addHelpText(
      'after',
      `
Lines have the format of 'clog dump'. With -f a damaged or half-written newest commit is not reported:
it is read again at the next poll (a writer may still be writing it).

Examples:
  clog tail ./db/clog
  clog tail ./db/clog -n 100
  clog tail ./db/clog -f --interval 1000`,
    )
    .action(async (dir: string, flags: TailFlags) => {
      const count = parseOffsetArg(flags.lines, 'lines');
      const intervalMs = parseOffsetArg(flags.interval, 'interval');
      if (intervalMs === 0) throw new UsageError('--interval must be at least 1 ms');
      refuseFollow(dir, flags.follow, 'tail');
      const source = openLogSource(dir, flags);
      const out = new LineWriter();
      const last = lastCommits(source, count, { records: flags.records });
      for (const c of last.commits) out.line(c);
      out.flush();
      if (!flags.follow) {
        if (last.error) reportTraversalError(last.error);
        return;
      }
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for await (const c of followDump(dir, last.nextOffset, { records: flags.records, intervalMs, signal: abort.signal })) {
          out.line(c);
          out.flush();
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
