/**
 * The system tables of SpacetimeDB 1.x and 2.x. A log never describes these (the engine builds their
 * schemas from its source), so they are transcribed here from `system_tables.rs` in
 * clockworklabs/SpacetimeDB: crates/core/src/db/datastore/ (v1.0.0–v1.3) and crates/datastore/src/
 * (v1.4.0 on), checked at tags v1.0.0, v1.2.0, v1.4.0, v1.6.0, v1.8.0, v1.10.0, v1.12.0, v2.0.0,
 * v2.2.0, v2.4.0, v2.6.0 and v2.8.3.
 *
 * Across all of them the changes are additive: tables 11 (1.4), 12–16 (1.8) and 17–20 (2.0) were
 * added, `StIndexAlgorithm` gained `Hash` (1.12), and name columns changed Rust type (`Box<str>` to
 * `TableName`/`Identifier`/`RawIdentifier`/namespaced identifiers) but all of those are BSATN
 * strings. So a table id always means the same table with the same row layout, and a major version
 * is the set of tables it can write.
 *
 * Rust column types as SATS: `TableId`, `IndexId`, `SequenceId`, `ConstraintId`, `ScheduleId`,
 * `ViewId` are u32; `ColId` u16; `ColList`/`ColSet` `Array<u16>`; `ArgId` u64; `IdentityViaU256`
 * and `Hash` u256; `ConnectionIdViaU128` u128; `TimestampViaI64` i64; `ModuleKind` u8;
 * `StAccess`/`StTableType` strings ("public"/"private", "system"/"user"); `AlgebraicTypeViaBytes`
 * bytes holding the BSATN of an `AlgebraicType` (decodeAlgebraicType in stdb.ts).
 *
 * Identity, connection id and timestamp columns are written here as SATS's one-field special products
 * (`__identity__: u256`, ...) rather than the bare u256/u128/i64 of the Rust schema: a one-field
 * product has exactly its field's BSATN, and this way they decode and print like identities in user
 * tables do.
 */
import { AT, type AlgebraicType, option, product, sum } from './stdb.js';

export type MajorVersion = 1 | 2;

export interface ColumnSchema {
  name: string;
  type: AlgebraicType;
  /** The column's bytes are the BSATN of an `AlgebraicType` (`st_column.col_type`, ...): shown spelled. */
  holdsType?: true;
}

export interface SystemTableSchema {
  tableId: number;
  name: string;
  /** The first SpacetimeDB release that has the table. */
  since: string;
  columns: ColumnSchema[];
}

export const ST_TABLE_ID = 1;
export const ST_COLUMN_ID = 2;
export const ST_VIEW_ID = 12;
/** Ids up to this are reserved for system tables; user tables get larger ones. */
export const ST_RESERVED_SEQUENCE_RANGE = 4096;

const U16 = AT.U16;
const U32 = AT.U32;
const U64 = AT.U64;
const STRING = AT.String;
const BOOL = AT.Bool;
const COL_LIST = AT.Array(U16);
const BYTES = AT.Array(AT.U8);
const IDENTITY = product([['__identity__', AT.U256]]);
const CONNECTION_ID = product([['__connection_id__', AT.U128]]);
const TIMESTAMP = product([['__timestamp_micros_since_unix_epoch__', AT.I64]]);

const StIndexAlgorithm = sum([
  ['Unused', AT.U128],
  ['BTree', product([['columns', COL_LIST]])],
  ['Direct', product([['column', U16]])],
  ['Hash', product([['columns', COL_LIST]])], // since 1.12
]);

const StConstraintData = sum([
  ['Unused', AT.U128],
  ['Unique', product([['columns', COL_LIST]])],
]);

const StVarValue = sum([
  ['Bool', BOOL],
  ['I8', AT.I8],
  ['U8', AT.U8],
  ['I16', AT.I16],
  ['U16', U16],
  ['I32', AT.I32],
  ['U32', U32],
  ['I64', AT.I64],
  ['U64', U64],
  ['I128', AT.I128],
  ['U128', AT.U128],
  ['F32', AT.F32],
  ['F64', AT.F64],
  ['String', STRING],
]);

/** A column of `AlgebraicTypeViaBytes`. */
const TYPE_BYTES = 'type-bytes';

