/** `clog tables <dir>`: the tables a SpacetimeDB log replays to, with live row and mutation counts. */
import type { Command } from 'commander';
import { type SourceFlags, openLogSource, withSourceOptions } from '../source.js';
import { warnAtPastEnd, warnSkippedTail } from './range.js';
import { formatTable, parseAt, registerRows } from './rows.js';
import { registerSchema } from './schema.js';

interface TablesFlags extends SourceFlags {
  at?: string;
  json?: boolean;
}

export function registerTables(program: Command): void {
  withSourceOptions(
    program
      .command('tables')
      .description('replay a SpacetimeDB log and list its tables (id, name, live rows, inserts, deletes)')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX'),
  )
    .option('--at <offset>', 'replay transactions up to and including this tx offset')
    .option('--json', 'print {"transactions", "tables": [{tableId, name, rows, inserts, deletes, deletesAbsent}], "reducers"}')
    .addHelpText(
      'after',
      `
Tables listed: every table a transaction touched, and every user table st_table declares.
System table schemas are built in (SpacetimeDB 1.x and 2.x); user tables come from st_table/st_column.
UNMATCHED (shown when there are some) counts deletes of rows the log never inserted. --at past the
end of the log shows the final state, with a warning on stderr.

Examples:
  clog tables ./db/clog
  clog tables ./db/clog --at 1000 --json`,
    )
    .action(async (dir: string, flags: TablesFlags) => {
      // Loaded on use: the replay layer (and the `spacetimedb` package) would double `clog`'s start-up.
      const { SqliteReplay } = await import('../../api/replay.js');
      // Rows go to a temporary SQLite file, not the heap: this works on logs larger than memory.
      const at = parseAt(flags.at);
      const replayed = await SqliteReplay.open(openLogSource(dir, flags), { at });
      const result = replayed.result;
      replayed.close();
      warnSkippedTail(result.skippedTail);
      warnAtPastEnd(at, result.lastOffset);
      if (flags.json) {
        const out = {
          transactions: result.transactions,
          tables: result.tables.map((t) => ({
            tableId: t.tableId,
            name: t.name,
            rows: t.rows,
            inserts: t.inserts,
            deletes: t.deletes,
            deletesAbsent: t.deletesAbsent,
          })),
          reducers: result.reducers,
        };
        process.stdout.write(JSON.stringify(out) + '\n');
        return;
      }
      const unmatched = result.tables.some((t) => t.deletesAbsent > 0);
      const rows = result.tables.map((t) => [
        String(t.tableId),
        t.name,
        t.isView ? 'view' : t.tableType,
        count(t.rows),
        count(t.inserts),
        count(t.deletes - t.deletesAbsent),
        ...(unmatched ? [count(t.deletesAbsent)] : []),
      ]);
      const headers = ['ID', 'NAME', 'TYPE', 'ROWS', 'INSERTS', 'DELETES', ...(unmatched ? ['UNMATCHED'] : [])];
      process.stdout.write(formatTable(headers, rows, [true, false, false, true, true, true, true]));
      if (unmatched) {
        process.stdout.write(
          '\nUNMATCHED: deletes of rows this log never inserted (rows SpacetimeDB wrote before the log starts,\n' +
            'e.g. sequences it rewrites at start-up); they change nothing and are not in DELETES.\n',
        );
      }
      const reducers = Object.entries(result.reducers)
        .map(([name, n]) => `${name} ×${count(n)}`)
        .join(', ');
      const upTo = result.lastOffset >= 0 ? ` (tx offsets up to ${result.lastOffset})` : '';
      const txs = `${count(result.transactions)} transaction${result.transactions === 1 ? '' : 's'}`;
      process.stdout.write(`\n${txs}${upTo}; reducers: ${reducers || 'none'}\n`);
    });
}

/** A count with thousands separators. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `clog tables`, `clog rows` and `clog schema`. */
export function registerReplayCommands(program: Command): void {
  registerTables(program);
  registerRows(program);
  registerSchema(program);
}
