/**
 * The replay's `TxdataVisitor`: decodes every row with its table's schema (through the `spacetimedb`
 * package) and folds it into in-memory tables. Inserts add a row, deletes remove an equal row (equal
 * BSATN bytes; a delete of a row that is not live only counts), truncates clear the table. Rows of
 * `st_table`/`st_column` update the schema registry as they are applied, so a table created in a
 * transaction decodes in that same transaction (its meta rows come first: mutations are ordered by
 * table id, and system tables have the smallest ids).
 */
import type { BufReader } from '../payload/buf-reader.js';
import type { Inputs, TableId } from '../payload/txdata.js';
import type { TxdataVisitor } from '../payload/visitor.js';
import { type BsatnJson, JsonCursor, type JsonOut, bsatnJsonWriter } from './bsatn-json.js';
import { ReplayError } from './errors.js';
import { SchemaError, SchemaRegistry, type SchemaUse, type TableSchema } from './schema.js';
import { BinaryReader, type Row } from './stdb.js';
import { type MajorVersion, ST_COLUMN_ID, ST_TABLE_ID, ST_VIEW_ID } from './system-tables.js';

/**
 * Where the rows of a replay go when they are not kept in memory (the SQLite export): every insert,
 * delete and truncate, in log order, with the row's BSATN bytes (what deletes are matched by).
 */
export interface RowStore {
  insert(schema: TableSchema, bsatn: Uint8Array, row: Row): void;
  /** Removes one live row with exactly these bytes; whether there was one. */
  delete(schema: TableSchema, bsatn: Uint8Array, row: Row): boolean;
  truncate(tableId: number, schema: TableSchema | null): void;
}

export interface ReplayVisitorOptions {
  /** System tables to know (default: those of 1.x and 2.x). */
  version?: MajorVersion | 'all';
  /**
   * `all` (default): every table's live rows in memory. `meta`: only `st_table`, `st_column` and
   * `st_view` (what schemas are built from: bounded by the schema, not the data); the rows of other
   * tables go to `store`, or nowhere.
   */
  keep?: 'all' | 'meta';
  store?: RowStore;
  /** Called for every row inserted or deleted, after it was applied (the change stream). */
  onRow?: (op: 'insert' | 'delete', schema: TableSchema, row: Row) => void;
  /** Called with each transaction's inputs (reducer name and arguments). */
  onInputs?: (inputs: Inputs) => void;
  /**
   * Takes, instead of `onRow`, the rows of tables that nothing keeps (`keep: 'meta'`, no store): each
   * is written as JSON straight from its bytes (bsatn-json.ts) into the sink's output, between what
   * `open` and `close` write. The change stream's fast path.
   */
  rowJson?: RowJsonSink;
}

export interface RowJsonSink {
  readonly out: JsonOut;
  /** Writes what precedes the row; false when the row is not wanted (it is read, its output dropped). */
  open(op: 'insert' | 'delete', schema: TableSchema): boolean;
  /** Writes what follows the row. */
  close(op: 'insert' | 'delete', schema: TableSchema): void;
}

/** What `visitInsert`/`visitDelete` return for a row that went out as text (never kept, never read). */
const NO_ROW: Row = Object.freeze({}) as Row;

/** The tables whose rows a replay always keeps in memory. */
export const META_TABLE_IDS: ReadonlySet<number> = new Set([ST_TABLE_ID, ST_COLUMN_ID, ST_VIEW_ID]);

/** One table's state: live rows keyed by their BSATN bytes, in insertion order, with multiplicities. */
export class LiveTable {
  readonly rows = new Map<string, { row: Row; n: number }>();
  inserts = 0;
  deletes = 0;
  /** Deletes of rows that were not live (bootstrap rows the engine rewrites at start-up, e.g. st_sequence). */
  deletesAbsent = 0;
  truncates = 0;
  /** How many live rows (duplicates counted); unknown (counts inserts − deletes) without rows or store. */
  size = 0;

  constructor(
    readonly tableId: number,
    /** Whether the rows are kept here (otherwise only counted). */
    readonly keepsRows = true,
  ) {}

  insert(key: string, row: Row): void {
    this.inserts++;
    this.size++;
    if (!this.keepsRows) return;
    const e = this.rows.get(key);
    if (e) e.n++;
    else this.rows.set(key, { row, n: 1 });
  }

  /** Returns whether a live row was removed. */
  delete(key: string): boolean {
    this.deletes++;
    const e = this.rows.get(key);
    if (!e) {
      this.deletesAbsent++;
      return false;
    }
    this.size--;
    if (--e.n === 0) this.rows.delete(key);
    return true;
  }

  /** A delete decided elsewhere (by the row store): counts only. */
  countDelete(removed: boolean): void {
    this.deletes++;
    if (removed) this.size--;
    else this.deletesAbsent++;
  }

