/**
 * The live rows of a replay in a SQLite file (issue 15): one STRICT table per SpacetimeDB table, one
 * column per column, plus the row's BSATN bytes in `_stdb_bsatn` and their hash in `_stdb_key`
 * (indexed: deletes find their row by it, then by the bytes). `_stdb_tables` describes every table, `_stdb_meta` the log position applied.
 */
import Database from 'better-sqlite3';
import { CommitlogError, ErrorCodes } from '../errors.js';
import type { TableSchema } from '../replay/schema.js';
import type { Row } from '../replay/stdb.js';
import type { RowStore } from '../replay/visitor.js';
import { rowKey } from './row-key.js';
import { type SqlColumnType, UnsupportedTypeError, sqlColumnType } from './sql-types.js';

/** Written to `_stdb_meta.format`; a file with another value is not ours and is refused. */
export const EXPORT_FORMAT = 'stdb-commitlog sqlite export 1';
export const HIDDEN_COLUMN = '_stdb_bsatn';
/** The indexed key of `_stdb_bsatn` (see row-key.ts). */
export const KEY_COLUMN = '_stdb_key';

export class ExportError extends CommitlogError {
  constructor(
    code: typeof ErrorCodes.EXPORT_MISMATCH | typeof ErrorCodes.EXPORT_UNSUPPORTED_TYPE | typeof ErrorCodes.EXPORT_WRITE,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

interface ColumnState {
  name: string;
  type: SqlColumnType;
}

interface TableState {
  tableId: number;
  /** The schema the statements were prepared for (schemas are cached objects: identity is cheap). */
  schema: TableSchema;
  name: string;
  sqlName: string;
  columns: ColumnState[];
  insert: Database.Statement;
  del: Database.Statement;
  clear: Database.Statement;
  /** One array reused for the bound values of every insert. */
  values: unknown[];
}

/** What `_stdb_tables` records of a column. */
export interface ExportedColumn {
  name: string;
  type: string;
  sql: string;
  stored: string;
}

export class SqliteRowStore implements RowStore {
  private readonly tables = new Map<number, TableState>();
  private readonly sqlNames = new Set<string>();
  private readonly getMeta: Database.Statement;
  private readonly setMeta: Database.Statement;
  private readonly upsertTable: Database.Statement;

  constructor(readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS _stdb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS _stdb_tables (
        table_id INTEGER PRIMARY KEY, name TEXT NOT NULL, sql_table TEXT NOT NULL UNIQUE,
        table_type TEXT NOT NULL, columns TEXT NOT NULL) STRICT;`);
    this.getMeta = db.prepare('SELECT value FROM _stdb_meta WHERE key = ?').pluck();
    this.setMeta = db.prepare('INSERT INTO _stdb_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.upsertTable = db.prepare(
      `INSERT INTO _stdb_tables (table_id, name, sql_table, table_type, columns) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (table_id) DO UPDATE SET name = excluded.name, table_type = excluded.table_type, columns = excluded.columns`,
    );
    const format = this.meta('format');
    if (format === undefined) {
      const foreign = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('_stdb_meta', '_stdb_tables') LIMIT 1")
        .pluck()
        .get();
      if (foreign !== undefined) {
        throw new ExportError(ErrorCodes.EXPORT_MISMATCH, `${db.name} holds other tables (${String(foreign)}): not an export of this tool`);
      }
      this.setMeta.run('format', EXPORT_FORMAT);
    } else if (format !== EXPORT_FORMAT) {
      throw new ExportError(ErrorCodes.EXPORT_MISMATCH, `${db.name} is not an export of this format (format: ${format})`);
    }
  }

  meta(key: string): string | undefined {
    return this.getMeta.get(key) as string | undefined;
  }

  setMetaValue(key: string, value: string): void {
    this.setMeta.run(key, value);
  }

  /** The tables an earlier run created, by table id (statements prepared again). */
  loadTables(): { tableId: number; name: string; sqlName: string }[] {
    const rows = this.db.prepare('SELECT table_id, name, sql_table FROM _stdb_tables ORDER BY table_id').raw().all() as [
      bigint | number,
      string,
      string,
    ][];
    return rows.map(([id, name, sqlName]) => {
      this.sqlNames.add(sqlName);
      return { tableId: Number(id), name, sqlName };
    });
  }

  /** The BSATN bytes of a table's live rows, oldest first (to rebuild the in-memory meta tables). */
  *storedRows(sqlName: string): IterableIterator<Uint8Array> {
    for (const b of this.db
      .prepare(`SELECT ${HIDDEN_COLUMN} FROM ${quoteIdent(sqlName)} ORDER BY rowid`)
      .pluck()
      .iterate()) {
      yield b as Uint8Array;
    }
  }

  insert(schema: TableSchema, bsatn: Uint8Array, row: Row): void {
    const t = this.tables.get(schema.tableId) ?? this.open(schema);
    if (t.schema !== schema) this.update(t, schema);
    const values = t.values;
    const cols = t.columns;
    for (let i = 0; i < cols.length; i++) values[i] = cols[i]!.type.toSql(row[cols[i]!.name]);
    values[cols.length] = bsatn;
    values[cols.length + 1] = rowKey(bsatn);
    t.insert.run(values);
  }

  delete(schema: TableSchema, bsatn: Uint8Array): boolean {
    const t = this.tables.get(schema.tableId) ?? this.open(schema);
    return t.del.run(rowKey(bsatn), bsatn).changes > 0;
  }

  truncate(tableId: number, schema: TableSchema | null): void {
    const t = this.tables.get(tableId) ?? (schema ? this.open(schema) : undefined);
    t?.clear.run();
  }

  /** Live rows per table id. */
  rowCountsOf(tables: { tableId: number; sqlName: string }[]): Map<number, number> {
    const out = new Map<number, number>();
    for (const t of tables) {
      out.set(
        t.tableId,
        Number(
          this.db
            .prepare(`SELECT count(*) FROM ${quoteIdent(t.sqlName)}`)
            .pluck()
            .get(),
        ),
      );
    }
    return out;
  }

  tableTypes(): Map<number, string> {
    const rows = this.db.prepare('SELECT table_id, table_type FROM _stdb_tables').raw().all() as [bigint | number, string][];
    return new Map(rows.map(([id, type]) => [Number(id), type]));
  }

  sqlNameOf(tableId: number): string | undefined {
    return this.tables.get(tableId)?.sqlName;
  }

  /** The SQL table an earlier run made for `tableId`. */
  storedSqlName(tableId: number): string | undefined {
    return this.db.prepare('SELECT sql_table FROM _stdb_tables WHERE table_id = ?').pluck().get(tableId) as string | undefined;
  }

  /** The SQL table of `schema`, created (empty) if missing. */
  ensure(schema: TableSchema): string {
    return (this.tables.get(schema.tableId) ?? this.open(schema)).sqlName;
  }

  countRows(sqlName: string): number {
    return Number(
      this.db
        .prepare(`SELECT count(*) FROM ${quoteIdent(sqlName)}`)
        .pluck()
        .get(),
    );
  }

  /** The SQL table of `schema`, created the first time (also when an earlier run created it). */
  private open(schema: TableSchema): TableState {
    const existing = this.storedSqlName(schema.tableId);
    const sqlName = existing ?? this.freeName(schema);
    const columns = this.columnsOf(schema);
    if (existing === undefined) {
      const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type.decl}`);
      this.db.exec(
        `CREATE TABLE ${quoteIdent(sqlName)} (${[...defs, `${HIDDEN_COLUMN} BLOB NOT NULL`, `${KEY_COLUMN} INTEGER NOT NULL`].join(', ')}) STRICT;
         CREATE INDEX ${quoteIdent(`${sqlName}${KEY_COLUMN}`)} ON ${quoteIdent(sqlName)} (${KEY_COLUMN});`,
      );
      this.sqlNames.add(sqlName);
    }
    const t = this.prepare(schema, sqlName, existing === undefined ? columns : this.addMissing(sqlName, columns, schema));
    this.tables.set(schema.tableId, t);
    this.record(t, schema);
    return t;
  }

