/**
 * The replay benchmark's workload: a SpacetimeDB-shaped log generated on disk (one Txdata per commit,
 * as the engine writes them) and a visitor that decodes every row with its table's schema. Rows and
 * system rows come from the replay tests' builder (test/unit/replay/log-builder.ts), so the bench and
 * the tests write the same bytes the same way.
 */
import * as fs from 'node:fs';
import {
  type AlgebraicType,
  type ColumnSchema,
  type Row,
  type RowCodec,
  SYSTEM_TABLES,
  type Txdata,
  type TxdataVisitor,
  rowCodec,
  txdataEncoder,
} from '../src/api/replay.js';
import { type BufReader, Commitlog } from '../src/index.js';
import { FRAMING_LEN } from '../src/api/codec.js';
import { AT, BinaryReader } from '../src/replay/stdb.js';
import { type RawRow, bytesOf, declare, txdata } from '../test/unit/replay/log-builder.js';
import { segmentFiles } from './workloads.js';

export const PLAYER_TABLE = 4096;
export const EVENT_TABLE = 4097;
export const PLAYER: [string, AlgebraicType][] = [
  ['id', AT.U64],
  ['name', AT.String],
  ['x', AT.F32],
  ['y', AT.F32],
  ['score', AT.U32],
];
export const EVENT: [string, AlgebraicType][] = [
  ['id', AT.U64],
  ['kind', AT.String],
  ['payload', AT.Array(AT.U8)],
];
const REDUCERS = ['tick', 'spawn_players', 'record_events'] as const;
const KINDS = ['join', 'move', 'chat', 'score', 'leave'];
/** Reducer arguments `(tick: u64, n: u32)`, BSATN. */
const ARGS: [string, AlgebraicType][] = [
  ['tick', AT.U64],
  ['n', AT.U32],
];

/** What a generated log holds, for checking every pass's result. */
export interface LogContents {
  transactions: number;
  /** Row operations (inserts + deletes) in all transactions, the 10 system rows of tx 0 included. */
  rows: number;
  bytes: number;
  segments: number;
  player: TableCounts;
  event: TableCounts;
  reducers: Record<string, number>;
}

export interface TableCounts {
  inserts: number;
  deletes: number;
  live: number;
}

/** xorshift32: deterministic logs without a dependency. */
class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.x = x >>> 0);
  }
  below(n: number): number {
    return this.next() % n;
  }
}

/**
 * Live rows of one table while generating, the delete candidates: swap-remove keeps a random delete
 * O(1). At most `CANDIDATES` are held (a 1 GB log has ~10 M live rows, more than the heap takes): past
 * that, a new row replaces a random candidate, and the one it replaces just stays live.
 */
const CANDIDATES = 200_000;

class LiveRows {
  readonly rows: RawRow[] = [];
  readonly counts: TableCounts = { inserts: 0, deletes: 0, live: 0 };
  insert(row: RawRow, rng: Rng): void {
    this.counts.inserts++;
    if (this.rows.length < CANDIDATES) this.rows.push(row);
    else this.rows[rng.below(CANDIDATES)] = row;
  }
  /** Removes and returns a random live row. */
  take(rng: Rng): RawRow {
    const i = rng.below(this.rows.length);
    const row = this.rows[i]!;
    this.rows[i] = this.rows[this.rows.length - 1]!;
    this.rows.pop();
    this.counts.deletes++;
    return row;
  }
}

/** Bytes a commit of one record takes at least: its framing, the flags byte and the inputs' header. */
const MIN_TX_OVERHEAD = FRAMING_LEN + 1 + 4 + 1;

function totalBytes(dir: string): number {
  let n = 0;
  for (const f of segmentFiles(dir)) n += fs.statSync(f).size;
  return n;
}

/**
 * Writes a log of at least `targetBytes` bytes to `dir` (a new directory) with `Commitlog.open(dir)`
 * (default options) and `txdataEncoder`: tx 0 declares `player` and `event` in st_table/st_column;
 * every later tx has a reducer call, 8–12 inserts, and one in four deletes 1–6 rows live before it.
 * Event payloads are 16..`maxPayload` bytes.
 */
