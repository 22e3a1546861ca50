/** `clog schema <dir> [table]`: the tables of a replayed SpacetimeDB log with columns, types, keys and indexes. */
import type { Command } from 'commander';
import type { DescribedTable } from '../../api/replay.js';
import { UsageError } from '../output.js';
import { formatTable, parseAt } from './rows.js';
import { warnAtPastEnd, warnSkippedTail } from './range.js';

interface SchemaFlags {
  at?: string;
  user?: boolean;
  json?: boolean;
}

/** The st_* tables the description is built from (st_table, st_column, st_sequence, st_index, st_constraint, st_scheduled, st_view, st_event_table). */
const SOURCES = [1, 2, 3, 4, 5, 9, 12, 17];

function list(cols: string[]): string {
  return `(${cols.join(', ')})`;
}

function text(t: DescribedTable): string {
  const what = [t.type, t.access, t.event ? 'event table' : null].filter((x) => x !== null).join(', ');
  const out = [`${t.name} (table ${t.tableId}; ${what})`];
  if (t.schemaFrom === 'built-in') out.push('  columns as SpacetimeDB builds them (system tables are not described in the log)');
  if (t.problem) out.push(`  ! ${t.problem}`);
  if (t.columns.length > 0) {
    const rows = t.columns.map((c) => [String(c.position), c.name, c.type]);
    out.push(...formatTable(['POS', 'COLUMN', 'TYPE'], rows, [true]).trimEnd().split('\n').map((l) => `  ${l}`));
  }
  if (t.primaryKey) out.push(`  primary key ${list(t.primaryKey)}`);
  for (const i of t.indexes) out.push(`  index ${i.name} (id ${i.indexId}): ${i.algorithm} ${list(i.columns)}`);
  for (const c of t.constraints) out.push(`  constraint ${c.name} (id ${c.constraintId}): ${c.kind} ${list(c.columns)}`);
  for (const s of t.sequences) {
    out.push(`  sequence ${s.name} (id ${s.sequenceId}) on ${s.column}: start ${s.start}, increment ${s.increment}, allocated up to ${s.allocated}`);
  }
  if (t.schedule) out.push(`  scheduled: calls reducer ${t.schedule.reducer} at column ${t.schedule.atColumn} (${t.schedule.name})`);
  if (t.view) out.push(`  view ${t.view.name} (id ${t.view.viewId}): ${t.view.public ? 'public' : 'private'}${t.view.anonymous ? ', anonymous' : ''}`);
  return out.join('\n');
}

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('replay a SpacetimeDB log and describe its tables: columns and types, primary key, indexes, constraints, sequences')
    .argument('<dir>', 'log directory')
    .argument('[table]', 'only this table (name or table id)')
    .option('--at <offset>', 'the schema after this tx offset')
    .option('--user', 'only user tables and views (no system tables)')
    .option('--json', 'print [{tableId, name, type, access, schemaFrom, columns: [{position, name, type, typeBsatn}], primaryKey, indexes, constraints, sequences, schedule, view, event, problem}]')
    .addHelpText(
      'after',
      `
Everything comes from the log's system tables (st_table, st_column, st_index, st_constraint,
st_sequence, st_scheduled, st_view) as they stand after the last transaction (or --at). System tables
are listed with the schema built into SpacetimeDB, since a log does not describe them. Types are
spelled (U64, Identity, Option<String>, Array<U8>, (x: F32, y: F32) for products, (a: U8 | b) for
sums); --json adds each type's BSATN (typeBsatn), the exact form.

Examples:
  clog schema ./db/clog
  clog schema ./db/clog message
  clog schema ./db/clog --user --json`,
    )
    .action(async (dir: string, which: string | undefined, flags: SchemaFlags) => {
      // Loaded on use: the replay layer (and the `spacetimedb` package) would double `clog`'s start-up.
      const { SqliteReplay, describeSchema, rowToJson } = await import('../../api/replay.js');
      const at = parseAt(flags.at);
      // Rows go to a temporary SQLite file; only the st_* tables' rows are read back (schema-sized).
      const replayed = await SqliteReplay.open(dir, { at });
      let described: DescribedTable[];
      try {
        warnSkippedTail(replayed.result.skippedTail);
        warnAtPastEnd(at, replayed.result.lastOffset);
        const present = new Set(replayed.result.tables.map((t) => t.tableId));
        described = describeSchema(replayed.result.tables, function* (id) {
          if (!SOURCES.includes(id) || !present.has(id)) return;
          const columns = replayed.columnsOf(id);
          for (const row of replayed.rows(id)) yield rowToJson(row, columns);
        });
      } finally {
        replayed.close();
      }
      let shown = flags.user ? described.filter((t) => t.type !== 'system') : described;
      if (which !== undefined) {
        const byName = described.filter((t) => t.name === which);
        const byId = /^[0-9]+$/.test(which) ? described.filter((t) => t.tableId === Number(which)) : [];
        shown = byName.length > 0 ? byName : byId;
        if (shown.length === 0) {
          throw new UsageError(`no table '${which}' in this log; tables: ${described.map((t) => t.name).join(', ') || 'none'}`);
        }
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify(shown) + '\n');
        return;
      }
      process.stdout.write(shown.length === 0 ? 'no tables\n' : shown.map(text).join('\n\n') + '\n');
    });
}
