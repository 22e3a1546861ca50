/** `clog rows <dir> <table>`: the live rows of one table of a replayed SpacetimeDB log. */
import type { Command } from 'commander';
import type { ExportedTable } from '../../api/replay.js';
import { UsageError, parseOffsetArg } from '../output.js';
import { type SourceFlags, openLogSource, withSourceOptions } from '../source.js';
import { warnAtPastEnd, warnSkippedTail } from './range.js';

interface RowsFlags extends SourceFlags {
  at?: string;
  limit?: string;
  json?: boolean;
}

/** A table by name, or by id when `which` is a number no table is named. */
function pick(tables: ExportedTable[], which: string): ExportedTable {
  const byName = tables.find((t) => t.name === which);
  if (byName) return byName;
  if (/^[0-9]+$/.test(which)) {
    const byId = tables.find((t) => t.tableId === Number(which));
    if (byId) return byId;
  }
  throw new UsageError(`no table '${which}' in this log; tables: ${tables.map((t) => t.name).join(', ') || 'none'}`);
}

/** Left-aligned text columns (numbers right-aligned), two spaces apart. */
export function formatTable(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `--at` as a tx offset, or undefined for the whole log. */
export function parseAt(at: string | undefined): number | undefined {
  return at === undefined ? undefined : parseOffsetArg(at, 'at');
}

const MAX_CELL = 64;

function cell(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  const one = s.replace(/\n/g, '\\n');
  return one.length > MAX_CELL ? one.slice(0, MAX_CELL - 1) + '…' : one;
}

export function registerRows(program: Command): void {
  withSourceOptions(
    program
      .command('rows')
      .description('replay a SpacetimeDB log and print the live rows of one table')
      .argument('<dir>', 'log directory, or an archive s3://BUCKET/PREFIX')
      .argument('<table>', 'table name (or table id)'),
  )
    .option('--at <offset>', 'replay transactions up to and including this tx offset')
    .option('--limit <n>', 'print at most n rows')
    .option('--json', 'print JSON lines (the default when stdout is not a terminal)')
    .addHelpText(
      'after',
      `
Values as JSON: 64-bit and wider integers are decimal strings, byte arrays hex, identities and
connection ids hex, timestamps ISO-8601, options the value or null, sums {"Variant": value}.
Columns holding a type (st_column.col_type, ...) show it spelled: U64, Identity, Option<String>.

Examples:
  clog rows ./db/clog user
  clog rows ./db/clog message --limit 10 --json`,
    )
    .action(async (dir: string, which: string, flags: RowsFlags) => {
      // Loaded on use: the replay layer (and the `spacetimedb` package) would double `clog`'s start-up.
      const { SqliteReplay, rowToDisplayJson } = await import('../../api/replay.js');
      const limit = flags.limit === undefined ? Infinity : parseOffsetArg(flags.limit, 'limit');
      // Rows go to a temporary SQLite file and are read back one by one: bounded memory.
      const at = parseAt(flags.at);
      const replayed = await SqliteReplay.open(openLogSource(dir, flags), { at });
      try {
        warnSkippedTail(replayed.result.skippedTail);
        warnAtPastEnd(at, replayed.result.lastOffset);
        const table = pick(replayed.result.tables, which);
        const columns = replayed.columnsOf(table.tableId);
        // `clog rows … | head` closes the pipe early: that is not an error.
        process.stdout.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE') throw e;
        });
        const json = flags.json || !process.stdout.isTTY;
        // A terminal shows an aligned table, which needs the rows it shows in memory.
        const shown = json ? limit : Math.min(limit, TERMINAL_ROWS);
        const cells: string[][] = [];
        const headers = columns.map((c) => c.name);
        let n = 0;
        for (const row of replayed.rows(table.tableId)) {
          if (n >= shown) break;
          n++;
          const r = rowToDisplayJson(row, columns);
          if (json) process.stdout.write(JSON.stringify(r) + '\n');
          else cells.push(headers.map((h) => cell(r[h])));
        }
        if (json) return;
        process.stdout.write(formatTable(headers, cells));
        const total = table.rows;
        process.stdout.write(`\n${total.toLocaleString('en-US')} row${total === 1 ? '' : 's'} in ${table.name}${n < total ? `, ${n} shown` : ''}\n`);
      } finally {
        replayed.close();
      }
    });
}

/** Rows a terminal table shows at most (JSON output streams them all). */
const TERMINAL_ROWS = 1000;
