/** `clog export` (a log into a SQLite file) and `clog changes` (its row changes as JSON lines). */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { count, formatBytes, parseOffsetArg, UsageError } from '../output.js';
import { type SourceFlags, openLogSource, refuseFollow, withSourceOptions } from '../source.js';
import { checkFromPastEnd, warnAtPastEnd, warnSkippedTail } from './range.js';

interface ExportFlags extends SourceFlags {
  sqlite?: string;
  at?: string;
  follow?: boolean;
  json?: boolean;
  poll?: string;
}

interface ChangesFlags extends SourceFlags {
  from?: string;
  to?: string;
  table?: string;
  follow?: boolean;
  format?: string;
  poll?: string;
}

/** SIGINT/SIGTERM end a follow loop cleanly (the SQLite file is left at a commit boundary). */
function stopSignal(): AbortController {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac;
}

function parsePoll(poll: string | undefined): number | undefined {
  return poll === undefined ? undefined : Math.max(10, parseOffsetArg(poll, '--poll'));
}

export function registerExport(program: Command): void {
  withSourceOptions(
    program
      .command('export')
      .description('replay a SpacetimeDB log into a SQLite file (incremental: a re-run applies only new transactions)')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX (not with --follow)'),
  )
    .requiredOption('--sqlite <file>', 'the SQLite file to create or bring up to date')
    .option('--at <offset>', 'stop after this tx offset')
    .option('--follow', 'keep applying commits as the log grows (Ctrl-C stops at a commit boundary)')
    .option('--poll <ms>', 'how often --follow looks for new commits', '500')
    .option('--json', 'print a JSON summary')
    .addHelpText(
      'after',
      `
One SQL table per table of the module (system tables under their st_* names), one column per column,
plus _stdb_bsatn (the row's BSATN bytes). _stdb_tables describes the tables and their column types,
_stdb_meta the log position applied. Every commit is applied whole, so a reader of the file always
sees a state the database had. Re-running against the same file continues where it stopped; a file
exported from another log, or from a log reset since, is refused.

Examples:
  clog export ./db/clog --sqlite db.sqlite
  clog export ./db/clog --sqlite db.sqlite --at 1000
  clog export ./db/clog --sqlite live.sqlite --follow`,
    )
    .action(async (dir: string, flags: ExportFlags) => {
      const { exportSqlite } = await import('../../api/replay.js');
      if (!flags.sqlite) throw new UsageError('--sqlite <file> is required');
      const at = flags.at === undefined ? undefined : parseOffsetArg(flags.at, '--at');
      refuseFollow(dir, flags.follow, 'export');
      const source = openLogSource(dir, flags, { noteEmpty: false });
      const ac = flags.follow ? stopSignal() : null;
      const tty = process.stderr.isTTY === true;
      const started = Date.now();
      const bar = tty
        ? new cliProgress.SingleBar(
            {
              format: 'export [{bar}] {percentage}% | {txs} tx | {done} of {size} | {rate}/s | ETA {eta_formatted} {state}',
              stream: process.stderr,
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let barStarted = false;
      const result = await exportSqlite(source, flags.sqlite, {
        at,
        follow: flags.follow,
        pollMs: parsePoll(flags.poll),
        signal: ac?.signal,
        onProgress: (p) => {
          if (!bar) return;
          const payload = {
            txs: p.transactions.toLocaleString('en-US'),
            done: formatBytes(p.bytesRead),
            size: formatBytes(p.totalBytes),
            rate: formatBytes(p.bytesRead / Math.max(0.001, (Date.now() - started) / 1000)),
            state: p.following ? `following, at tx ${p.lastOffset}` : '',
          };
          if (!barStarted) {
            bar.start(Math.max(1, p.totalBytes), p.bytesRead, payload);
            barStarted = true;
          } else {
            bar.setTotal(Math.max(1, p.totalBytes, p.bytesRead));
            bar.update(p.bytesRead, payload);
          }
        },
      });
      bar?.stop();
      // Following, --at is a point still to come; otherwise an --at past the end is worth a word.
      if (!flags.follow) {
        warnSkippedTail(result.skippedTail);
        warnAtPastEnd(at, result.lastOffset, 'the file holds the state');
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      const from = result.resumedFrom === null ? '' : ` (the file held transactions up to ${result.resumedFrom})`;
      const n = result.transactions;
      process.stdout.write(
        `exported ${count(n, 'transaction')} into ${result.file}${from}; ` +
          `up to tx offset ${result.lastOffset}; ${count(result.tables.length, 'table')}\n`,
      );
    });
}

export function registerChanges(program: Command): void {
  withSourceOptions(
    program
      .command('changes')
      .description('print the row changes of a SpacetimeDB log as JSON lines, in log order')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX (not with --follow)'),
  )
    .option('--from <offset>', 'first tx offset whose changes are printed', '0')
    .option('--to <offset>', 'last tx offset whose changes are printed')
    .option('--table <name>', 'only this table (name or table id)')
    .option('--follow', 'keep printing as the log grows (Ctrl-C stops)')
    .option('--poll <ms>', 'how often --follow looks for new commits', '500')
    .option('--format <format>', "'plain' (default) or 'debezium' (before/after envelope)", 'plain')
    .addHelpText(
      'after',
      `
plain:    {"txOffset", "tableId", "table", "op": "insert"|"delete", "row", "reducer", "caller",
          "connectionId", "timestamp"} (the last four when the transaction has reducer inputs)
debezium: {"before", "after", "op": "c"|"d", "source": {"connector", "txOffset", "tableId", "table",
          "reducer", "caller", "connectionId"}, "ts_us": ISO timestamp}
Values as in 'clog rows' (column types as BSATN hex). Transactions before --from are replayed for
their schema but not printed; --from past the end of the log is an error (exit 2) unless --follow.

Examples:
  clog changes ./db/clog --table message
  clog changes ./db/clog --from 1000 --to 2000 --format debezium
  clog changes ./db/clog --follow | jq .`,
    )
    .action(async (dir: string, flags: ChangesFlags) => {
      const { changeChunks, changeChunksSync, changes, toDebezium } = await import('../../api/replay.js');
      if (flags.format !== 'plain' && flags.format !== 'debezium') {
        throw new UsageError(`--format must be 'plain' or 'debezium', got '${String(flags.format)}'`);
      }
      const from = parseOffsetArg(flags.from ?? '0', '--from');
      const to = flags.to === undefined ? undefined : parseOffsetArg(flags.to, '--to');
      if (to !== undefined && to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
      refuseFollow(dir, flags.follow, 'changes');
      const source = openLogSource(dir, flags);
      const ac = flags.follow ? stopSignal() : null;
      let closed = false;
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
        closed = true;
        ac?.abort();
      });
      const debezium = flags.format === 'debezium';
      // Output goes in chunks of whole lines: one write per line made the system calls cost 60 % of the time.
      let chunk = '';
      const write = async (bytes: string | Buffer) => {
        // Respect back-pressure: a slow reader must not make this process buffer the whole log.
        if (!process.stdout.write(bytes)) await new Promise((r) => process.stdout.once('drain', r));
      };
      const flush = async () => {
        if (chunk === '') return;
        const text = chunk;
        chunk = '';
        await write(text);
      };
      let skippedTail: string | null = null;
      const options = {
        from,
        to,
        table: flags.table,
        follow: flags.follow,
        pollMs: parsePoll(flags.poll),
        signal: ac?.signal,
        onSkippedTail: (e: Error) => (skippedTail = e.message),
      };
      let printed = false;
      if (debezium) {
        // Following, the stream waits for new commits inside the iterator: a timer prints what is pending.
        const timer = flags.follow ? setInterval(() => void flush(), 100) : null;
        try {
          for await (const c of changes(source, options)) {
            if (closed) break;
            printed = true;
            chunk += JSON.stringify(toDebezium(c)) + '\n';
            if (chunk.length >= 64 * 1024) await flush();
          }
        } finally {
          if (timer) clearInterval(timer);
        }
      } else if (flags.follow) {
        // Each chunk ends at a transaction: what a poll found is printed when it is found.
        for await (const bytes of changeChunks(source, options)) {
          if (closed) break;
          printed = true;
          await write(bytes);
        }
      } else {
        // Not following: the synchronous iterator (no promise per chunk but for back-pressure).
        for (const bytes of changeChunksSync(source, options)) {
          if (closed) break;
          printed = true;
          await write(bytes);
        }
      }
      if (!closed) await flush();
      warnSkippedTail(skippedTail);
      // Nothing printed may just be a quiet table; past the end of the log it is a mistaken --from.
      if (!printed && !flags.follow) checkFromPastEnd(source, from);
    });
}