  truncate(): void {
    this.truncates++;
    this.rows.clear();
    this.size = 0;
  }

  *liveRows(): IterableIterator<Row> {
    for (const { row, n } of this.rows.values()) for (let i = 0; i < n; i++) yield row;
  }

  /** Live rows whose key is not in `except`. */
  *liveRowsExcept(except: ReadonlySet<string>): IterableIterator<Row> {
    for (const [key, { row, n }] of this.rows) if (!except.has(key)) for (let i = 0; i < n; i++) yield row;
  }
}

function rowKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export class ReplayVisitor implements TxdataVisitor<Row> {
  readonly tables = new Map<number, LiveTable>();
  readonly registry: SchemaRegistry;
  readonly reducers = new Map<string, number>();
  /** The name each table had when last seen (tables can be dropped from st_table later). */
  readonly names = new Map<number, string>();
  offset = -1;
  /** This transaction's changes to st_table/st_column, to see the meta tables as they were before it. */
  private readonly txInserted = new Map<number, Set<string>>();
  private readonly txDeleted = new Map<number, Row[]>();
  private readonly bin = new BinaryReader(new Uint8Array(0));
  private binBytes: Uint8Array | null = null;

  private readonly keepAll: boolean;
  private readonly store: RowStore | null;
  private readonly onRow: ReplayVisitorOptions['onRow'] | null;
  private readonly onInputs: ReplayVisitorOptions['onInputs'] | null;
  private readonly rowJson: RowJsonSink | null;
  private readonly jsonWriters = new WeakMap<TableSchema, BsatnJson | null>();
  private readonly cursor = new JsonCursor();

  constructor(options: MajorVersion | 'all' | ReplayVisitorOptions = {}) {
    const o: ReplayVisitorOptions = typeof options === 'object' ? options : { version: options };
    this.registry = new SchemaRegistry((id, use) => this.metaRows(id, use), o.version ?? 'all');
    this.keepAll = (o.keep ?? 'all') === 'all';
    this.store = o.store ?? null;
    this.onRow = o.onRow ?? null;
    this.onInputs = o.onInputs ?? null;
    this.rowJson = o.rowJson ?? null;
  }

  private *metaRows(metaTableId: number, use: SchemaUse): IterableIterator<Row> {
    const t = this.tables.get(metaTableId);
    if (use === 'insert') {
      if (t) yield* t.liveRows();
      return;
    }
    if (t) yield* t.liveRowsExcept(this.txInserted.get(metaTableId) ?? new Set());
    yield* this.txDeleted.get(metaTableId) ?? [];
  }

  private static isMeta(tableId: number): boolean {
    return tableId === ST_TABLE_ID || tableId === ST_COLUMN_ID;
  }

  table(tableId: number): LiveTable {
    let t = this.tables.get(tableId);
    if (!t) this.tables.set(tableId, (t = new LiveTable(tableId, this.keepAll || META_TABLE_IDS.has(tableId))));
    return t;
  }

  /** Puts a row back into memory without counting it (resuming an export: the meta tables' rows). */
  restoreRow(tableId: number, bsatn: Uint8Array, row: Row): void {
    const t = this.table(tableId);
    t.insert(rowKey(bsatn), row);
    t.inserts--;
  }

  visitTxStart(offset: number): void {
    this.offset = offset;
    this.endMetaChanges();
  }

  visitTxEnd(): void {
    this.endMetaChanges();
  }

  /** Schemas built from the "before" view during the transaction are stale after it. */
  private endMetaChanges(): void {
    if (this.txInserted.size === 0 && this.txDeleted.size === 0) return;
    for (const [id, rows] of this.txDeleted) for (const r of rows) this.registry.onMetaRowChanged(id, r);
    for (const [id, keys] of this.txInserted) {
      const t = this.tables.get(id);
      for (const k of keys) {
        const e = t?.rows.get(k);
        if (e) this.registry.onMetaRowChanged(id, e.row);
      }
    }
    this.txInserted.clear();
    this.txDeleted.clear();
  }

  visitInputs(inputs: Inputs): void {
    this.reducers.set(inputs.reducerName, (this.reducers.get(inputs.reducerName) ?? 0) + 1);
    this.onInputs?.(inputs);
  }

  visitInsert(tableId: TableId, reader: BufReader): Row {
    if (this.rowJson !== null && this.rowAsJson(tableId, reader, 'insert')) return NO_ROW;
    const { schema, row, bytes } = this.readRow(tableId, reader, 'insert');
    const t = this.table(tableId);
    const key = t.keepsRows ? rowKey(bytes) : '';
    t.insert(key, row);
    this.store?.insert(schema, bytes, row);
    this.onRow?.('insert', schema, row);
    this.names.set(tableId, schema.name);
    if (ReplayVisitor.isMeta(tableId)) {
      let keys = this.txInserted.get(tableId);
      if (!keys) this.txInserted.set(tableId, (keys = new Set()));
      keys.add(key);
      this.registry.onMetaRowChanged(tableId, row);
    }
    return row;
  }

  visitDelete(tableId: TableId, reader: BufReader): Row {
    if (this.rowJson !== null && this.rowAsJson(tableId, reader, 'delete')) return NO_ROW;
    const { schema, row, bytes } = this.readRow(tableId, reader, 'delete');
    const t = this.table(tableId);
    // A row the log never inserted (e.g. sequence rows the engine rewrites at startup) changes nothing.
    let removed: boolean;
    if (t.keepsRows) {
      removed = t.delete(rowKey(bytes));
      this.store?.delete(schema, bytes, row);
    } else {
      removed = this.store ? this.store.delete(schema, bytes, row) : true;
      t.countDelete(removed);
    }
    this.onRow?.('delete', schema, row);
    if (removed && ReplayVisitor.isMeta(tableId)) {
      let rows = this.txDeleted.get(tableId);
      if (!rows) this.txDeleted.set(tableId, (rows = []));
      rows.push(row);
      this.registry.onMetaRowChanged(tableId, row);
    }
    this.names.set(tableId, schema.name);
    return row;
  }

  skipRow(tableId: TableId, reader: BufReader): void {
    this.readRow(tableId, reader, 'insert');
  }

  visitTruncate(tableId: TableId): void {
    const t = this.table(tableId);
    if (ReplayVisitor.isMeta(tableId)) this.registry.invalidateAll();
    t.truncate();
    if (this.store) {
      let schema: TableSchema | null = null;
      try {
        schema = this.registry.schema(tableId, 'delete');
      } catch {
        // nothing describes it: the store truncates by id
      }
      this.store.truncate(tableId, schema);
    }
    try {
      this.names.set(tableId, this.registry.schema(tableId).name);
    } catch {
      // Truncating a table nothing describes is harmless: it is listed by id.
    }
  }

  private schemaOf(tableId: number, use: SchemaUse): TableSchema {
    try {
      return this.registry.schema(tableId, use);
    } catch (e) {
      if (!(e instanceof SchemaError)) throw e;
      const reason = e.kind === 'unknown' ? 'UnknownTable' : 'BadSchema';
      throw new ReplayError(reason, this.offset, e.message, tableId, { cause: e });
    }
  }

  /**
   * A row of a table nothing keeps, written as JSON to the sink and counted; false (the reader
   * untouched) where the row must be decoded: the schema tables, kept tables, a store, repeated names.
   */
  private rowAsJson(tableId: number, reader: BufReader, use: SchemaUse): boolean {
    if (META_TABLE_IDS.has(tableId) || this.store !== null) return false;
    const t = this.table(tableId);
    if (t.keepsRows) return false;
    const schema = this.schemaOf(tableId, use);
    let writer = this.jsonWriters.get(schema);
    if (writer === undefined) this.jsonWriters.set(schema, (writer = bsatnJsonWriter(schema.columns)));
    if (writer === null) return false;
    const sink = this.rowJson!;
    const out = sink.out;
    const c = this.cursor;
    c.use(reader.bytes);
    const start = reader.pos;
    c.pos = start;
    const mark = out.len;
    const wanted = sink.open(use, schema);
    try {
      writer(c, out);
    } catch (e) {
      out.len = mark;
      throw this.undecodable(tableId, schema, use, start, e);
    }
    if (wanted) sink.close(use, schema);
    else out.len = mark;
    reader.skip(c.pos - start);
    if (use === 'insert') t.insert('', NO_ROW);
    else t.countDelete(true);
    this.names.set(tableId, schema.name);
    return true;
  }

  private undecodable(tableId: number, schema: TableSchema, use: SchemaUse, start: number, e: unknown): ReplayError {
    const msg = e instanceof Error ? e.message : String(e);
    return new ReplayError(
      'Damaged',
      this.offset,
      `${use === 'insert' ? 'inserted' : 'deleted'} row of table ${tableId} (${schema.name}) at byte ${start} of the commit's records does not decode: ${msg}`,
      tableId,
      { cause: e },
    );
  }

  private readRow(tableId: number, reader: BufReader, use: SchemaUse): { schema: TableSchema; row: Row; bytes: Uint8Array } {
    const schema = this.schemaOf(tableId, use);
    if (this.binBytes !== reader.bytes) {
      this.bin.reset(reader.bytes);
      this.binBytes = reader.bytes;
    }
    const start = reader.pos;
    this.bin.offset = start;
    let row: Row;
    try {
      row = schema.codec.decode(this.bin);
    } catch (e) {
      throw this.undecodable(tableId, schema, use, start, e);
    }
    const bytes = reader.getSlice(this.bin.offset - start);
    return { schema, row, bytes };
  }
}