  /** A schema that changed (a migration added columns, or the table was renamed). */
  private update(t: TableState, schema: TableSchema): void {
    const same =
      t.name === schema.name &&
      t.columns.length === schema.columns.length &&
      schema.columns.every((c, i) => c.name === t.columns[i]!.name && sqlColumnType(c.type).spelled === t.columns[i]!.type.spelled);
    if (same) {
      t.schema = schema;
      return;
    }
    const columns = this.addMissing(t.sqlName, this.columnsOf(schema), schema);
    const next = this.prepare(schema, t.sqlName, columns);
    this.tables.set(schema.tableId, next);
    this.record(next, schema);
  }

  /** Adds the columns the SQL table lacks; a column whose type changed is refused. */
  private addMissing(sqlName: string, columns: ColumnState[], schema: TableSchema): ColumnState[] {
    const have = new Map(
      (this.db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(sqlName) as { name: string; type: string }[]).map((c) => [
        c.name,
        c.type,
      ]),
    );
    for (const c of columns) {
      const type = have.get(c.name);
      if (type === undefined) {
        this.db.exec(`ALTER TABLE ${quoteIdent(sqlName)} ADD COLUMN ${quoteIdent(c.name)} ${c.type.decl}`);
      } else if (type !== c.type.decl) {
        throw new ExportError(
          ErrorCodes.EXPORT_UNSUPPORTED_TYPE,
          `column ${c.name} of table ${schema.name} changed from SQL type ${type} to ${c.type.decl} (${c.type.spelled}): not supported by the export`,
        );
      }
    }
    return columns;
  }

