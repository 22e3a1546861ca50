/**
 * The schema of a replayed SpacetimeDB database as a person reads it (`clog schema`): per table its
 * columns with their types spelled, primary key, indexes, constraints, sequences, schedule and view,
 * from the live rows of the st_* system tables. System tables that no st_table row describes get their
 * built-in schema (system-tables.ts). Pure: the caller supplies the rows, as `rowToJson` gives them.
 */
import { type Json, spellType, toHex, typeText } from './json.js';
import { encodeAlgebraicType } from './stdb.js';
import { SYSTEM_TABLES } from './system-tables.js';

export interface DescribedColumn {
  position: number;
  name: string;
  /** The type spelled (`U64`, `Option<String>`, `(x: F32, y: F32)`, ...). */
  type: string;
  /** The type's BSATN as hex (what `st_column.col_type` holds): the exact, lossless form. */
  typeBsatn: string;
}

export interface DescribedIndex {
  indexId: number;
  name: string;
  /** `btree`, `hash`, `direct`, or the variant name as the log has it. */
  algorithm: string;
  columns: string[];
}

export interface DescribedConstraint {
  constraintId: number;
  name: string;
  /** `unique`, or the variant name as the log has it. */
  kind: string;
  columns: string[];
}

export interface DescribedSequence {
  sequenceId: number;
  name: string;
  column: string;
  /** i128 values, decimal. */
  start: string;
  increment: string;
  minValue: string;
  maxValue: string;
  allocated: string;
}

export interface DescribedTable {
  tableId: number;
  name: string;
  /** `user`, `system`, or `view` (a table holding a view's rows). */
  type: string;
  /** `public` / `private` from st_table (views: st_view.is_public); null where nothing says. */
  access: string | null;
  /** Where the columns come from: the log's st_column rows, or the schema built into SpacetimeDB. */
  schemaFrom: 'log' | 'built-in' | 'none';
  columns: DescribedColumn[];
  primaryKey: string[] | null;
  indexes: DescribedIndex[];
  constraints: DescribedConstraint[];
  sequences: DescribedSequence[];
  /** A schedule table: the reducer it calls and the column with the time. */
  schedule: { scheduleId: number; name: string; reducer: string; atColumn: string } | null;
  view: { viewId: number; name: string; public: boolean; anonymous: boolean } | null;
  /** 2.x event tables (st_event_table). */
  event: boolean;
  /** Why the columns are missing or incomplete, if they are. */
  problem: string | null;
}

/** A table to describe: as the replay lists it. */
export interface TableRef {
  tableId: number;
  name: string;
  tableType: string;
}

type JsonRow = { [k: string]: Json };

/** The live rows of a system table by id (st_table is 1, st_column 2, ...), as JSON. */
export type SystemRows = (tableId: number) => Iterable<JsonRow>;

const ST = { table: 1, column: 2, sequence: 3, index: 4, constraint: 5, scheduled: 9, view: 12, eventTable: 17 } as const;

function num(v: Json | undefined): number {
  return typeof v === 'number' ? v : Number(v);
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? null);
}

/** A JSON sum `{"Variant": value}` as [variant, value]. */
function variant(v: Json | undefined): [string, Json] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const [k] = Object.keys(v);
    if (k !== undefined) return [k, v[k]!];
  }
  return ['?', null];
}

