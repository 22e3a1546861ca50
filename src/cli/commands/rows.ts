/** `clog rows <dir> <table>`: the live rows of one table of a replayed SpacetimeDB log. */
import type { Command } from 'commander';
import type { ReplayedTable } from '../../api/replay.js';
import { UsageError, parseOffsetArg } from '../output.js';

interface RowsFlags {
  at?: string;
  limit?: string;
  json?: boolean;
}

/** A table by name, or by id when `which` is a number no table is named. */
function pick(tables: ReplayedTable[], which: string): ReplayedTable {
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
  program
    .command('rows')
    .description('replay a SpacetimeDB log and print the live rows of one table')
    .argument('<dir>', 'log directory')
    .argument('<table>', 'table name (or table id)')
    .option('--at <offset>', 'replay transactions up to and including this tx offset')
    .option('--limit <n>', 'print at most n rows')
    .option('--json', 'print JSON lines (the default when stdout is not a terminal)')
    .addHelpText(
      'after',
      `
Values as JSON: 64-bit and wider integers are decimal strings, byte arrays hex, identities and
connection ids hex, timestamps ISO-8601, options the value or null, sums {"Variant": value}.

Examples:
  clog rows ./db/clog user
  clog rows ./db/clog message --limit 10 --json`,
    )
    .action(async (dir: string, which: string, flags: RowsFlags) => {
      // Loaded on use: the replay layer (and the `spacetimedb` package) would double `clog`'s start-up.
      const { replay, rowToJson } = await import('../../api/replay.js');
      const limit = flags.limit === undefined ? Infinity : parseOffsetArg(flags.limit, 'limit');
      const result = replay(dir, { at: parseAt(flags.at) });
      const table = pick(result.tables, which);
      const rows = table.rows.slice(0, limit).map((r) => rowToJson(r, table.columns));
      // `clog rows … | head` closes the pipe early: that is not an error.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
      if (flags.json || !process.stdout.isTTY) {
        for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      const headers = table.columns.map((c) => c.name);
      process.stdout.write(formatTable(headers, rows.map((r) => headers.map((h) => cell(r[h])))));
      process.stdout.write(`\n${table.rows.length} rows in ${table.name}${rows.length < table.rows.length ? `, ${rows.length} shown` : ''}\n`);
    });
}