  private columnsOf(schema: TableSchema): ColumnState[] {
    return schema.columns.map((c) => {
      if (c.name === HIDDEN_COLUMN || c.name === KEY_COLUMN) {
        throw new ExportError(
          ErrorCodes.EXPORT_UNSUPPORTED_TYPE,
          `table ${schema.name} has a column named ${c.name}, which the export reserves`,
        );
      }
      try {
        return { name: c.name, type: sqlColumnType(c.type) };
      } catch (e) {
        if (!(e instanceof UnsupportedTypeError)) throw e;
        throw new ExportError(
          ErrorCodes.EXPORT_UNSUPPORTED_TYPE,
          `table ${schema.name} (id ${schema.tableId}), column ${c.name}: ${e.message}`,
          {
            cause: e,
          },
        );
      }
    });
  }

  private prepare(schema: TableSchema, sqlName: string, columns: ColumnState[]): TableState {
    const q = quoteIdent(sqlName);
    const names = [...columns.map((c) => quoteIdent(c.name)), HIDDEN_COLUMN, KEY_COLUMN];
    return {
      tableId: schema.tableId,
      schema,
      name: schema.name,
      sqlName,
      columns,
      insert: this.db.prepare(`INSERT INTO ${q} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`),
      del: this.db.prepare(
        `DELETE FROM ${q} WHERE rowid = (SELECT rowid FROM ${q} WHERE ${KEY_COLUMN} = ? AND ${HIDDEN_COLUMN} = ? LIMIT 1)`,
      ),
      clear: this.db.prepare(`DELETE FROM ${q}`),
      values: new Array<unknown>(columns.length + 2),
    };
  }

  private record(t: TableState, schema: TableSchema): void {
    const columns: ExportedColumn[] = t.columns.map((c) => ({
      name: c.name,
      type: c.type.spelled,
      sql: c.type.decl,
      stored: c.type.stored,
    }));
    this.upsertTable.run(schema.tableId, schema.name, t.sqlName, schema.tableType, JSON.stringify(columns));
  }

  /** The module's name unless another table has it, it is reserved (`_stdb_*`, `sqlite_*`) or empty. */
  private freeName(schema: TableSchema): string {
    const name = schema.name;
    const reserved = name === '' || /^(_stdb_|sqlite_)/i.test(name);
    const lower = new Set([...this.sqlNames].map((n) => n.toLowerCase()));
    if (!reserved && !lower.has(name.toLowerCase())) return name;
    let candidate = `${name || 'table'}_${schema.tableId}`;
    if (/^(_stdb_|sqlite_)/i.test(candidate)) candidate = `t_${candidate}`;
    while (lower.has(candidate.toLowerCase())) candidate += '_';
    return candidate;
  }
}