function groupBy(rows: Iterable<JsonRow>, key: string): Map<number, JsonRow[]> {
  const out = new Map<number, JsonRow[]>();
  for (const r of rows) {
    const k = num(r[key]);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(r);
  }
  return out;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function describeSchema(tables: readonly TableRef[], rowsOf: SystemRows): DescribedTable[] {
  const stTable = new Map<number, JsonRow>();
  for (const r of rowsOf(ST.table)) stTable.set(num(r.table_id), r);
  const columnsOf = groupBy(rowsOf(ST.column), 'table_id');
  const indexesOf = groupBy(rowsOf(ST.index), 'table_id');
  const constraintsOf = groupBy(rowsOf(ST.constraint), 'table_id');
  const sequencesOf = groupBy(rowsOf(ST.sequence), 'table_id');
  const schedules = groupBy(rowsOf(ST.scheduled), 'table_id');
  const views = new Map<number, JsonRow>();
  for (const r of rowsOf(ST.view)) if (r.table_id !== null && r.table_id !== undefined) views.set(num(r.table_id), r);
  const events = new Set<number>();
  for (const r of rowsOf(ST.eventTable)) events.add(num(r.table_id));
  const builtIn = new Map(SYSTEM_TABLES.map((t) => [t.tableId, t]));

  return tables.map((ref): DescribedTable => {
    const decl = stTable.get(ref.tableId);
    let columns: DescribedColumn[] = [];
    let schemaFrom: DescribedTable['schemaFrom'] = 'none';
    let problem: string | null = null;
    const logColumns = columnsOf.get(ref.tableId);
    const sys = builtIn.get(ref.tableId);
    if (logColumns && logColumns.length > 0) {
      schemaFrom = 'log';
      columns = logColumns
        .map((r) => {
          const hex = str(r.col_type);
          return { position: num(r.col_pos), name: str(r.col_name), type: typeText(hexBytes(hex)), typeBsatn: hex };
        })
        .sort((a, b) => a.position - b.position);
      const missing = columns.findIndex((c, i) => c.position !== i);
      if (missing >= 0) problem = `st_column has no row for column ${missing}`;
    } else if (sys) {
      schemaFrom = 'built-in';
      columns = sys.columns.map((c, i) => ({
        position: i,
        name: c.name,
        type: c.holdsType ? `${spellType(c.type)} (the BSATN of a type)` : spellType(c.type),
        typeBsatn: toHex(encodeAlgebraicType(c.type)),
      }));
    } else {
      problem = decl ? 'st_column has no rows for it' : 'no st_table row declares it (dropped, or never described)';
    }
    const colName = (pos: Json): string => {
      const p = num(pos);
      return columns.find((c) => c.position === p)?.name ?? `#${String(pos)}`;
    };
    const colList = (v: Json): string[] => (Array.isArray(v) ? v.map(colName) : [colName(v)]);
    const pk = decl?.table_primary_key;
    const view = views.get(ref.tableId);
    const sched = schedules.get(ref.tableId)?.[0];
    let access: string | null = decl ? str(decl.table_access) : null;
    if (access === null && view) access = view.is_public === true ? 'public' : 'private';
    return {
      tableId: ref.tableId,
      name: decl ? str(decl.table_name) : ref.name,
      type: view ? 'view' : decl ? str(decl.table_type) : ref.tableType,
      access,
      schemaFrom,
      columns,
      primaryKey: pk === null || pk === undefined ? null : colList(pk),
      indexes: (indexesOf.get(ref.tableId) ?? []).map((r) => {
        const [alg, data] = variant(r.index_algorithm);
        const cols = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data.columns ?? data.column ?? null) : null;
        return { indexId: num(r.index_id), name: str(r.index_name), algorithm: alg.toLowerCase(), columns: cols === null ? [] : colList(cols) };
      }),
      constraints: (constraintsOf.get(ref.tableId) ?? []).map((r) => {
        const [kind, data] = variant(r.constraint_data);
        const cols = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data.columns ?? null) : null;
        return { constraintId: num(r.constraint_id), name: str(r.constraint_name), kind: kind.toLowerCase(), columns: cols === null ? [] : colList(cols) };
      }),
      sequences: (sequencesOf.get(ref.tableId) ?? []).map((r) => ({
        sequenceId: num(r.sequence_id),
        name: str(r.sequence_name),
        column: colName(r.col_pos!),
        start: String(r.start),
        increment: String(r.increment),
        minValue: String(r.min_value),
        maxValue: String(r.max_value),
        allocated: String(r.allocated),
      })),
      schedule: sched
        ? { scheduleId: num(sched.schedule_id), name: str(sched.schedule_name), reducer: str(sched.reducer_name), atColumn: colName(sched.at_column!) }
        : null,
      view: view ? { viewId: num(view.view_id), name: str(view.view_name), public: view.is_public === true, anonymous: view.is_anonymous === true } : null,
      event: events.has(ref.tableId),
      problem,
    };
  });
}