function table(tableId: number, name: string, since: string, cols: [string, AlgebraicType | typeof TYPE_BYTES][]): SystemTableSchema {
  return {
    tableId,
    name,
    since,
    columns: cols.map(([n, type]): ColumnSchema => (type === TYPE_BYTES ? { name: n, type: BYTES, holdsType: true } : { name: n, type })),
  };
}

/** Every system table of 1.x and 2.x, by id. */
export const SYSTEM_TABLES: readonly SystemTableSchema[] = [
  table(1, 'st_table', '1.0', [
    ['table_id', U32],
    ['table_name', STRING],
    ['table_type', STRING],
    ['table_access', STRING],
    ['table_primary_key', option(COL_LIST)],
  ]),
  table(2, 'st_column', '1.0', [
    ['table_id', U32],
    ['col_pos', U16],
    ['col_name', STRING],
    ['col_type', TYPE_BYTES],
  ]),
  table(3, 'st_sequence', '1.0', [
    ['sequence_id', U32],
    ['sequence_name', STRING],
    ['table_id', U32],
    ['col_pos', U16],
    ['increment', AT.I128],
    ['start', AT.I128],
    ['min_value', AT.I128],
    ['max_value', AT.I128],
    ['allocated', AT.I128],
  ]),
  table(4, 'st_index', '1.0', [
    ['index_id', U32],
    ['table_id', U32],
    ['index_name', STRING],
    ['index_algorithm', StIndexAlgorithm],
  ]),
  table(5, 'st_constraint', '1.0', [
    ['constraint_id', U32],
    ['constraint_name', STRING],
    ['table_id', U32],
    ['constraint_data', StConstraintData],
  ]),
  table(6, 'st_module', '1.0', [
    ['database_identity', IDENTITY],
    ['owner_identity', IDENTITY],
    ['program_kind', AT.U8],
    ['program_hash', AT.U256],
    ['program_bytes', BYTES],
    ['module_version', STRING],
  ]),
  table(7, 'st_client', '1.0', [
    ['identity', IDENTITY],
    ['connection_id', CONNECTION_ID],
  ]),
  table(8, 'st_var', '1.0', [
    ['name', STRING],
    ['value', StVarValue],
  ]),
  table(9, 'st_scheduled', '1.0', [
    ['schedule_id', U32],
    ['table_id', U32],
    ['reducer_name', STRING],
    ['schedule_name', STRING],
    ['at_column', U16],
  ]),
  table(10, 'st_row_level_security', '1.0', [
    ['table_id', U32],
    ['sql', STRING],
  ]),
  table(11, 'st_connection_credentials', '1.4', [
    ['connection_id', CONNECTION_ID],
    ['jwt_payload', STRING],
  ]),
  table(12, 'st_view', '1.8', [
    ['view_id', U32],
    ['view_name', STRING],
    ['table_id', option(U32)],
    ['is_public', BOOL],
    ['is_anonymous', BOOL],
  ]),
  table(13, 'st_view_param', '1.8', [
    ['view_id', U32],
    ['param_pos', U16],
    ['param_name', STRING],
    ['param_type', TYPE_BYTES],
  ]),
  table(14, 'st_view_column', '1.8', [
    ['view_id', U32],
    ['col_pos', U16],
    ['col_name', STRING],
    ['col_type', TYPE_BYTES],
  ]),
  table(15, 'st_view_sub', '1.8', [
    ['view_id', U32],
    ['arg_id', U64],
    ['identity', IDENTITY],
    ['num_subscribers', U64],
    ['has_subscribers', BOOL],
    ['last_called', TIMESTAMP],
  ]),
  table(16, 'st_view_arg', '1.8', [
    ['id', U64],
    ['bytes', BYTES],
  ]),
  table(17, 'st_event_table', '2.0', [['table_id', U32]]),
  table(18, 'st_table_accessor', '2.0', [
    ['table_name', STRING],
    ['accessor_name', STRING],
  ]),
  table(19, 'st_index_accessor', '2.0', [
    ['index_name', STRING],
    ['accessor_name', STRING],
  ]),
  table(20, 'st_column_accessor', '2.0', [
    ['table_name', STRING],
    ['col_name', STRING],
    ['accessor_name', STRING],
  ]),
];

/** The system tables a SpacetimeDB of major version `major` (its latest minor release) writes. */
export function systemTables(major: MajorVersion): SystemTableSchema[] {
  return SYSTEM_TABLES.filter((t) => Number(t.since.split('.')[0]) <= major);
}
