/** Replaying SpacetimeDB logs into tables (issue 6): re-exports only. */
export {
  type ReplayOptions,
  type ReplayResult,
  type ReplayedTable,
  replay,
} from './replay.js';
export { ReplayError, type ReplayErrorReason } from './errors.js';
export { LiveTable, ReplayVisitor } from './visitor.js';
export { SchemaError, SchemaRegistry, type SchemaUse, type TableSchema } from './schema.js';
export {
  type ColumnSchema,
  type MajorVersion,
  type SystemTableSchema,
  ST_COLUMN_ID,
  ST_RESERVED_SEQUENCE_RANGE,
  ST_TABLE_ID,
  ST_VIEW_ID,
  SYSTEM_TABLES,
  systemTables,
} from './system-tables.js';
export { type Json, optionOf, rowToDisplayJson, rowToJson, specialOf, spellType, toHex, typeText, valueToJson } from './json.js';
export {
  type AlgebraicType,
  type Row,
  type RowCodec,
  decodeAlgebraicType,
  encodeAlgebraicType,
  option,
  product,
  rowCodec,
  sum,
} from './stdb.js';
export {
  type DescribedColumn,
  type DescribedConstraint,
  type DescribedIndex,
  type DescribedSequence,
  type DescribedTable,
  type SystemRows,
  type TableRef,
  describeSchema,
} from './describe.js';
export { type DecodedTableOps, type DecodedTransaction, decodedTransactions } from './transactions.js';
