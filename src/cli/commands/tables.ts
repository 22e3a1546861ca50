/** `clog tables <dir>`: the tables a SpacetimeDB log replays to, with live row and mutation counts. */
import type { Command } from 'commander';
import { formatTable, parseAt, registerRows } from './rows.js';

interface TablesFlags {
  at?: string;
  json?: boolean;
}

export function registerTables(program: Command): void {
  program
    .command('tables')
    .description('replay a SpacetimeDB log and list its tables (id, name, live rows, inserts, deletes)')
    .argument('<dir>', 'log directory')
    .option('--at <offset>', 'replay transactions up to and including this tx offset')
    .option('--json', 'print {"transactions", "tables": [{tableId, name, rows, inserts, deletes}], "reducers"}')
    .addHelpText(
      'after',
      `
Tables listed: every table a transaction touched, and every user table st_table declares.
System table schemas are built in (SpacetimeDB 1.x and 2.x); user tables come from st_table/st_column.

Examples:
  clog tables ./db/clog
  clog tables ./db/clog --at 1000 --json`,
    )
    .action(async (dir: string, flags: TablesFlags) => {
      // Loaded on use: the replay layer (and the `spacetimedb` package) would double `clog`'s start-up.
      const { replay } = await import('../../api/replay.js');
      const result = replay(dir, { at: parseAt(flags.at) });
      if (flags.json) {
        const out = {
          transactions: result.transactions,
          tables: result.tables.map((t) => ({
            tableId: t.tableId,
            name: t.name,
            rows: t.rows.length,
            inserts: t.inserts,
            deletes: t.deletes,
          })),
          reducers: result.reducers,
        };
        process.stdout.write(JSON.stringify(out) + '\n');
        return;
      }
      const rows = result.tables.map((t) => [
        String(t.tableId),
        t.name,
        t.isView ? 'view' : t.tableType,
        String(t.rows.length),
        String(t.inserts),
        String(t.deletes),
      ]);
      process.stdout.write(
        formatTable(['ID', 'NAME', 'TYPE', 'ROWS', 'INSERTS', 'DELETES'], rows, [true, false, false, true, true, true]),
      );
      const reducers = Object.entries(result.reducers)
        .map(([name, n]) => `${name} ×${n}`)
        .join(', ');
      const upTo = result.lastOffset >= 0 ? ` (tx offsets up to ${result.lastOffset})` : '';
      process.stdout.write(`\n${result.transactions} transactions${upTo}; reducers: ${reducers || 'none'}\n`);
    });
}

/** `clog tables` and `clog rows`. */
export function registerReplayCommands(program: Command): void {
  registerTables(program);
  registerRows(program);
}
