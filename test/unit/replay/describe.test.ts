/**
 * Issue 17, the SpacetimeDB view decoded: types spelled from their BSATN (st_column.col_type), the
 * schema description behind `clog schema`, the caller part of reducer inputs, and the message for
 * records that are not Txdata.
 */
import { describe, expect, it } from 'vitest';
import { type Json, describeSchema, encodeAlgebraicType, rowToDisplayJson, spellType, typeText } from '../../../src/api/replay.js';
import { CALLER_LEN, decodeCaller, reducerOwnArgs } from '../../../src/replay/caller.js';
import { leftOverError } from '../../../src/replay/errors.js';
import { AT, option, product, sum } from '../../../src/replay/stdb.js';
import { SYSTEM_TABLES } from '../../../src/replay/system-tables.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const IDENTITY = product([['__identity__', AT.U256]]);

describe('typeText: a type from its BSATN, spelled', () => {
  it('primitives, the special products, options and arrays', () => {
    expect(typeText(encodeAlgebraicType(AT.U64))).toBe('U64');
    expect(typeText(Uint8Array.of(0x0d))).toBe('U64'); // tag 13, what the v2.6 log holds
    expect(typeText(encodeAlgebraicType(AT.Bool))).toBe('Bool');
    expect(typeText(encodeAlgebraicType(IDENTITY))).toBe('Identity');
    expect(typeText(encodeAlgebraicType(product([['__connection_id__', AT.U128]])))).toBe('ConnectionId');
    expect(typeText(encodeAlgebraicType(product([['__timestamp_micros_since_unix_epoch__', AT.I64]])))).toBe('Timestamp');
    expect(typeText(encodeAlgebraicType(option(AT.String)))).toBe('Option<String>');
    expect(typeText(encodeAlgebraicType(AT.Array(AT.U8)))).toBe('Array<U8>');
    expect(typeText(encodeAlgebraicType(AT.Array(option(IDENTITY))))).toBe('Array<Option<Identity>>');
  });

  it('products and sums spelled out, with unit variants bare and results as Result<ok, err>', () => {
    const point = product([
      ['x', AT.F32],
      ['y', AT.F32],
    ]);
    expect(typeText(encodeAlgebraicType(point))).toBe('(x: F32, y: F32)');
    const shape = sum([
      ['circle', AT.F64],
      ['none', product([])],
      ['poly', AT.Array(point)],
    ]);
    expect(typeText(encodeAlgebraicType(shape))).toBe('(circle: F64 | none | poly: Array<(x: F32, y: F32)>)');
    const result = sum([
      ['ok', AT.U32],
      ['err', AT.String],
    ]);
    expect(typeText(encodeAlgebraicType(result))).toBe('Result<U32, String>');
    // unnamed fields are shown by position
    expect(spellType(AT.Product({ elements: [{ name: undefined, algebraicType: AT.I8 }] }))).toBe('(0: I8)');
  });

  it('bytes that are no type say so, with their hex, instead of passing for one', () => {
    expect(typeText(Uint8Array.of(0x63))).toMatch(/^undecodable type \(.*\): 63$/);
    // a valid type followed by a stray byte
    expect(typeText(Uint8Array.of(0x0d, 0x00))).toMatch(/^undecodable type \(1 trailing bytes.*\): 0d00$/);
    expect(typeText(new Uint8Array(0))).toMatch(/^undecodable type/);
  });
});

describe('rowToDisplayJson', () => {
  it('spells the columns that hold a type (st_column.col_type), leaves other bytes as hex', () => {
    const stColumn = SYSTEM_TABLES.find((t) => t.name === 'st_column')!.columns;
    expect(stColumn.filter((c) => c.holdsType).map((c) => c.name)).toEqual(['col_type']);
    const row = { table_id: 4097, col_pos: 1, col_name: 'name', col_type: encodeAlgebraicType(option(AT.String)) };
    expect(rowToDisplayJson(row, stColumn)).toEqual({ table_id: 4097, col_pos: 1, col_name: 'name', col_type: 'Option<String>' });
    const stModule = SYSTEM_TABLES.find((t) => t.name === 'st_module')!.columns;
    expect(stModule.some((c) => c.holdsType)).toBe(false);
    // the view tables' types too
    for (const [t, c] of [
      ['st_view_param', 'param_type'],
      ['st_view_column', 'col_type'],
    ]) {
      expect(SYSTEM_TABLES.find((x) => x.name === t)!.columns.find((x) => x.name === c)!.holdsType).toBe(true);
    }
  });
});

