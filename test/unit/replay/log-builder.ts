/**
 * Synthetic SpacetimeDB-shaped logs for the replay tests: Txdata records in a MemoryRepo, rows
 * encoded with the `spacetimedb` package's BinaryWriter. System rows are written field by field from
 * the Rust struct layouts (StTableRow, StColumnRow), not through the replay's own schemas.
 */
import {
  type AlgebraicType,
  type Txdata,
  encodeAlgebraicType,
  rowCodec,
  txdataEncoder,
} from '../../../src/api/replay.js';
import { GenericLog, MemoryRepo } from '../../../src/index.js';
import { BinaryWriter } from '../../../src/replay/stdb.js';

export type RawRow = Uint8Array;

export function bytesOf(write: (w: InstanceType<typeof BinaryWriter> & Record<string, any>) => void): Uint8Array {
  const w = new BinaryWriter(64) as InstanceType<typeof BinaryWriter> & Record<string, any>;
  write(w);
  return w.getBuffer().slice();
}

/** StTableRow { table_id: u32, table_name: String, table_type: String, table_access: String, table_primary_key: Option<Array<u16>> } */
export function stTableRow(tableId: number, name: string, type = 'user', access = 'public', pk: number[] | null = null): RawRow {
  return bytesOf((w) => {
    w.writeU32(tableId);
    w.writeString(name);
    w.writeString(type);
    w.writeString(access);
    if (pk === null) w.writeU8(1);
    else {
      w.writeU8(0);
      w.writeU32(pk.length);
      for (const c of pk) w.writeU16(c);
    }
  });
}

/** StColumnRow { table_id: u32, col_pos: u16, col_name: String, col_type: Array<u8> (AlgebraicType BSATN) } */
export function stColumnRow(tableId: number, pos: number, name: string, type: AlgebraicType | Uint8Array): RawRow {
  const typeBytes = type instanceof Uint8Array ? type : encodeAlgebraicType(type);
  return bytesOf((w) => {
    w.writeU32(tableId);
    w.writeU16(pos);
    w.writeString(name);
    w.writeUInt8Array(typeBytes);
  });
}

/** A row of a table with these columns, through the package's serializer. */
export function userRow(columns: [string, AlgebraicType][], value: Record<string, unknown>): RawRow {
  const codec = rowCodec(columns.map(([name, type]) => ({ name, type })));
  return bytesOf((w) => codec.encode(w, value));
}

/** st_table + st_column rows declaring a user table. */
export function declare(tableId: number, name: string, columns: [string, AlgebraicType][]): { table: RawRow; columns: RawRow[] } {
  return {
    table: stTableRow(tableId, name),
    columns: columns.map(([n, t], i) => stColumnRow(tableId, i, n, t)),
  };
}

export type Ops = [tableId: number, rows: RawRow[]][];

export interface TxSpec {
  reducer?: string;
  inserts?: Ops;
  deletes?: Ops;
  truncates?: number[];
}

export function txdata(spec: TxSpec): Txdata<RawRow> {
  return {
    inputs: spec.reducer === undefined ? undefined : { reducerName: spec.reducer, reducerArgs: new Uint8Array(0) },
    mutations: {
      inserts: (spec.inserts ?? []).map(([tableId, rowdata]) => ({ tableId, rowdata })),
      deletes: (spec.deletes ?? []).map(([tableId, rowdata]) => ({ tableId, rowdata })),
      truncates: spec.truncates ?? [],
    },
  };
}

/** A memory log with one transaction per commit (as SpacetimeDB writes them). */
export function buildLog(txs: (TxSpec | Txdata<RawRow>)[]): MemoryRepo {
  const repo = new MemoryRepo();
  const log = GenericLog.open(repo, {}, txdataEncoder<RawRow>((row, out) => out.write(row)));
  for (const t of txs) {
    log.append('mutations' in t || 'inputs' in t || 'outputs' in t ? (t as Txdata<RawRow>) : txdata(t as TxSpec));
    log.commit();
  }
  log.close();
  return repo;
}
