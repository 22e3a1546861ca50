/** `clog dump <dir>`: one JSON line per commit, as the readers see them. */
import type { Command } from 'commander';
import { dumpCommits } from '../../api/ops.js';
import { TraversalError } from '../../index.js';
import { EXIT_PROBLEMS, UsageError, parseOffsetArg } from '../output.js';
import { type SourceFlags, openLogSource, withSourceOptions } from '../source.js';
import { checkFromPastEnd, warnSkippedTail } from './range.js';

/** Output is batched: one write per this many bytes of lines. */
const WRITE_BATCH = 64 * 1024;

/**
 * Buffers lines for stdout. A closed pipe (`clog dump | head`) ends the process quietly, as the
 * Unix tools do, instead of failing with EPIPE.
 */
export class LineWriter {
  private buf = '';

  constructor() {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }

  line(value: unknown): void {
    this.buf += JSON.stringify(withHexChecksum(value)) + '\n';
    if (this.buf.length >= WRITE_BATCH) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    process.stdout.write(this.buf);
    this.buf = '';
  }
}

/**
 * A commit's CRC32C as the 8 hex digits every other output (errors, `verify`, the demo) uses; the
 * library's entries keep the number.
 */
function withHexChecksum(value: unknown): unknown {
  const v = value as { checksum?: unknown } | null;
  if (v === null || typeof v !== 'object' || typeof v.checksum !== 'number') return value;
  return { ...v, checksum: v.checksum.toString(16).padStart(8, '0') };
}

/** Prints a traversal error as the one-line report of a problem in the data (exit code 1). */
export function reportTraversalError(e: TraversalError): void {
  process.stderr.write(`clog: ${e.message} [${e.code}]\n`);
  process.exitCode = EXIT_PROBLEMS;
}

interface DumpFlags extends SourceFlags {
  from?: string;
  to?: string;
  records?: boolean;
  txdata?: boolean;
  json?: boolean;
}

export function registerDump(program: Command): void {
  withSourceOptions(
    program
      .command('dump')
      .description('print one JSON line per commit: {segment, byteOffset, minTxOffset, epoch, n, len, checksum (CRC32C, hex)}')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX'),
  )
    .option('--from <offset>', 'start with the commit holding this transaction offset', '0')
    .option('--to <offset>', 'end with the commit holding this transaction offset (inclusive)')
    .option('--records', 'add the records of each commit as a hex string ("records")')
    .option('--txdata', 'one line per transaction instead, decoded: reducer, and per table the rows inserted and deleted')
    .option('--json', 'JSON lines (the default and only format; accepted for uniformity)')
    .addHelpText(
      'after',
      `
Commits are read like the library's commits(): checksums verified, duplicates skipped. Reading stops at
the first damaged or out-of-order commit, which is reported on stderr (exit code 1); use
'clog verify --continue' to list every problem.

Examples:
  clog dump ./db/clog
  clog dump ./db/clog --from 1000 --to 1999
  clog dump ./db/clog --records | jq -r .records
  clog dump ./db/clog --txdata --from 100 --to 120

With --txdata the log is replayed from its start (row types come from its system tables) and each
transaction in the range prints {offset, reducer, caller, connectionId, timestamp, argsHex, output,
inserts, deletes, truncates}: argsHex is the reducer's own arguments as BSATN hex (the log does not
carry the reducers' parameter types). --from past the end of the log is an error (exit 2).`,
    )
    .action(async (dir: string, flags: DumpFlags) => {
      const from = parseOffsetArg(flags.from ?? '0', 'from');
      const to = flags.to === undefined ? undefined : parseOffsetArg(flags.to, 'to');
      if (to !== undefined && to < from) throw new UsageError(`--to ${to} is below --from ${from}`);
      // Loaded on use: the replay layer (and the `spacetimedb` package) would double `clog`'s start-up.
      const decodedTransactions = flags.txdata ? (await import('../../api/replay.js')).decodedTransactions : undefined;
      const source = openLogSource(dir, flags);
      const out = new LineWriter();
      try {
        let skippedTail: string | null = null;
        const onSkippedTail = (e: Error) => (skippedTail = e.message);
        const lines = decodedTransactions
          ? decodedTransactions(source, { from, to, onSkippedTail })
          : dumpCommits(source, { from, to, records: flags.records });
        let printed = false;
        for (const line of lines) {
          out.line(line);
          printed = true;
        }
        out.flush();
        warnSkippedTail(skippedTail);
        if (!printed) checkFromPastEnd(source, from);
      } catch (e) {
        out.flush();
        if (e instanceof TraversalError) return reportTraversalError(e);
        throw e;
      }
      out.flush();
    });
}
