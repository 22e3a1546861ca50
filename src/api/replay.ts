/**
 * `stdb-commitlog/replay`: the SpacetimeDB view of a log: the Txdata codec and visitor, replay into
 * tables, the SQLite export and the row change stream.
 */
export * from '../payload/index.js';
export {
  type AlgebraicType,
  type ColumnSchema,
  type Json,
  type MajorVersion,
  type ReplayErrorReason,
  type ReplayOptions,
  type ReplayResult,
  type ReplayedTable,
  type Row,
  type RowCodec,
  type SchemaUse,
  type SystemTableSchema,
  type TableSchema,
  LiveTable,
  ReplayError,
  ReplayVisitor,
  SYSTEM_TABLES,
  SchemaError,
  SchemaRegistry,
  type DecodedTableOps,
  type DecodedTransaction,
  type DescribedColumn,
  type DescribedConstraint,
  type DescribedIndex,
  type DescribedSequence,
  type DescribedTable,
  type SystemRows,
  type TableRef,
  decodeAlgebraicType,
  decodedTransactions,
  describeSchema,
  encodeAlgebraicType,
  replay,
  rowCodec,
  rowToDisplayJson,
  rowToJson,
  spellType,
  typeText,
  systemTables,
  valueToJson,
} from '../replay/index.js';
export { type RowStore, type ReplayVisitorOptions, META_TABLE_IDS } from '../replay/visitor.js';
export {
  type ExportOptions,
  type ExportProgress,
  type ExportResult,
  type ExportedTable,
  ExportStoppedError,
  SqliteReplay,
  exportSqlite,
} from '../export/export.js';
export { EXPORT_FORMAT, ExportError, HIDDEN_COLUMN, type ExportedColumn, quoteIdent } from '../export/sqlite-store.js';
export { type SqlColumnType, sqlColumnType } from '../export/sql-types.js';
export {
  type ChangesOptions,
  type DebeziumChange,
  type RowChange,
  changeChunks,
  changeChunksSync,
  changeLines,
  changeLinesSync,
  changes,
  changesSync,
  decodeCaller,
  toDebezium,
} from '../export/changes.js';
export { type RowText, rowTextSerializer } from '../replay/json-text.js';
