/**
 * `replay(dir)`: a SpacetimeDB log folded into in-memory tables, from empty tables and the system
 * table schemas of system-tables.ts, up to the end of the log or a given tx offset.
 */
import * as fs from 'node:fs';
import { NotFoundError, TraversalError } from '../errors.js';
import { type LogSource, commitIterator } from '../log/free.js';
import { BufReader } from '../payload/buf-reader.js';
import { consumeRecordFn } from '../payload/visitor.js';
import { leftOverError, wrapReplayError } from './errors.js';
import type { Row } from './stdb.js';
import { type ColumnSchema, type MajorVersion, ST_VIEW_ID } from './system-tables.js';
import { ReplayVisitor } from './visitor.js';

export interface ReplayOptions {
  /** Replay transactions with offsets up to and including `at` (default: the whole log). */
  at?: number;
  /**
   * The system tables to know: those of SpacetimeDB 1.x, of 2.x, or (default) all of them. Table ids
   * never changed meaning between versions, so the default reads logs of both.
   */
  version?: MajorVersion | 'all';
}

export interface ReplayedTable {
  tableId: number;
  name: string;
  /** `system` for built-in system tables, else `st_table.table_type` (normally "user"). */
  tableType: string;
  /** Whether the table holds a view's rows (an `st_view` row names it; 1.8 and later). */
  isView: boolean;
  /** The columns rows decode with; empty if the log describes the table too poorly to tell. */
  columns: ColumnSchema[];
  /** The live rows, oldest first, keyed by column name. */
  rows: Row[];
  /** Rows inserted and deleted by the replayed transactions (deletes of rows never live included). */
  inserts: number;
  deletes: number;
  truncates: number;
}

export interface ReplayResult {
  /** How many transactions were applied. */
  transactions: number;
  /** The last tx offset applied, or -1 when none was. */
  lastOffset: number;
  /** Every table a mutation touched and every user table `st_table` declares, by table id. */
  tables: ReplayedTable[];
  /** Calls per reducer name (transactions that carry inputs). */
  reducers: Record<string, number>;
}

/**
 * Folds the log of `source` (a directory or a `Repo`) into tables. A damaged commit at the very end
 * of the log (a torn last write) ends the replay like `foldTransactions` (SPEC §7.5); any other
 * traversal error is thrown. Undecodable records throw a `ReplayError` naming their offset. A
 * directory that does not exist is a `NotFoundError` (and is not created).
 */
export function replay(source: LogSource, options: ReplayOptions = {}): ReplayResult {
  if (typeof source === 'string' && !fs.statSync(source, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NotFoundError(`no log directory at ${source}`);
  }
  const at = options.at;
  const visitor = new ReplayVisitor(options.version ?? 'all');
  let transactions = 0;
  let lastOffset = -1;
  const it = commitIterator(source, 0);
  try {
    outer: for (;;) {
      const item = it.step();
      if (item === null) break;
      if (item instanceof TraversalError) {
        if (it.step() === null) break;
        throw item;
      }
      const reader = new BufReader(item.records);
      for (let k = 0; k < item.n; k++) {
        const offset = item.minTxOffset + k;
        if (at !== undefined && offset > at) break outer;
        try {
          consumeRecordFn(visitor, it.logFormatVersion, offset, reader);
        } catch (e) {
          throw wrapReplayError(e, offset);
        }
        transactions++;
        lastOffset = offset;
      }
      // Every byte of a commit belongs to its records; leftovers mean the rows were misread.
      if (reader.remaining !== 0) {
        throw leftOverError(item, reader.remaining);
      }
    }
  } finally {
    it.release();
  }
  return { transactions, lastOffset, tables: collectTables(visitor), reducers: Object.fromEntries(visitor.reducers) };
}

function collectTables(v: ReplayVisitor): ReplayedTable[] {
  const ids = new Set(v.tables.keys());
  const views = new Set<unknown>();
  for (const r of v.tables.get(ST_VIEW_ID)?.liveRows() ?? []) views.add(r.table_id);
  for (const [id, decl] of v.registry.declaredTables()) {
    if (decl.tableType === 'user' && !v.registry.isSystemTable(id)) ids.add(id);
  }
  return [...ids]
    .sort((a, b) => a - b)
    .map((tableId) => {
      const t = v.tables.get(tableId);
      let columns: ColumnSchema[] = [];
      let name = v.names.get(tableId);
      let tableType = v.registry.isSystemTable(tableId) ? 'system' : (v.registry.declared(tableId)?.tableType ?? 'unknown');
      try {
        const s = v.registry.schema(tableId);
        columns = s.columns;
        name = s.name;
        tableType = s.tableType;
      } catch {
        // Declared without usable columns, or dropped since: keep what was seen.
      }
      return {
        tableId,
        name: name ?? `#${tableId}`,
        tableType,
        isView: views.has(tableId),
        columns,
        rows: t ? [...t.liveRows()] : [],
        inserts: t?.inserts ?? 0,
        deletes: t?.deletes ?? 0,
        truncates: t?.truncates ?? 0,
      };
    });
}