export function generateLog(dir: string, targetBytes: number, seed = 0x5eed, maxPayload = 240): LogContents {
  const rng = new Rng(seed);
  const playerCodec = rowCodec(PLAYER.map(([name, type]) => ({ name, type })));
  const eventCodec = rowCodec(EVENT.map(([name, type]) => ({ name, type })));
  const argsCodec = rowCodec(ARGS.map(([name, type]) => ({ name, type })));
  // Payload bytes are views into one random buffer: the generator's cost stays in the encoding.
  const noise = new Uint8Array(1 << 16);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.next() & 0xff;

  const players = new LiveRows();
  const events = new LiveRows();
  const reducers: Record<string, number> = {};
  let nextId = 0;
  const log = Commitlog.open(dir, {}, txdataEncoder<RawRow>((row, out) => out.write(row)));
  try {
    const p = declare(PLAYER_TABLE, 'player', PLAYER);
    const e = declare(EVENT_TABLE, 'event', EVENT);
    log.append(txdata({ inserts: [[1, [p.table, e.table]], [2, [...p.columns, ...e.columns]]] }));
    log.flush();
    let transactions = 1;
    let rows = 2 + p.columns.length + e.columns.length;
    for (let bytes = 0; bytes < targetBytes; ) {
      // Deletes first, from the rows live before this transaction (a Txdata holds net effects).
      const deletedPlayers: RawRow[] = [];
      const deletedEvents: RawRow[] = [];
      if (rng.below(4) === 0) {
        for (let k = 1 + rng.below(6); k > 0; k--) {
          if (rng.below(3) === 0 && players.rows.length > 0) deletedPlayers.push(players.take(rng));
          else if (events.rows.length > 0) deletedEvents.push(events.take(rng));
        }
      }
      const inserts = 8 + rng.below(5);
      const numPlayers = rng.below(4);
      const newPlayers: RawRow[] = [];
      const newEvents: RawRow[] = [];
      for (let k = 0; k < inserts; k++) {
        const id = BigInt(nextId++);
        let row: RawRow;
        if (k < numPlayers) {
          const value = {
            id,
            name: `player_${rng.below(100_000)}`,
            x: Math.fround(rng.next() / 0x1000_0000),
            y: Math.fround(rng.next() / 0x1000_0000),
            score: rng.below(1_000_000),
          };
          row = bytesOf((w) => playerCodec.encode(w, value));
          newPlayers.push(row);
          players.insert(row, rng);
        } else {
          const len = 16 + rng.below(maxPayload - 15);
          const at = rng.below(noise.length - len);
          const value = { id, kind: KINDS[rng.below(KINDS.length)]!, payload: noise.subarray(at, at + len) };
          row = bytesOf((w) => eventCodec.encode(w, value));
          newEvents.push(row);
          events.insert(row, rng);
        }
      }
      const reducer = REDUCERS[rng.below(REDUCERS.length)]!;
      reducers[reducer] = (reducers[reducer] ?? 0) + 1;
      // Mutations are ordered by table id, as SpacetimeDB writes them.
      const ops = (a: RawRow[], b: RawRow[]) => [
        ...(a.length > 0 ? [{ tableId: PLAYER_TABLE, rowdata: a }] : []),
        ...(b.length > 0 ? [{ tableId: EVENT_TABLE, rowdata: b }] : []),
      ];
      const tx: Txdata<RawRow> = {
        inputs: { reducerName: reducer, reducerArgs: bytesOf((w) => argsCodec.encode(w, { tick: BigInt(transactions), n: inserts })) },
        mutations: { inserts: ops(newPlayers, newEvents), deletes: ops(deletedPlayers, deletedEvents), truncates: [] },
      };
      log.append(tx);
      log.flush();
      transactions++;
      rows += inserts + deletedPlayers.length + deletedEvents.length;
      // A lower bound of what the commit took (varints and table ids left out), so the log reaches
      // the target without listing the directory after every commit (slow on some file systems).
      bytes += MIN_TX_OVERHEAD + reducer.length + tx.inputs!.reducerArgs.length;
      for (const r of [...newPlayers, ...newEvents, ...deletedPlayers, ...deletedEvents]) bytes += r.length;
    }
    players.counts.live = players.counts.inserts - players.counts.deletes;
    events.counts.live = events.counts.inserts - events.counts.deletes;
    return {
      transactions,
      rows,
      bytes: totalBytes(dir),
      segments: segmentFiles(dir).length,
      player: players.counts,
      event: events.counts,
      reducers,
    };
  } finally {
    log.close();
  }
}

/**
 * Decodes every row with its table's schema, known up front (st_table and st_column from the system
 * table schemas, the user tables from their columns), the way `ReplayVisitor` reads rows but without
 * applying them. Counts what it sees.
 */
export class SchemaVisitor implements TxdataVisitor<Row> {
  transactions = 0;
  rows = 0;
  private readonly codecs = new Map<number, RowCodec>();
  private readonly bin = new BinaryReader(new Uint8Array(0));
  private binBytes: Uint8Array | null = null;

  constructor(userTables: { tableId: number; columns: ColumnSchema[] }[]) {
    for (const t of [...SYSTEM_TABLES, ...userTables]) this.codecs.set(t.tableId, rowCodec(t.columns));
  }

  visitTxStart(): void {
    this.transactions++;
  }

  visitInsert(tableId: number, reader: BufReader): Row {
    return this.read(tableId, reader);
  }

  visitDelete(tableId: number, reader: BufReader): Row {
    return this.read(tableId, reader);
  }

  skipRow(tableId: number, reader: BufReader): void {
    this.read(tableId, reader);
  }

  private read(tableId: number, reader: BufReader): Row {
    const codec = this.codecs.get(tableId);
    if (!codec) throw new Error(`no schema for table ${tableId}`);
    // One package reader per commit buffer, moved to the row (as ReplayVisitor does).
    if (this.binBytes !== reader.bytes) {
      this.bin.reset(reader.bytes);
      this.binBytes = reader.bytes;
    }
    this.bin.offset = reader.pos;
    const row = codec.decode(this.bin);
    reader.skip(this.bin.offset - reader.pos);
    this.rows++;
    return row;
  }
}

/** The visitor for the generated log's two user tables. */
export function benchVisitor(): SchemaVisitor {
  const cols = (c: [string, AlgebraicType][]) => c.map(([name, type]) => ({ name, type }));
  return new SchemaVisitor([
    { tableId: PLAYER_TABLE, columns: cols(PLAYER) },
    { tableId: EVENT_TABLE, columns: cols(EVENT) },
  ]);
}