type Rows = Record<number, { [k: string]: Json }[]>;

function describeWith(rows: Rows, tables: { tableId: number; name: string; tableType: string }[]) {
  return describeSchema(tables, (id) => rows[id] ?? []);
}

const col = (tableId: number, pos: number, name: string, type: Parameters<typeof encodeAlgebraicType>[0]) => ({
  table_id: tableId,
  col_pos: pos,
  col_name: name,
  col_type: hex(encodeAlgebraicType(type)),
});

describe('describeSchema', () => {
  const rows: Rows = {
    1: [
      { table_id: 4096, table_name: 'player', table_type: 'user', table_access: 'private', table_primary_key: [0] },
      { table_id: 4097, table_name: 'tick', table_type: 'user', table_access: 'public', table_primary_key: null },
      { table_id: 4098, table_name: 'broken', table_type: 'user', table_access: 'public', table_primary_key: null },
    ],
    // out of order on purpose: positions decide
    2: [
      col(4096, 2, 'pos', product([['x', AT.F32], ['y', AT.F32]])),
      col(4096, 0, 'id', AT.U64),
      col(4096, 1, 'owner', IDENTITY),
      col(4097, 0, 'scheduled_id', AT.U64),
      col(4097, 1, 'at', sum([['Interval', AT.U64], ['Time', AT.I64]])),
      col(4098, 1, 'second', AT.U8),
    ],
    3: [
      { sequence_id: 9, sequence_name: 'player_id_seq', table_id: 4096, col_pos: 0, increment: '1', start: '1', min_value: '1', max_value: '99', allocated: '4096' },
      { sequence_id: 1, sequence_name: 'st_table_table_id_seq', table_id: 1, col_pos: 0, increment: '1', start: '4097', min_value: '1', max_value: '9', allocated: '8192' },
    ],
    4: [
      { index_id: 1, table_id: 4096, index_name: 'player_id_idx', index_algorithm: { BTree: { columns: [0] } } },
      { index_id: 2, table_id: 4096, index_name: 'player_owner_pos', index_algorithm: { Hash: { columns: [1, 2] } } },
      { index_id: 3, table_id: 4096, index_name: 'player_direct', index_algorithm: { Direct: { column: 0 } } },
      { index_id: 4, table_id: 4096, index_name: 'bad_col', index_algorithm: { BTree: { columns: [7] } } },
    ],
    5: [{ constraint_id: 1, constraint_name: 'player_id_key', table_id: 4096, constraint_data: { Unique: { columns: [0] } } }],
    9: [{ schedule_id: 1, table_id: 4097, reducer_name: 'on_tick', schedule_name: 'tick_sched', at_column: 1 }],
    12: [{ view_id: 5, view_name: 'my_view', table_id: 4099, is_public: false, is_anonymous: true }],
    14: [],
  };
  const tables = [
    { tableId: 1, name: 'st_table', tableType: 'system' },
    { tableId: 4096, name: 'player', tableType: 'user' },
    { tableId: 4097, name: 'tick', tableType: 'user' },
    { tableId: 4098, name: 'broken', tableType: 'user' },
    { tableId: 4099, name: 'my_view', tableType: 'user' },
    { tableId: 5000, name: '#5000', tableType: 'unknown' },
  ];
  const out = describeWith(rows, tables);
  const by = (id: number) => out.find((t) => t.tableId === id)!;

  it('a user table: columns in position order with types spelled and their BSATN, key, indexes, constraints, sequences', () => {
    const p = by(4096);
    expect(p).toMatchObject({ name: 'player', type: 'user', access: 'private', schemaFrom: 'log', problem: null, event: false });
    expect(p.columns.map((c) => [c.position, c.name, c.type])).toEqual([
      [0, 'id', 'U64'],
      [1, 'owner', 'Identity'],
      [2, 'pos', '(x: F32, y: F32)'],
    ]);
    expect(p.columns[0]!.typeBsatn).toBe(hex(encodeAlgebraicType(AT.U64)));
    expect(p.primaryKey).toEqual(['id']);
    expect(p.indexes).toEqual([
      { indexId: 1, name: 'player_id_idx', algorithm: 'btree', columns: ['id'] },
      { indexId: 2, name: 'player_owner_pos', algorithm: 'hash', columns: ['owner', 'pos'] },
      { indexId: 3, name: 'player_direct', algorithm: 'direct', columns: ['id'] },
      // a column the table does not have is shown by position, not dropped
      { indexId: 4, name: 'bad_col', algorithm: 'btree', columns: ['#7'] },
    ]);
    expect(p.constraints).toEqual([{ constraintId: 1, name: 'player_id_key', kind: 'unique', columns: ['id'] }]);
    expect(p.sequences).toEqual([
      { sequenceId: 9, name: 'player_id_seq', column: 'id', start: '1', increment: '1', minValue: '1', maxValue: '99', allocated: '4096' },
    ]);
    expect(p.schedule).toBeNull();
    expect(p.view).toBeNull();
  });

  it('a schedule table names its reducer and time column', () => {
    expect(by(4097).schedule).toEqual({ scheduleId: 1, name: 'tick_sched', reducer: 'on_tick', atColumn: 'at' });
    expect(by(4097).columns[1]!.type).toBe('(Interval: U64 | Time: I64)');
    expect(by(4097).primaryKey).toBeNull();
  });

  it('a gap in st_column is reported, the columns there are kept', () => {
    expect(by(4098).problem).toBe('st_column has no row for column 0');
    expect(by(4098).columns.map((c) => c.name)).toEqual(['second']);
  });

  it('a view: type view, access from st_view when st_table does not say; nothing known is said as such', () => {
    expect(by(4099)).toMatchObject({ type: 'view', access: 'private', view: { viewId: 5, name: 'my_view', public: false, anonymous: true } });
    expect(by(4099).problem).toBe('no st_table row declares it (dropped, or never described)');
    expect(by(5000)).toMatchObject({ name: '#5000', type: 'unknown', access: null, schemaFrom: 'none', columns: [] });
  });

  it('system tables: the built-in columns, and the sequences the log has for them', () => {
    const st = by(1);
    expect(st.schemaFrom).toBe('built-in');
    expect(st.columns.map((c) => `${c.name}: ${c.type}`)).toEqual([
      'table_id: U32',
      'table_name: String',
      'table_type: String',
      'table_access: String',
      'table_primary_key: Option<Array<U16>>',
    ]);
    expect(st.sequences.map((s) => [s.name, s.column])).toEqual([['st_table_table_id_seq', 'table_id']]);
    expect(st.access).toBeNull();
  });
});

