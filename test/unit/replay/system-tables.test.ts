/**
 * The built-in system table schemas against the Rust sources (system_tables.rs at v1.2.0 and v2.6.0):
 * ids, names, column names and row layouts, checked on rows written field by field.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_TABLES, SchemaRegistry, systemTables } from '../../../src/api/replay.js';
import { BinaryReader } from '../../../src/replay/stdb.js';
import { bytesOf, stColumnRow, stTableRow } from './log-builder.js';

const NAMES_V1 = [
  'st_table', 'st_column', 'st_sequence', 'st_index', 'st_constraint', 'st_module', 'st_client', 'st_var',
  'st_scheduled', 'st_row_level_security', 'st_connection_credentials', 'st_view', 'st_view_param',
  'st_view_column', 'st_view_sub', 'st_view_arg',
];
const NAMES_V2 = [...NAMES_V1, 'st_event_table', 'st_table_accessor', 'st_index_accessor', 'st_column_accessor'];

function decodeSystemRow(tableId: number, bytes: Uint8Array): Record<string, unknown> {
  const reg = new SchemaRegistry(() => []);
  const r = new BinaryReader(bytes);
  const row = reg.schema(tableId).codec.decode(r);
  expect(r.offset).toBe(bytes.length);
  return row;
}

describe('system tables', () => {
  it('ids 1..16 in 1.x (ST_TABLE_ID = 1 ... ST_VIEW_ARG_ID = 16) and 1..20 in 2.x', () => {
    expect(systemTables(1).map((t) => [t.tableId, t.name])).toEqual(NAMES_V1.map((n, i) => [i + 1, n]));
    expect(systemTables(2).map((t) => [t.tableId, t.name])).toEqual(NAMES_V2.map((n, i) => [i + 1, n]));
    expect(SYSTEM_TABLES.length).toBe(20);
  });

  it('column names follow the st_fields_enum! declarations', () => {
    const cols = (name: string): string[] => SYSTEM_TABLES.find((t) => t.name === name)!.columns.map((c) => c.name);
    expect(cols('st_table')).toEqual(['table_id', 'table_name', 'table_type', 'table_access', 'table_primary_key']);
    expect(cols('st_column')).toEqual(['table_id', 'col_pos', 'col_name', 'col_type']);
    expect(cols('st_sequence')).toEqual([
      'sequence_id', 'sequence_name', 'table_id', 'col_pos', 'increment', 'start', 'min_value', 'max_value', 'allocated',
    ]);
    expect(cols('st_module')).toEqual([
      'database_identity', 'owner_identity', 'program_kind', 'program_hash', 'program_bytes', 'module_version',
    ]);
    expect(cols('st_view_sub')).toEqual(['view_id', 'arg_id', 'identity', 'num_subscribers', 'has_subscribers', 'last_called']);
    expect(cols('st_column_accessor')).toEqual(['table_name', 'col_name', 'accessor_name']);
  });

  it('an StTableRow: u32, three strings, Option<Vec<u16>>', () => {
    expect(decodeSystemRow(1, stTableRow(4097, 'message'))).toEqual({
      table_id: 4097,
      table_name: 'message',
      table_type: 'user',
      table_access: 'public',
      table_primary_key: undefined,
    });
    expect(decodeSystemRow(1, stTableRow(4098, 'user', 'user', 'private', [0, 2])).table_primary_key).toEqual([0, 2]);
  });

  it('an StColumnRow keeps col_type as its bytes', () => {
    const row = decodeSystemRow(2, stColumnRow(4096, 3, 'level', Uint8Array.of(13)));
    expect(row).toEqual({ table_id: 4096, col_pos: 3, col_name: 'level', col_type: Uint8Array.of(13) });
  });

  it('an StSequenceRow: i128 fields', () => {
    const bytes = bytesOf((w) => {
      w.writeU32(1);
      w.writeString('st_table_table_id_seq');
      w.writeU32(1);
      w.writeU16(0);
      for (const v of [1n, 4097n, 1n, 2n ** 127n - 1n, 8193n]) w.writeI128(v);
    });
    expect(decodeSystemRow(3, bytes)).toMatchObject({ sequence_name: 'st_table_table_id_seq', start: 4097n, max_value: 2n ** 127n - 1n });
  });

  it('StIndexAlgorithm: BTree is tag 1 { columns }, Hash (1.12+) tag 3', () => {
    const row = (tag: number) =>
      bytesOf((w) => {
        w.writeU32(4097);
        w.writeU32(4096);
        w.writeString('idx');
        w.writeU8(tag);
        w.writeU32(1);
        w.writeU16(0);
      });
    expect(decodeSystemRow(4, row(1)).index_algorithm).toEqual({ tag: 'BTree', value: { columns: [0] } });
    expect(decodeSystemRow(4, row(3)).index_algorithm).toEqual({ tag: 'Hash', value: { columns: [0] } });
  });

  it('st_client: identity u256 and connection id u128 (decoded as the SATS identity types)', () => {
    const bytes = bytesOf((w) => {
      w.writeU256(0xc200n << 240n);
      w.writeU128(5n);
    });
    const row = decodeSystemRow(7, bytes) as { identity: { __identity__: bigint }; connection_id: { __connection_id__: bigint } };
    expect(row.identity.__identity__).toBe(0xc200n << 240n);
    expect(row.connection_id.__connection_id__).toBe(5n);
  });

  it('st_var: StVarValue U64 is tag 8', () => {
    const bytes = bytesOf((w) => {
      w.writeString('row_limit');
      w.writeU8(8);
      w.writeU64(5n);
    });
    expect(decodeSystemRow(8, bytes)).toEqual({ name: 'row_limit', value: { tag: 'U64', value: 5n } });
  });

  it('a 1.x registry does not know the 2.x tables', () => {
    const reg = new SchemaRegistry(() => [], 1);
    expect(reg.isSystemTable(16)).toBe(true);
    expect(reg.isSystemTable(17)).toBe(false);
    expect(() => reg.schema(17)).toThrow(/no st_table row declares it/);
  });
});
