/**
 * Table schemas while a log replays: the built-in system tables (system-tables.ts) plus the tables
 * that the live rows of `st_table` and `st_column` describe. Schemas are rebuilt lazily whenever one
 * of those rows for the table changes.
 */
import { type AlgebraicType, type Row, type RowCodec, decodeAlgebraicType, rowCodec } from './stdb.js';
import {
  type ColumnSchema,
  type MajorVersion,
  ST_COLUMN_ID,
  ST_TABLE_ID,
  SYSTEM_TABLES,
  type SystemTableSchema,
  systemTables,
} from './system-tables.js';

export interface TableSchema {
  tableId: number;
  name: string;
  /** `system` for the built-in tables, otherwise `st_table.table_type` ("user", or "system"). */
  tableType: string;
  columns: ColumnSchema[];
  codec: RowCodec;
}

/** Why a schema cannot be built: `unknown` (nothing describes the table) or `bad` (the rows do not fit). */
export class SchemaError extends Error {
  constructor(
    readonly kind: 'unknown' | 'bad',
    readonly tableId: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A Txdata holds a transaction's net effect, so the rows it deletes were written under the schema
 * from before the transaction, and the rows it inserts under the schema after it. `insert` and
 * `delete` name these two views of the meta tables.
 */
export type SchemaUse = 'insert' | 'delete';

/**
 * The rows of `st_table` or `st_column` (oldest first) as seen by `use`: for `insert` the live rows
 * (with this transaction's inserts last), for `delete` those from before the current transaction.
 */
export type MetaRows = (metaTableId: number, use: SchemaUse) => Iterable<Row>;

export class SchemaRegistry {
  private readonly system = new Map<number, TableSchema>();
  private readonly cache = new Map<number, { insert?: TableSchema; delete?: TableSchema }>();

  constructor(
    private readonly meta: MetaRows,
    version: MajorVersion | 'all' = 'all',
  ) {
    const tables: readonly SystemTableSchema[] = version === 'all' ? SYSTEM_TABLES : systemTables(version);
    for (const t of tables) {
      this.system.set(t.tableId, { ...t, tableType: 'system', codec: rowCodec(t.columns) });
    }
  }

  isSystemTable(tableId: number): boolean {
    return this.system.has(tableId);
  }

  systemSchemas(): TableSchema[] {
    return [...this.system.values()];
  }

  /** Called after a row of `st_table` or `st_column` was inserted or deleted, and at the end of its transaction. */
  onMetaRowChanged(metaTableId: number, row: Row): void {
    if (metaTableId !== ST_TABLE_ID && metaTableId !== ST_COLUMN_ID) return;
    const id = row.table_id;
    if (typeof id === 'number') this.cache.delete(id);
  }

  /** Forgets every derived schema. */
  invalidateAll(): void {
    this.cache.clear();
  }

  /** The schema rows of `tableId` decode with; throws `SchemaError`. */
  schema(tableId: number, use: SchemaUse = 'insert'): TableSchema {
    const sys = this.system.get(tableId);
    if (sys) return sys;
    let entry = this.cache.get(tableId);
    if (!entry) this.cache.set(tableId, (entry = {}));
    return (entry[use] ??= this.build(tableId, use));
  }

  /** The `st_table` row of `tableId`, the newest if there are several. */
  declared(tableId: number, use: SchemaUse = 'insert'): { name: string; tableType: string } | null {
    let found: { name: string; tableType: string } | null = null;
    for (const r of this.meta(ST_TABLE_ID, use)) {
      if (r.table_id === tableId) found = { name: String(r.table_name), tableType: String(r.table_type) };
    }
    return found;
  }

  /** Every table id the live `st_table` rows declare, with its row. */
  declaredTables(): Map<number, { name: string; tableType: string }> {
    const out = new Map<number, { name: string; tableType: string }>();
    for (const r of this.meta(ST_TABLE_ID, 'insert')) {
      out.set(r.table_id as number, { name: String(r.table_name), tableType: String(r.table_type) });
    }
    return out;
  }

  private build(tableId: number, use: SchemaUse): TableSchema {
    const decl = this.declared(tableId, use);
    if (!decl) throw new SchemaError('unknown', tableId, `table ${tableId} is not a system table and no st_table row declares it`);
    const byPos = new Map<number, Row>();
    // Newest wins: during a transaction's inserts, its new column rows come after the old ones.
    for (const r of this.meta(ST_COLUMN_ID, use)) {
      if (r.table_id === tableId) byPos.set(r.col_pos as number, r);
    }
    if (byPos.size === 0) {
      throw new SchemaError('bad', tableId, `table ${tableId} (${decl.name}) has no st_column rows`);
    }
    const columns: ColumnSchema[] = [];
    for (let pos = 0; pos < byPos.size; pos++) {
      const r = byPos.get(pos);
      if (!r) throw new SchemaError('bad', tableId, `table ${tableId} (${decl.name}) has no st_column row for column ${pos}`);
      let type: AlgebraicType;
      try {
        type = decodeAlgebraicType(r.col_type as Uint8Array);
      } catch (e) {
        throw new SchemaError('bad', tableId, `column ${pos} of table ${tableId} (${decl.name}): bad col_type: ${(e as Error).message}`, { cause: e });
      }
      if (containsRef(type)) {
        throw new SchemaError(
          'bad',
          tableId,
          `column ${String(r.col_name)} of table ${tableId} (${decl.name}): its type refers into a typespace (Ref) the log does not carry, so its rows cannot be decoded`,
        );
      }
      columns.push({ name: String(r.col_name), type });
    }
    let codec: RowCodec;
    try {
      codec = rowCodec(columns);
    } catch (e) {
      throw new SchemaError('bad', tableId, `table ${tableId} (${decl.name}): ${(e as Error).message}`, { cause: e });
    }
    return { tableId, name: decl.name, tableType: decl.tableType, columns, codec };
  }
}

/** Whether a type holds a `Ref` anywhere (column types in st_column are meant to be fully resolved). */
function containsRef(t: AlgebraicType): boolean {
  switch (t.tag) {
    case 'Ref':
      return true;
    case 'Array':
      return containsRef(t.value);
    case 'Product':
      return t.value.elements.some((e) => containsRef(e.algebraicType));
    case 'Sum':
      return t.value.variants.some((v) => containsRef(v.algebraicType));
    default:
      return false;
  }
}