describe('reducer inputs: the caller prefix', () => {
  // identity (u256 LE), connection id (u128 LE), timestamp (i64 LE µs), then the reducer's own arguments
  const args = new Uint8Array(CALLER_LEN + 7);
  args[0] = 0x1a; // least significant byte of the identity: last in its big-endian hex
  args[31] = 0xc2;
  args[32] = 0x96;
  args[47] = 0x4e;
  const micros = 1755532678674636n; // 2025-08-18T15:57:58.674636Z
  new DataView(args.buffer).setBigInt64(48, micros, true);
  args.set([3, 0, 0, 0, 0x6f, 0x6d, 0x67], CALLER_LEN);
  const inputs = { reducerName: 'send_message', reducerArgs: args };

  it('decodes caller, connection id and timestamp; the rest are the arguments', () => {
    const c = decodeCaller(inputs)!;
    expect(c.caller).toMatch(/^c2[0]{60}1a$/);
    expect(c.connectionId).toMatch(/^4e[0]{28}96$/);
    expect(c.timestamp).toBe('2025-08-18T15:57:58.674636Z');
    expect(hex(reducerOwnArgs(inputs))).toBe('030000006f6d67');
  });

  it('inputs too short for a caller: no caller, all bytes are arguments', () => {
    const short = { reducerName: 'x', reducerArgs: Uint8Array.of(1, 2, 3) };
    expect(decodeCaller(short)).toBeNull();
    expect(hex(reducerOwnArgs(short))).toBe('010203');
  });
});

describe('records that are not Txdata', () => {
  it('are named as such, with the offset of their commit', () => {
    const e = leftOverError({ minTxOffset: 12, n: 1 }, 9900);
    expect(e.offset).toBe(12);
    expect(e.code).toBe('TXDATA_DECODE');
    expect(e.message).toBe(
      'replay stopped at tx offset 12: the records of the commit at tx offset 12 do not look like SpacetimeDB transactions (Txdata): 9900 bytes left over after its 1 record(s)',
    );
  });
});
