/**
 * Pages of a table's rows out of a state's SQLite file (ui-states.ts): keyset paging on `rowid`, the
 * filter evaluated by SQLite, each row decoded from its stored BSATN the way `clog rows` shows it.
 */
import type Database from 'better-sqlite3';
import { type ExportedColumn, type ExportedTable, HIDDEN_COLUMN, type Json, type SqliteReplay, quoteIdent, rowToDisplayJson } from '../api/replay.js';
import { InvalidInputError } from '../index.js';

/**
 * Rowids a filtered query scans per request at most: a filter that matches nothing must not hold the
 * event loop for a whole big table. The page then ends early, with `next` where the scan stopped.
 */
export const MAX_SCAN_ROWIDS = 200_000;

export interface RowsQuery {
  /** The page starts after this rowid (0: the first page). */
  after: number;
  limit: number;
  /** Substring (ASCII case-insensitive) of the stored value of `column`, or of any column. */
  filter: string | null;
  column: string | null;
}

export interface RowsPage {
  columns: string[];
  rows: { [k: string]: Json }[];
  /** The `after` of the next page, or null at the end of the table. */
  next: number | null;
}

/** The SQL columns `_stdb_tables` records for the table. */
function sqlColumns(reader: Database.Database, table: ExportedTable): ExportedColumn[] {
  const json = reader.prepare('SELECT columns FROM _stdb_tables WHERE table_id = ?').pluck().get(table.tableId) as string | undefined;
  return json === undefined ? [] : (JSON.parse(json) as ExportedColumn[]);
}

/** What the filter is matched against: the value as text, byte strings as lowercase hex. */
function matchExpr(c: ExportedColumn): string {
  const q = quoteIdent(c.name);
  return c.sql === 'BLOB' ? `lower(hex(${q}))` : `lower(CAST(${q} AS TEXT))`;
}

export function rowsPage(reader: Database.Database, replay: SqliteReplay, table: ExportedTable, query: RowsQuery): RowsPage {
  const columns = replay.columnsOf(table.tableId);
  const names = columns.map((c) => c.name);
  if (table.sqlTable === '') return { columns: names, rows: [], next: null };
  const stored = sqlColumns(reader, table);
  let where = 'rowid > ?';
  const args: (number | string)[] = [query.after];
  if (query.filter !== null) {
    const targets = query.column === null ? stored : stored.filter((c) => c.name === query.column);
    if (query.column !== null && targets.length === 0) {
      throw new InvalidInputError(`table ${table.name} has no column ${query.column}; columns: ${stored.map((c) => c.name).join(', ')}`);
    }
    const needle = query.filter.toLowerCase();
    where += ` AND rowid <= ? AND (${targets.map((c) => `instr(${matchExpr(c)}, ?) > 0`).join(' OR ') || '0'})`;
    args.push(query.after + MAX_SCAN_ROWIDS, ...targets.map(() => needle));
  }
  const t = quoteIdent(table.sqlTable);
  const found = reader
    .prepare(`SELECT rowid, ${HIDDEN_COLUMN} FROM ${t} WHERE ${where} ORDER BY rowid LIMIT ?`)
    .raw()
    .all(...args, query.limit + 1) as [bigint, Uint8Array][];
  const more = found.length > query.limit;
  const page = found.slice(0, query.limit);
  const rows = page.map(([, bsatn]) => rowToDisplayJson(replay.decodeStored(table.tableId, bsatn), columns));
  let next: number | null = more ? Number(page.at(-1)![0]) : null;
  if (!more && query.filter !== null) {
    // The scan window ended before the page filled: go on from its end if the table goes further.
    const end = query.after + MAX_SCAN_ROWIDS;
    const beyond = reader.prepare(`SELECT rowid FROM ${t} WHERE rowid > ? LIMIT 1`).pluck().get(end);
    if (beyond !== undefined) next = end;
  }
  return { columns: names, rows, next };
}
